"""Sponsor reads found as spans: a learned per-sentence probability, then span logic.

Each sentence gets p(sponsor read) from a logistic model (models/ads.json, fitted by `make train`) over its
MiniLM vector, the mean vector of its neighbours (a product sentence inside a read sounds like the read
around it) and a few cues: the phrase list, web addresses, promo codes, offer words, selling in the second
person, position in the episode. A read opens on a confident sentence, runs while the sentences around it
stay above a lower bar (short dips bridged) and closes when the show resumes; the whole span is removed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from podigest_dagster.core.insights.learned import LinearModel, load_model

MODEL_NAME = "ads"
CONTEXT = 2

URL = re.compile(
    r"\b[a-z0-9][\w-]*(?:\.| dot )(?:com|org|net|io|co|ai|app|dev|fm|tech|tv|us|al|ly|me|software)\b", re.I
)
URL_PATH = re.compile(r"\.[a-z]{2,8}/\w|\bslash \w+|\b(?:www|http)", re.I)
EMAIL = re.compile(r"\b\w+ ?(?:@| at ) ?\w+(?:\.| dot )(?:com|org|net|io|co|ai)\b", re.I)
SPELLED = re.compile(r"\b(?:[A-Z]-){2,}[A-Z]\b")
CODE = re.compile(
    r"\b(?:promo(?:tion(?:al)?)?|discount|coupon|offer) code\b|\b(?:use|enter|with) (?:the )?code\b|\bcode (?-i:[A-Z0-9]{3,})\b",
    re.I,
)
OFFER = re.compile(
    r"\b(?:free|trial|discount|percent off|% off|\d+ ?% off|off your|first (?:month|order|box|purchase|year)|"
    r"sign up|get started|special offer|limited time|exclusive|risk[- ]free|money[- ]back|guarantee|credits?|"
    r"bonus|save \w+|no (?:commitment|contract)|today|right now|for (?:our )?listeners|our (?:audience|listeners))\b",
    re.I,
)
SPONSOR = re.compile(
    r"\b(?:sponsor\w*|partner(?:s|ship)?|brought to you|presented by|supported by|support(?:ing)? (?:the|this) (?:show|podcast)|"
    r"made possible|paid for by|word from|message from|thanks? to (?:our|the folks)|backing the show|keeps? (?:this|the) show)\b",
    re.I,
)
ENDORSE = re.compile(
    r"\bi(?:'ve| have)? (?:been )?(?:use|using|love|rely on|recommend|switched to|tried|keep)\b|\bmy favou?rite\b", re.I
)
VISIT = re.compile(r"\b(?:go|head|visit|check out|learn more|find out more|sign up|try|get|download)\b", re.I)
PRICE = re.compile(r"\$\s?\d|\b\d[\d,.]* (?:dollars|bucks|euros|pounds)\b|\bper month\b|\ba month\b", re.I)
SECOND = re.compile(r"\b(?:you|your|you're|yours|you'll)\b", re.I)
FIRST_PLURAL = re.compile(r"\b(?:we|our|us|we're)\b", re.I)
WORD = re.compile(r"[\w'’-]+")

CUE_NAMES: tuple[str, ...] = (
    "ad_phrase", "url", "url_path", "email", "spelled", "code", "offer", "sponsor_words", "endorse", "visit",
    "price", "second_person", "first_plural", "log_words", "position", "near_start", "near_end",
)
DIM = 384
FEATURE_NAMES: tuple[str, ...] = (
    CUE_NAMES + tuple(f"v{i}" for i in range(DIM)) + tuple(f"ctx{i}" for i in range(DIM))
)


@dataclass(frozen=True)
class SpanRule:
    """A read opens at p >= `open_at` and extends both ways over sentences with p >= `keep_at`; a dip of up
    to `max_gap` sentences below `keep_at` is bridged when a confident sentence (p >= `open_at`) follows it."""

    open_at: float = 0.8
    keep_at: float = 0.4
    max_gap: int = 1


def _ad_phrase() -> re.Pattern[str]:
    from podigest_dagster.core.insights.candidates import AD

    return AD


def sentence_cues(texts: list[str], index: np.ndarray | None = None, total: int | None = None) -> np.ndarray:
    """(n, len(CUE_NAMES)) cue values of consecutive sentences; `index`/`total` place them in a longer
    episode (default: they are the whole episode)."""
    n = len(texts)
    index = np.arange(n) if index is None else np.asarray(index)
    total = n if total is None else total
    phrase = _ad_phrase()
    rows = []
    for text in texts:
        tokens = max(len(WORD.findall(text)), 1)
        rows.append([
            float(bool(phrase.search(text))),
            float(bool(URL.search(text))),
            float(bool(URL_PATH.search(text))),
            float(bool(EMAIL.search(text))),
            float(bool(SPELLED.search(text))),
            float(bool(CODE.search(text))),
            min(len(OFFER.findall(text)), 3) / 3,
            float(bool(SPONSOR.search(text))),
            float(bool(ENDORSE.search(text))),
            float(bool(VISIT.search(text))),
            float(bool(PRICE.search(text))),
            min(len(SECOND.findall(text)) / tokens * 5, 1.0),
            min(len(FIRST_PLURAL.findall(text)) / tokens * 5, 1.0),
            float(np.log1p(tokens)),
        ])
    cues = np.asarray(rows, dtype=np.float64).reshape(n, 14)
    position = index / max(total - 1, 1)
    near_start = np.exp(-index / 40.0)
    near_end = np.exp(-(total - 1 - index) / 40.0)
    return np.hstack([cues, np.stack([position, near_start, near_end], axis=1).reshape(n, 3)])


def context_vectors(vectors: np.ndarray, width: int = CONTEXT) -> np.ndarray:
    """The sum of each sentence's neighbours' vectors (up to `width` on either side, itself excluded) over
    2 x width: long when the neighbours agree, short when they differ or are missing (an episode's edge),
    so one salesy neighbour never makes a sentence sound like a read on its own."""
    n = len(vectors)
    total = np.zeros_like(vectors, dtype=np.float64)
    for offset in range(1, width + 1):
        total[offset:] += vectors[: n - offset]
        total[: n - offset] += vectors[offset:]
    return total / (2 * width)


def ad_features(
    texts: list[str], vectors: np.ndarray, index: np.ndarray | None = None, total: int | None = None
) -> np.ndarray:
    """The model's input for consecutive sentences: cues, own vector, neighbours' vector."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(len(texts), DIM)
    return np.hstack([sentence_cues(texts, index, total), vectors, context_vectors(vectors)])


@lru_cache(maxsize=1)
def shipped_model() -> LinearModel:
    model = load_model(MODEL_NAME)
    if model.feature_names != FEATURE_NAMES:
        raise ValueError("models/ads.json does not match ads.FEATURE_NAMES: run `make train`")
    return model


def shipped_rule() -> SpanRule:
    return SpanRule(**shipped_model().meta["span_rule"])


def ad_probabilities(texts: list[str], vectors: np.ndarray, model: LinearModel | None = None) -> np.ndarray:
    """p(sponsor read) of each sentence of one episode, in order."""
    if not texts:
        return np.zeros(0)
    return (model or shipped_model()).probability(ad_features(texts, vectors))


def ad_spans(probabilities: np.ndarray, rule: SpanRule | None = None) -> list[tuple[int, int]]:
    """Sponsor reads as [start, end) sentence ranges, in order and disjoint."""
    rule = rule or shipped_rule()
    p = np.asarray(probabilities)
    n = len(p)
    spans: list[tuple[int, int]] = []
    covered = -1
    for seed in np.flatnonzero(p >= rule.open_at):
        if seed <= covered:
            continue
        end = _extend(p, int(seed), 1, rule)
        start = _extend(p, int(seed), -1, rule)
        if spans and start <= spans[-1][1]:
            start = spans.pop()[0]
        spans.append((start, end + 1))
        covered = end
    return [(a, min(b, n)) for a, b in spans]


def _extend(p: np.ndarray, seed: int, step: int, rule: SpanRule) -> int:
    """The last index reached from `seed` going `step`-wise over p >= keep_at, bridging short dips that a
    confident sentence ends."""
    last, gap, i = seed, 0, seed + step
    while 0 <= i < len(p):
        if p[i] >= (rule.open_at if gap else rule.keep_at):
            last, gap = i, 0
        else:
            gap += 1
            if gap > rule.max_gap:
                break
        i += step
    return last


# Two detected pieces of a read at most this many sentences apart that name the same sponsor are one read:
# hosts open a read ("brought to us by InsideTracker"), then talk about the product in their own words,
# which the sentence model finds only half likely, and close it with the address and the code.
MAX_BRIDGE = 15
BRAND_AFTER = re.compile(
    r"\b(?:by|from|with|to|try|visit|at)\s+((?:[A-Z][\w'&-]*|[a-z]+[A-Z]\w*)(?:\s+[A-Z][\w&-]*){0,2})"
)
DOMAIN = re.compile(r"\b([a-z0-9][\w-]*)(?:\.| dot )(?:com|org|net|io|co|ai|app|dev|fm|tech|tv|us|ly|me)\b", re.I)


def sponsor_names(texts: list[str]) -> set[str]:
    """The sponsor's name as it can be matched: the web domains of a read ('insidetracker') and the names
    after 'by', 'from', 'visit' ... ('InsideTracker', 'Helix Sleep' -> 'helixsleep', 'helix'), lower case,
    without spaces."""
    names: set[str] = set()
    for text in texts:
        names |= {m.group(1).lower().replace("-", "") for m in DOMAIN.finditer(text)}
        for m in BRAND_AFTER.finditer(text):
            words = [w for w in re.findall(r"[\w&]+", m.group(1)) if w.lower() not in _NOT_NAMES]
            if words:
                names |= {"".join(words).lower(), words[0].lower()}
    return {n for n in names if len(n) >= 4}


_NOT_NAMES = frozenset(
    "the a an our my your this that today today's episode show podcast us you me them it i".split()
)


def bridge_reads(spans: list[tuple[int, int]], texts: list[str]) -> list[tuple[int, int]]:
    """Merge neighbouring detected spans that name the same sponsor (within MAX_BRIDGE sentences), so the
    host's own words between a read's opening and its address go with it."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] <= MAX_BRIDGE:
            before = sponsor_names(texts[merged[-1][0] : merged[-1][1]])
            after = sponsor_names(texts[start:end])
            if before & after:
                merged[-1] = (merged[-1][0], end)
                continue
        merged.append((start, end))
    return merged


def ad_sentences(texts: list[str], vectors: np.ndarray) -> set[int]:
    """Indices of one episode's sentences that lie inside a detected sponsor read."""
    spans = bridge_reads(ad_spans(ad_probabilities(texts, vectors)), texts)
    return {i for a, b in spans for i in range(a, b)}
