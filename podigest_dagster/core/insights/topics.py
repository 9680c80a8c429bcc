"""A short topic line for each idea ("Heat pumps in deep cold", "Nvidia: GPU export rules"), taken from the
cluster itself: the named things and key phrases its supporting passages share, and their episode titles.
With its topic, an item can be understood by someone who heard none of the episodes."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from podigest_dagster.core.insights.candidates import GENERIC_WORDS
from podigest_dagster.core.insights.claims import is_rare
from podigest_dagster.core.insights.embedding import vocabulary_rank
from podigest_dagster.core.insights.scoring import STOPWORDS

MAX_TOPIC_CHARS = 70
MAX_PHRASE_WORDS = 3

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’&.+-]*[A-Za-z0-9+]|[A-Za-z0-9]")
_BREAK = re.compile(r"[.,;:!?()\[\]\"“”—–]|\s-\s")
_TITLE_NOISE = re.compile(
    r"\s*(?:\|.*$|#\s*\d+|\b(?:ep(?:isode)?|part|pt)\.?\s*\d+\b|\b\d{4}-\d{2}-\d{2}\b|\(\s*\)|\[\s*\])", re.I
)
_JOINERS = {"of", "the", "and", "&", "for", "de", "van", "von"}
_WEAK = STOPWORDS | GENERIC_WORDS | {
    "yeah", "okay", "gonna", "wanna", "lot", "lots", "guys", "guy", "today", "episode", "podcast", "show",
    "talk", "talking", "conversation", "question", "answer", "idea", "ideas", "way", "ways", "kind", "bit",
    "everybody", "somebody", "anybody", "folks", "stuff", "pretty", "able", "sure", "totally", "exactly",
    "whether", "new", "latest", "modern", "simple", "plain", "big", "small", "huge", "real", "true",
    "anymore", "anyway", "already", "ever", "else", "outside", "inside", "actual",
}


def clean_title(title: str, podcast: str = "") -> str:
    """An episode title without the show's name, episode numbers, dates and trailing '| ...' parts."""
    text = _TITLE_NOISE.sub(" ", title or "")
    if podcast:
        text = re.sub(re.escape(podcast), " ", text, flags=re.I)
    return " ".join(text.split()).strip(" -:|")


def _chunks(text: str) -> list[list[str]]:
    """Word runs between punctuation breaks."""
    return [_WORD.findall(part) for part in _BREAK.split(text) if part.strip()]


_POSSESSIVE = re.compile(r"['’]s$")
_CONTRACTED = re.compile(r"^([A-Za-z]+)['’](?:m|s|re|ve|d|ll|t)$", re.I)


def _is_contraction(word: str) -> bool:
    """'I'm', 'It's', 'That's', 'Don't', 'We've': a pronoun or an auxiliary with its ending, never a name
    ('McDonald's' and 'Lenny's' stay names)."""
    m = _CONTRACTED.match(word)
    return bool(m) and (m.group(1).lower() in STOPWORDS or m.group(1).lower() in _CONTRACTION_HEADS)


_CONTRACTION_HEADS = frozenset("i it that there here what who let don won can isn aren doesn didn wasn weren".split())


# 'Windows-specific', 'AI-powered': a name with a lower-case modifier hyphened on names what is before it.
_NAME_MODIFIED = re.compile(r"^([A-Z][\w.&+]*)-[a-z]+$")


def entity_phrases(text: str) -> list[str]:
    """Runs of capitalised words (joined by 'of', 'the', '&' ...) that are names, not sentence openers:
    a lone capitalised word at the start of a sentence or chunk is skipped unless it is an acronym, and a
    lone letter ('increase revenue by X, or retention by Y') is a placeholder, never a name."""
    found = []
    for chunk in _chunks(text):
        chunk = [_NAME_MODIFIED.sub(r"\1", w) for w in chunk]
        run: list[str] = []
        run_start = 0
        for position, word in enumerate([*chunk, ""]):
            capital = (
                bool(word) and (word[0].isupper() or word[0].isdigit() and run) and word.lower() != "i"
                and not _is_contraction(word)
            )
            if capital or (run and word.lower() in _JOINERS):
                if not run:
                    run_start = position
                run.append(word)
                continue
            while run and run[-1].lower() in _JOINERS:
                run.pop()
            opener = run_start == 0  # the run opens its chunk (joiners dropped from its end do not count)
            if run and not (opener and len(run) == 1 and not run[0].isupper()):
                words = run[1:] if opener and run[0].lower() in _WEAK else run
                if len(words) > 1:  # "Tim Ferriss's" names Tim Ferriss
                    words = [*words[:-1], _POSSESSIVE.sub("", words[-1])]
                if words and not all(w.lower() in _WEAK for w in words) and not (len(words) == 1 and len(words[0]) == 1):
                    found.append(" ".join(words))
            run = []
    return found


