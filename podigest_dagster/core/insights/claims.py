"""Whether two passages state the same claim, not just the same topic or tone: the rule behind support.

Two shows back one idea only when their passages are close in meaning AND share the claim's specific
content: named things (people, companies, products, places), numbers, and rare words. Conversational
openers, banter and hedges share tone and common words but none of that, so they never add up to support.
"""

from __future__ import annotations

import re
from functools import lru_cache

from podigest_dagster.core.insights.candidates import GENERIC_WORDS, content_words
from podigest_dagster.core.insights.embedding import bundled_model_dir
from podigest_dagster.core.insights.scoring import NUMBER, shipped_floors

# A passage below this insight score never adds support (and the ranking never sends it: one floor).
QUALITY_FLOOR = shipped_floors().send
# A word is rare when the embedding model's vocabulary (roughly ordered by frequency) ranks it past this,
# or does not hold it whole.
RARE_RANK = 7000
# Same claim (see same_claim): cosine and shared content together. A shared specific term weighs 1, another
# shared content word COMMON_WORD_WEIGHT (calibrated on the hand-labelled pairs in bench/support_pairs.json).
SAME_CLAIM_COSINE = 0.5
STRONG_COSINE = 0.72
PARAPHRASE_COSINE = 0.8
MIN_SHARED_SPECIFIC = 2
MIN_SHARED_WEIGHT = 2.0
COMMON_WORD_WEIGHT = 0.4

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


@lru_cache(maxsize=1)
def _vocabulary_rank() -> dict[str, int]:
    try:
        lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return {}
    return {word: rank for rank, word in enumerate(lines) if word.isalpha()}


def is_rare(word: str) -> bool:
    """A lower-case content word the model's vocabulary ranks as uncommon (or does not hold whole)."""
    rank = _vocabulary_rank().get(word)
    return len(word) >= 4 and word not in GENERIC_WORDS and (rank is None or rank > RARE_RANK)


def _stem(word: str) -> str:
    return word[:6]


def specific_terms(text: str) -> set[str]:
    """The claim-bearing terms of a passage: named things (capitalised inside a sentence, acronyms,
    words with digits), numbers (words and digits alike), and rare words, normalised for comparison."""
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    terms: set[str] = set()
    for match in _TOKEN.finditer(text):
        token = match.group(0).rstrip(".,")
        low = token.lower()
        if NUMBER.fullmatch(low) or token[0].isdigit() or low in _NUMBER_WORDS:
            terms.add("#" + _NUMBER_WORDS.get(low, low.replace(",", "")))
        elif (token.isupper() and len(token) >= 2) or any(ch.isdigit() for ch in token):
            terms.add("@" + low)
        elif token[0].isupper() and match.start() not in starts and low not in GENERIC_WORDS and low != "i":
            terms.add("@" + low)
        elif low.isalpha() and is_rare(low):
            terms.add(_stem(low))
    return {t for t in terms if t not in {"#1", "@i"}}


def shared_specific_terms(a: str, b: str) -> set[str]:
    """The specific terms two passages have in common (a named thing also matches its rare-word form)."""
    ta, tb = specific_terms(a), specific_terms(b)
    plain_a = {t.lstrip("@") if t.startswith("@") else t for t in ta}
    plain_b = {t.lstrip("@") if t.startswith("@") else t for t in tb}
    stems_a = {_stem(t) if not t.startswith("#") else t for t in plain_a}
    stems_b = {_stem(t) if not t.startswith("#") else t for t in plain_b}
    return stems_a & stems_b


def shared_content_weight(a: str, b: str) -> float:
    """How much claim content two passages share: 1 per specific term, COMMON_WORD_WEIGHT per other content
    word (stemmed), so paraphrases in plain words still count and tone alone never does."""
    specific = shared_specific_terms(a, b)
    common = {_stem(w) for w in content_words(a)} & {_stem(w) for w in content_words(b)}
    return len(specific) + COMMON_WORD_WEIGHT * len(common - specific)


def same_claim(a: str, b: str, cosine: float) -> bool:
    """True when two passages state the same specific claim (see the module docstring): close in meaning
    and sharing at least two specific terms; or closer, with one specific term; or a near paraphrase in
    plain words. One shared name plus common words is a shared topic, not a shared claim."""
    if cosine < SAME_CLAIM_COSINE:
        return False
    specific = len(shared_specific_terms(a, b))
    weight = shared_content_weight(a, b)
    if specific >= MIN_SHARED_SPECIFIC and weight >= MIN_SHARED_WEIGHT:
        return True
    if cosine >= STRONG_COSINE and specific >= 1 and weight >= MIN_SHARED_WEIGHT:
        return True
    return cosine >= PARAPHRASE_COSINE and weight >= MIN_SHARED_WEIGHT
