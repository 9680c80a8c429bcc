"""Whether two passages state the same claim, not just the same topic or tone: the rule behind support.

Two shows back one idea only when their passages are close in meaning AND share the claim's specific
content: named things (people, companies, products, places), numbers, and rare words. Conversational
openers, banter and hedges share tone and common words but none of that, so they never add up to support.

Shared names alone place two passages in one story, not one claim: on a day when several shows discuss
"Claude Code" or "OpenAI and Anthropic", most of their passages name them (hand-labelled real pairs:
nearly all such pairs state different things). A claim also shares what is said about the named things:
its numbers and rare words. A name of several words ("Hugging Face") is one named thing, and one word
counts once whatever its form ("evals", "eval").
"""

from __future__ import annotations

import re
from functools import lru_cache

from podigest_dagster.core.insights.candidates import GENERIC_WORDS, content_words
from podigest_dagster.core.insights.embedding import vocabulary_rank
from podigest_dagster.core.insights.scoring import NUMBER, shipped_floors

# A passage below this insight score never adds support (and the ranking never sends it: one floor).
QUALITY_FLOOR = shipped_floors().send
# A word is rare when the embedding model's vocabulary (roughly ordered by frequency) ranks it past this,
# or does not hold it whole.
RARE_RANK = 7000
# Same claim (see same_claim): cosine and shared content together. A shared specific term (named thing,
# number or rare word) weighs 1, another shared content word COMMON_WORD_WEIGHT; at least
# MIN_SHARED_CLAIM_TERMS of the shared specific terms must be numbers or rare words, not names (calibrated
# on the dev pairs of bench/support_pairs.json; `bench/real_eval.py --score-rule` scores it).
SAME_CLAIM_COSINE = 0.5
CLOSE_COSINE = 0.7
PARAPHRASE_COSINE = 0.8
MIN_SHARED_CLAIM_TERMS = 2
MIN_SHARED_WEIGHT = 2.0
COMMON_WORD_WEIGHT = 0.4
# Counts below ten said as words ("two camps", "one of three things") structure speech more often than they
# state a quantity: they are content words, not claim numbers. Digits and larger numbers stay numbers.
SMALL_NUMBER_WORDS = frozenset("one two three four five six seven eight nine".split())
# ... unless they measure something: "three times the heat", "about three units", "two degrees".
_MEASURED = frozenset(
    "times percent per units unit hours hour minutes days weeks months years degrees dollars euros pounds "
    "cents kilos kilograms kilometres kilometers miles metres meters grams litres liters fold hundred "
    "thousand million billion trillion thirds quarters".split()
)
_APPROXIMATELY = frozenset("about roughly around nearly almost approximately some over under only".split())

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’&.-]*[A-Za-z0-9]|[A-Za-z]|\d[\d,.]*%?")
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100",
    "thousand": "1000", "million": "1e6", "billion": "1e9", "trillion": "1e12", "half": "0.5", "percent": "%",
    "thousands": "1000", "millions": "1e6", "billions": "1e9", "hundreds": "100", "dozens": "12",
    "twice": "2x", "double": "2x", "doubled": "2x", "triple": "3x", "tripled": "3x",
}
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([A-Za-z][\w'’-]*)")


def is_rare(word: str) -> bool:
    """A lower-case content word the model's vocabulary ranks as uncommon (or does not hold whole)."""
    rank = vocabulary_rank().get(word)
    return len(word) >= 4 and word not in GENERIC_WORDS and (rank is None or rank > RARE_RANK)


def _stem(word: str) -> str:
    """One form per word for comparison: plural 's' dropped as content_words does, then the first six letters."""
    return (word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word)[:6]


def _is_pronoun_i(low: str) -> bool:
    return low == "i" or low.startswith(("i'", "i’"))


def specific_terms(text: str) -> set[str]:
    """The claim-bearing terms of a passage: named things (capitalised inside a sentence, acronyms,
    words with digits; '@'), numbers (words and digits alike; '#'), and rare words, normalised for
    comparison."""
    return {term for group in _term_groups(text) for term in group}


@lru_cache(maxsize=4096)
def _term_groups(text: str) -> tuple[frozenset[str], ...]:
    """The passage's specific terms grouped by what they name: the words of one multi-word name ("Hugging
    Face Hub", adjacent with only a space between) form one group; every number and rare word is its own.
    Cached: clustering compares each representative with many members."""
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    groups: list[set[str]] = []
    name_end = -1
    matches = list(_TOKEN.finditer(text))
    lows = [m.group(0).rstrip(".,").lower() for m in matches]
    for position, match in enumerate(matches):
        token = match.group(0).rstrip(".,")
        low = token.lower()
        if NUMBER.fullmatch(low) or token[0].isdigit() or low in _NUMBER_WORDS:
            if low not in SMALL_NUMBER_WORDS or _measures(lows, position):
                groups.append({"#" + _NUMBER_WORDS.get(low, low.replace(",", ""))})
            continue
        named = (token.isupper() and len(token) >= 2) or any(ch.isdigit() for ch in token) or (
            token[0].isupper() and match.start() not in starts and low not in GENERIC_WORDS
        )
        if named and not _is_pronoun_i(low):
            if groups and name_end >= 0 and text[name_end : match.start()] == " ":
                groups[-1].add("@" + low)
            else:
                groups.append({"@" + low})
            name_end = match.start() + len(token)
            continue
        name_end = -1
        if low.isalpha() and is_rare(low):
            groups.append({_stem(low)})
    return tuple(frozenset(g) for g in groups if g - {"#1", "@i"})


def _measures(lows: list[str], position: int) -> bool:
    """A small count said as a word that states a quantity: a unit after it ('three times', 'two degrees')
    or an approximation before it ('about three')."""
    after = lows[position + 1] if position + 1 < len(lows) else ""
    before = lows[position - 1] if position else ""
    return after in _MEASURED or before in _APPROXIMATELY


def _comparable(term: str) -> str:
    """A term as compared across passages: numbers as they are, names and rare words by stem (a named thing
    also matches its rare-word form)."""
    return term if term.startswith("#") else _stem(term.lstrip("@"))


def shared_specific_terms(a: str, b: str) -> set[str]:
    """The specific terms two passages have in common, by stem."""
    return {_comparable(t) for t in specific_terms(a)} & {_comparable(t) for t in specific_terms(b)}


def _merged(groups: list[set[str]]) -> list[set[str]]:
    """Groups that share a term joined into one ("Claude Code" and a later "Claude" name one thing)."""
    out: list[set[str]] = []
    for group in groups:
        overlapping = [g for g in out if g & group]
        for g in overlapping:
            out.remove(g)
            group = group | g
        out.append(group)
    return out


def shared_claim_content(a: str, b: str) -> tuple[int, int]:
    """(shared named things, shared numbers and rare words) of two passages. A word said twice counts once;
    a multi-word name counts once, on the side where it makes fewer groups, so "Claude Code" in both
    passages is one named thing, not two terms."""
    shared = shared_specific_terms(a, b)
    counts = []
    for text in (a, b):
        names, claims = [], []
        for group in _term_groups(text):
            found = {_comparable(t) for t in group} & shared
            if found:
                (names if any(t.startswith("@") for t in group) else claims).append(found)
        counts.append((len(_merged(names)), len(_merged(claims))))
    return min(c[0] for c in counts), min(c[1] for c in counts)


def shared_content_weight(a: str, b: str) -> float:
    """How much claim content two passages share: 1 per named thing, number or rare word, COMMON_WORD_WEIGHT
    per other content word (stemmed), so paraphrases in plain words still count and tone alone never does."""
    return _content_weight(a, b, *shared_claim_content(a, b))


def _content_weight(a: str, b: str, names: int, claims: int) -> float:
    specific = shared_specific_terms(a, b)
    common = {_stem(w) for w in content_words(a)} & {_stem(w) for w in content_words(b)}
    return names + claims + COMMON_WORD_WEIGHT * len(common - specific)


def same_claim(a: str, b: str, cosine: float) -> bool:
    """True when two passages state the same specific claim (see the module docstring): close in meaning
    and sharing at least two numbers or rare words; or closer (CLOSE_COSINE) with one number or rare word
    and enough shared content without counting names (a paraphrase Whisper garbled: 'a good night's sleep
    after studying helps you remember more' / 'students who study and then get a full night of sleep
    remember far more', cosine 0.73); or a near paraphrase in plain words. Shared names with
    common words are a shared topic, not a shared claim, and so is one name with one rare word, however
    close the two passages sound ('Claude Code' and 'coding' in a passage about harnesses and in one about
    learning to code: cosine 0.74 on a real held-out pair)."""
    if cosine < SAME_CLAIM_COSINE:
        return False
    names, claims = shared_claim_content(a, b)
    weight = _content_weight(a, b, names, claims)
    if claims >= MIN_SHARED_CLAIM_TERMS and weight >= MIN_SHARED_WEIGHT:
        return True
    if cosine >= CLOSE_COSINE and claims >= 1 and weight - names >= MIN_SHARED_WEIGHT:
        return True
    return cosine >= PARAPHRASE_COSINE and weight >= MIN_SHARED_WEIGHT