def key_phrases(text: str) -> list[str]:
    """Content-word runs of one to three words (no weak word at either end), lower-cased unless a name."""
    found = []
    for chunk in _chunks(text):
        shown = [w if _keeps_case(w) or (j > 0 and w[0].isupper()) else w.lower() for j, w in enumerate(chunk)]
        for size in range(1, MAX_PHRASE_WORDS + 1):
            for i in range(len(chunk) - size + 1):
                gram = [w.lower() for w in chunk[i : i + size]]
                if gram[0] in _WEAK or gram[-1] in _WEAK or len(gram[-1]) < 3:
                    continue
                if any(_is_contraction(w) for w in gram):  # "there's architectural decisions" is a clause
                    continue
                if any(w in _WEAK and w not in _JOINERS for w in gram[1:-1]):
                    continue
                found.append(" ".join(shown[i : i + size]))
    return found


def _keeps_case(word: str) -> bool:
    """An acronym, a name spelled with inner capitals ('NASA', 'OpenAI', 'iPhone', 'PRDs') or a capitalised
    word the vocabulary does not hold whole ('Qwen', 'Huberman'): shown as said, even at the start of a
    chunk."""
    return word.isupper() or any(ch.isupper() for ch in word[1:]) or (
        word[:1].isupper() and word[1:].isalpha() and word.lower() not in vocabulary_rank()
    )


def _specificity(phrase: str) -> float:
    words = [w.lower() for w in phrase.split()]
    rare = sum(1 for w in words if is_rare(w) or any(ch.isdigit() for ch in w))
    return 1.0 + 0.6 * rare + 0.35 * (len(words) - 1)


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


_VERBISH_END = re.compile(r"(?:ly|ed)$")
_VERBS = {
    "is", "are", "was", "were", "be", "make", "makes", "made", "get", "gets", "got", "go", "goes", "went",
    "say", "says", "said", "keep", "keeps", "shows", "show", "shapes", "compound", "compounds", "work",
    "works", "cut", "cuts", "need", "needs", "use", "uses", "think", "find", "finds", "lose", "loses",
    "win", "wins", "give", "gives", "take", "takes", "run", "runs", "build", "builds", "pay", "pays",
    "hold", "holds", "ship", "ships", "sell", "sells", "stay", "stays", "remove", "removes", "train",
    "trains", "decide", "decides", "recognise", "recognize", "require", "requires", "forces", "force",
    "came", "comes", "come", "took", "gave", "told", "tells", "tell", "knew", "knows",
    "know", "thought", "thinks", "found", "became", "becomes", "become", "began", "begins", "begin", "ran",
    "saw", "sees", "see", "built", "bought", "brought", "bring", "felt", "feels", "feel", "kept", "left",
    "leave", "meant", "means", "mean", "put", "puts", "set", "sold", "sent", "spent", "stood", "won",
    "wrote", "writes", "want", "wants", "like", "likes", "love", "loves", "try", "tries", "tried", "start",
    "starts", "started", "happen", "happens", "happened", "let", "lets", "seem", "seems", "seemed", "call",
    "calls", "called", "ask", "asks", "asked", "look", "looks", "looked", "turn", "turns", "turned", "move",
    "moves", "moved", "live", "lives", "believe", "believes", "allow", "allows", "grow", "grows", "grew",
    "lead", "leads", "led", "help", "helps", "change", "changes", "play", "plays", "talk", "talks", "does",
    "did", "has", "had", "have", "can", "could", "will", "would", "should", "might", "must", "may",
    "read", "reads", "open", "opens", "opened", "beat", "beats", "learn", "learns", "learned", "pull",
    "pulls", "push", "pushes", "drive", "drives", "write", "reach", "reaches", "attain", "attains",
    "remember", "remembers", "forget", "forgets", "eliminate", "eliminates", "pick", "picks", "choose", "chooses",
}


# Words ending in -ly that are nouns or adjectives a subject can hold, not adverbs.
_LY_NOUNS = frozenset(
    "family supply assembly anomaly monopoly rally ally reply italy july butterfly belly jelly bully holy "
    "early daily weekly monthly yearly quarterly elderly friendly lonely lovely likely only ugly silly "
    "oily curly costly deadly".split()
)


def _is_adverb(word: str) -> bool:
    return word.islower() and word.endswith("ly") and len(word) > 5 and word not in _LY_NOUNS


def _noun_like(phrase: str) -> bool:
    """A phrase that can name a subject: no verb or adverb inside it ('engineers started using', 'teams saw
    smaller', 'PMs incredibly productive' are pieces of a clause), and it does not end in an adverb, a past
    participle or a verb."""
    words = phrase.split()
    first, last = words[0], words[-1]
    if first.lower() in _VERBS or (first.endswith("ing") and first.islower() and len(words) > 1):
        return False
    if any(_is_adverb(w) for w in words):
        return False
    if any(w.islower() and (w in _VERBS or (w.endswith("ed") and len(w) > 4)) for w in words[1:-1]):
        return False
    if len(words) > 2 and first.islower() and words[1].lower() in {"the", "a", "an"}:
        return False  # 'prevent the heart', 'reduce the risk': a verb and its object, not a subject
    if last.isupper() or last[0].isupper():
        return True
    return not (_VERBISH_END.search(last) or last in _VERBS)


def candidate_phrases(texts: Sequence[str], titles: Sequence[str] = ()) -> Counter[str]:
    """Names and key phrases of the passages (the representative counts double) and the titles, weighted."""
    counts: Counter[str] = Counter()
    sources = [(t, 2.0 if i == 0 else 1.0) for i, t in enumerate(texts)] + [(t, 0.8) for t in titles if t]
    for text, weight in sources:
        for phrase in set(entity_phrases(text)) | {p for p in key_phrases(text) if _noun_like(p)}:
            counts[phrase] += weight
    return counts


def cluster_topic(
    texts: Sequence[str], titles: Sequence[str] = (), embed: Callable[[list[str]], np.ndarray] | None = None
) -> str:
    """The topic line of an idea from its passages (the representative first) and its episode titles.

    With `embed`, the key phrase is the candidate closest in meaning to the passages (then frequency and
    specificity break ties); without it, the most frequent specific phrase. A name said in several places
    leads the line ("Nvidia: export licences")."""
    counts = candidate_phrases(texts, titles)
    names = Counter({p: n for p, n in counts.items() if p in set().union(*(entity_phrases(t) for t in texts))})
    phrases = {p: n for p, n in counts.items() if p not in names and (n >= 1.5 or len(texts) == 1)}
    best_phrase = _closest_phrase(phrases, texts, embed) if embed else _best_phrase(
        {p: n * _specificity(p) for p, n in phrases.items()}
    )
    best_phrase = _completed(best_phrase, phrases)
    best_name = max(names, key=lambda n: (names[n] * _specificity(n), len(n)), default=None)
    if best_name and names[best_name] >= 2.0:
        best_phrase = _without_name_words(best_phrase, best_name)
        name, phrase = best_name.lower(), (best_phrase or "").lower()
        if phrase and name in phrase:
            topic = _capitalised(best_phrase)
        elif phrase and phrase not in name:
            topic = f"{best_name}: {best_phrase}"
        else:
            topic = best_name
    elif best_phrase:
        topic = _capitalised(best_phrase)
    else:
        topic = _capitalised(next((clean for clean in titles if clean), "")) or "An idea from today's episodes"
    return _shorten(topic)


# Adjective endings: a phrase ending in one ('deep neural', 'economic') usually stops short of its noun.
_ADJECTIVE_END = re.compile(r"(?:al|ive|ous|ic|ful|less|able|ible)$")


def _completed(phrase: str | None, phrases: dict[str, float]) -> str | None:
    """A phrase that ends in an adjective, extended by the word it qualifies when the passages always say
    the two together ('deep neural' -> 'deep neural networks')."""
    if not phrase or not _ADJECTIVE_END.search(phrase.split()[-1].lower()):
        return phrase
    size, low = len(phrase.split()), phrase.lower() + " "
    longer = [p for p in phrases if len(p.split()) == size + 1 and p.lower().startswith(low) and phrases[p] >= phrases[phrase]]
    return max(longer, key=lambda p: (phrases[p], p)) if longer else phrase


def _without_name_words(phrase: str | None, name: str) -> str | None:
    """The key phrase without the words of the name leading it ('Ferriss's failure resume' beside 'Tim
    Ferriss' is 'failure resume'), unless the whole name is in it."""
    if not phrase or name.lower() in phrase.lower():
        return phrase
    name_words = {_POSSESSIVE.sub("", w).lower() for w in name.split()}
    words = phrase.split()
    while words and _POSSESSIVE.sub("", words[0]).lower() in name_words:
        words.pop(0)
    return " ".join(words) or None


MAX_PHRASES_EMBEDDED = 60


def _closest_phrase(
    phrases: dict[str, float], texts: Sequence[str], embed: Callable[[list[str]], np.ndarray]
) -> str | None:
    """The phrase whose embedding is closest to the passages' centre, nudged by frequency and length."""
    if not phrases:
        return None
    pool = sorted(phrases, key=lambda p: (-phrases[p] * _specificity(p), p))[:MAX_PHRASES_EMBEDDED]
    vectors = np.asarray(embed([*texts, *pool]), dtype=np.float32)
    centre = vectors[: len(texts)].mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-9)
    closeness = vectors[len(texts) :] @ centre
    value = {
        p: float(c) + 0.04 * math.log1p(phrases[p]) + 0.03 * (len(p.split()) - 1) for p, c in zip(pool, closeness, strict=True)
    }
    return max(value, key=lambda p: (value[p], p))


def _best_phrase(scored: dict[str, float]) -> str | None:
    """The highest-scoring phrase; a longer phrase wins over the shorter ones it contains when close."""
    if not scored:
        return None
    ranked = sorted(scored, key=lambda p: (-scored[p], -len(p), p))
    best = ranked[0]
    for phrase in ranked[1:6]:
        if best in phrase and scored[phrase] >= 0.6 * scored[best]:
            best = phrase
    return best


def _shorten(topic: str) -> str:
    topic = " ".join(topic.split())
    if len(topic) <= MAX_TOPIC_CHARS:
        return topic
    cut = topic[: MAX_TOPIC_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,:;-") + "…"
