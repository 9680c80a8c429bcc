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

from podigest_dagster.core.insights.embedding import DIMENSIONS, vocabulary_rank
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
DIM = DIMENSIONS
FEATURE_NAMES: tuple[str, ...] = (
    CUE_NAMES + tuple(f"v{i}" for i in range(DIM)) + tuple(f"ctx{i}" for i in range(DIM))
)


@dataclass(frozen=True)
class SpanRule:
    """A read opens at p >= `open_at` and extends both ways over sentences with p >= `keep_at`; a dip of up
    to `max_gap` sentences below `keep_at` is bridged when a confident sentence (p >= `open_at`) follows it.
    `self_keep` applies past a read's edges (see `ad_spans`)."""

    open_at: float = 0.8
    keep_at: float = 0.4
    max_gap: int = 1
    # Past a read's edge a sentence must also look like a read on its own (p with its neighbours' vector
    # left out): the neighbours make the show's first sentence after a short read as likely as the read.
    self_keep: float = 0.0


# The phrases of a read ("brought to you by", "promo code", "free trial", "head over to x dot com"): one cue.
AD_PHRASE = re.compile(
    "|".join((
        r"\bbrought to you by\b", r"\bsponsor(?:ed|s|ship)?\b", r"\w*ponsored by\b",
        r"\b(?:show|episode|podcast) is (?:supported|presented|powered|made possible) by\b",
        r"\bdelivered (?:right )?to your door\b", r"\bpromo(?:tion(?:al)?)? code\b",
        r"\b(?:use|enter|offer|discount|coupon) code\b", r"\bcode (?-i:[A-Z0-9]{3,})\b", r"\d+ ?(?:%|percent) off\b",
        r"\bfree trial\b", r"\b(?:visit|go to|head (?:over )?to|check out) \S+\s?(?:\.|dot) ?(?:com|org|net|io|co)\b",
        r"\b\w+(?:\.| dot )com ?/ ?\w+", r"\bfirst (?:month|order|box|week) (?:is )?free\b",
        r"\btry it (?:free|for free|today)\b", r"\blimited[- ]time offer\b", r"\bat checkout\b",
        r"\bthanks to our (?:sponsors?|partners?|friends)\b",
        r"\bsupport for (?:this|the) (?:show|podcast|episode) comes from\b",
        r"\bour friends at\b", r"\bfree shipping\b", r"\bsign up (?:today|now) at\b", r"\bmoney-back guarantee\b",
    )),
    re.I,
)


def sentence_cues(texts: list[str], index: np.ndarray | None = None, total: int | None = None) -> np.ndarray:
    """(n, len(CUE_NAMES)) cue values of consecutive sentences; `index`/`total` place them in a longer
    episode (default: they are the whole episode)."""
    n = len(texts)
    index = np.arange(n) if index is None else np.asarray(index)
    total = n if total is None else total
    phrase = AD_PHRASE
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
    return load_model(MODEL_NAME, FEATURE_NAMES)


# Set by hand, not fitted: on the demo's short reads the show's own sentences right after a read's address
# have own p 0.08-0.25, the read's own lines 0.32-0.46; checked on the held-out episodes (README).
SELF_KEEP = 0.3


def shipped_rule() -> SpanRule:
    return SpanRule(**{"self_keep": SELF_KEEP, **shipped_model().meta["span_rule"]})


def ad_probabilities(texts: list[str], vectors: np.ndarray, model: LinearModel | None = None) -> np.ndarray:
    """p(sponsor read) of each sentence of one episode, in order."""
    return both_probabilities(texts, vectors, model)[0]


def own_probabilities(features: np.ndarray, model: LinearModel | None = None) -> np.ndarray:
    """p(sponsor read) of each sentence from its own words and cues, its neighbours' vector left out."""
    alone = np.array(features, dtype=np.float64, copy=True)
    alone[:, len(CUE_NAMES) + DIM :] = 0.0
    return (model or shipped_model()).probability(alone)


def both_probabilities(
    texts: list[str], vectors: np.ndarray, model: LinearModel | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(p with neighbours, own p) of each sentence of one episode, in order."""
    if not texts:
        return np.zeros(0), np.zeros(0)
    features = ad_features(texts, vectors)
    return (model or shipped_model()).probability(features), own_probabilities(features, model)


# A read's edges: it opens on the sponsor's name ("brought to us by", "supported by", "a word from our
# sponsor") and closes on the call to action (an address, a code). Past an edge the show resumes, so a
# sentence there joins the read only when it looks like one on its own.
OPENING = re.compile(
    r"\b(?:brought to (?:you|us)|presented by|(?:sponsored|supported|powered|made possible) by|"
    r"(?:word|message) from (?:our|this|today's) (?:sponsor|partner)s?|thanks to our sponsor|our sponsor|"
    r"sponsors? of (?:this|today's|the) (?:episode|show|podcast)|"
    r"thanks? (?:to )?[A-Z][\w&-]*(?:\s+[A-Z][\w&-]*){0,2} for (?:supporting|sponsoring))\b",
    re.I,
)


def read_edges(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(opens, closes): which sentences name a sponsor as a read's opening, and which carry its call to
    action (a web or mail address, a promo code)."""
    opens = np.array([bool(OPENING.search(t)) for t in texts], dtype=bool)
    closes = np.array(
        [bool(URL.search(t) or URL_PATH.search(t) or EMAIL.search(t) or CODE.search(t)) for t in texts], dtype=bool
    )
    return opens, closes


SEED_OWN = 0.5


def ad_spans(
    probabilities: np.ndarray,
    rule: SpanRule | None = None,
    own: np.ndarray | None = None,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[int, int]]:
    """Sponsor reads as [start, end) sentence ranges, in order and disjoint.

    With the sentences' own probabilities and the read edges (`read_edges`), and a rule with `self_keep`:
    beyond a closing edge going forward (an opening edge going back) a sentence joins only when own >=
    self_keep; going back a read never takes in an earlier read's closing address; a read needs one
    edge or one sentence likely on its own (own >= SEED_OWN), else it is the show's talk after a read;
    an opening edge likely on its own starts a read by itself; and a closing edge right after a read (an
    opening right before it) is part of it."""
    rule = rule or shipped_rule()
    p = np.asarray(probabilities, dtype=np.float64)
    n = len(p)
    careful = own is not None and edges is not None and rule.self_keep > 0
    own_p = np.asarray(own, dtype=np.float64) if careful else np.ones(n)
    opens, closes = edges if careful else (np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    evident = opens | closes | (own_p >= SEED_OWN)
    # A read's opening that sounds like one on its own seeds a read even when the show's talk before it
    # pulls its neighbourhood probability below open_at ("This episode is brought to you by ...": own 0.70,
    # with its neighbours 0.47); bridge_reads then joins it to the rest of the read.
    seeds = (p >= rule.open_at) | (opens & (own_p >= SEED_OWN)) if careful else p >= rule.open_at
    spans: list[tuple[int, int]] = []
    covered = -1
    for seed in np.flatnonzero(seeds):
        if seed <= covered:
            continue
        end = _extend(p, int(seed), 1, rule, own_p, closes if careful else None)
        start = _extend(p, int(seed), -1, rule, own_p, opens if careful else None, closes if careful else None)
        if careful:
            # The address right after a read is its close, and the sponsor's opening right before it its
            # start, however unlikely the model finds them next to the show's talk ("Check it out at
            # bolt.new/howiai": p 0.38 after a read's last line).
            if end + 1 < n and closes[end + 1]:
                end += 1
            if start > 0 and opens[start - 1] and not closes[start - 1]:
                start -= 1
        covered = end
        if careful and not evident[start : end + 1].any():
            continue  # likely only because its neighbours are a read: the show's own talk after it
        if careful:
            keep = opens | closes | (p >= rule.open_at)
            start, end = _trimmed(start, end, own_p, rule.self_keep, keep)
        if spans and start <= spans[-1][1]:
            start = spans.pop()[0]
        spans.append((start, end + 1))
    return [(a, min(b, n)) for a, b in spans]


def _trimmed(start: int, end: int, own: np.ndarray, floor: float, keep: np.ndarray) -> tuple[int, int]:
    """A read's ends pulled in past sentences that are not reads on their own (own < floor) and are neither
    an edge nor confident with their neighbours (`keep`): the neighbourhood vector makes the show's last
    claim before a short plug ('Join our Patreon ...') as likely as the plug (p 0.47, own 0.16), and a read
    never begins or ends on the show's talk; a sentence that seeded the read (p >= open_at) stays in it
    ('Tally is a smart valve for your radiators ...': p 0.78, own 0.30)."""
    while start < end and own[start] < floor and not keep[start]:
        start += 1
    while end > start and own[end] < floor and not keep[end]:
        end -= 1
    return start, end


def _extend(
    p: np.ndarray,
    seed: int,
    step: int,
    rule: SpanRule,
    own: np.ndarray,
    edge: np.ndarray | None,
    stop: np.ndarray | None = None,
) -> int:
    """The last index reached from `seed` going `step`-wise over p >= keep_at, bridging short dips that a
    confident sentence ends; past an `edge` sentence, only over sentences with own >= self_keep; never onto
    a `stop` sentence (going back: the address that closed an earlier read)."""
    last, gap, i = seed, 0, seed + step
    past_edge = edge is not None and bool(edge[seed])
    while 0 <= i < len(p):
        if stop is not None and stop[i]:
            break
        if p[i] >= (rule.open_at if gap else rule.keep_at) and (not past_edge or own[i] >= rule.self_keep):
            last, gap = i, 0
            past_edge = past_edge or (edge is not None and bool(edge[i]))
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
BRAND_NAMED = re.compile(
    r"\bsponsors? (?:of (?:this|today's|the) (?:episode|show|podcast)|(?:today|this week))(?:,| is| are)\s+"
    r"((?:[A-Z][\w'&-]*|[a-z]+[A-Z]\w*)(?:\s+[A-Z][\w&-]*){0,2})"
    r"|\bthanks? (?:to )?([A-Z][\w&-]*(?:\s+[A-Z][\w&-]*){0,2}) for (?:supporting|sponsoring)\b"
)
DOMAIN = re.compile(r"\b([a-z0-9][\w-]*)(?:\.| dot )(?:com|org|net|io|co|ai|app|dev|fm|tech|tv|us|ly|me|new|so|xyz|gg)\b", re.I)


def sponsor_names(texts: list[str]) -> set[str]:
    """The sponsor's name as it can be matched: the web domains of a read ('insidetracker') and the names
    after 'by', 'from', 'visit' ... ('InsideTracker', 'Helix Sleep' -> 'helixsleep', 'helix') or after
    'the sponsors of this episode,' ('Intel'), lower case, without spaces."""
    names: set[str] = set()
    for text in texts:
        names |= {m.group(1).lower().replace("-", "") for m in DOMAIN.finditer(text)}
        for m in (*BRAND_AFTER.finditer(text), *BRAND_NAMED.finditer(text)):
            said = next(g for g in m.groups() if g)
            words = [w for w in re.findall(r"[\w&]+", said) if w.lower() not in _NOT_NAMES]
            if words:
                names |= {"".join(words).lower(), words[0].lower()}
    return {n for n in names if len(n) >= 4}


_NOT_NAMES = frozenset(
    "the a an our my your this that today today's episode show podcast us you me them it i".split()
)


def bridge_reads(spans: list[tuple[int, int]], texts: list[str]) -> list[tuple[int, int]]:
    """Merge neighbouring detected spans that are one read (within MAX_BRIDGE sentences), so the host's own
    words between a read's opening and its address go with it: one says a sponsor name the other names
    ("brought to you by Jira Product Discovery" ... "Jira Product Discovery is where teams decide" ...
    "atlassian.com/howIAI"). An opening that names no sponsor ("Coming up, and a quick word from our
    sponsor") never joins a later read: the show's talk between them stays the show's."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] <= MAX_BRIDGE:
            first, second = texts[merged[-1][0] : merged[-1][1]], texts[start:end]
            if _names_one_in_other(first, second) or _names_one_in_other(second, first):
                merged[-1] = (merged[-1][0], end)
                continue
        merged.append((start, end))
    return merged


def _names_one_in_other(named: list[str], other: list[str]) -> bool:
    """Whether a sponsor name found in `named` is said in `other` ("sponsored by Unbound Merino" ... "thank
    you, Unbound Merino, for sponsoring"), compared without case or spaces."""
    said = _squashed(" ".join(other))
    return any(name in said for name in sponsor_names(named))


# A read told in the host's own words ("This video is sponsored by Huckberry." ... the host's denim review,
# naming Huckberry every few sentences, with no address) runs on while the sponsor is named again within
# NAMED_GAP sentences, up to NAMED_LIMIT sentences past its opening. Only an uncommon name is followed
# (outside the model's vocabulary or past NAME_RANK in it: 'huckberry', 'intel' 13420, 'bolt' 10053): a
# common word ('customer' 8013 of Customer.io, 'rush' 5481) is said in the show's talk too. An immediate
# break announcement ("let's take a quick commercial break") up to NAMED_GAP sentences before a named read's
# opening starts the read: what lies between is its lead-in.
NAMED_GAP = 8
NAMED_LIMIT = 25
NAME_RANK = 10000
BREAK = re.compile(
    r"\b(?:take|taking) a (?:quick |short |brief )?(?:commercial |ad |sponsor )?break\b|\bcommercial break\b", re.I
)


# After a followed read's last mention of its sponsor, the host may still be on what the read introduced
# ("At Cone Mills denim is why Nick is so important ... So thank you very much, Nick", Nick being the
# sponsor's designer): sentences naming a thing first named inside the read (a capitalised word within a
# sentence, never said in the episode before the read) continue it, each within OWN_NAME_GAP sentences of
# the last; the show's own subjects were named before the read and never extend it.
OWN_NAME_GAP = 2
_CAPITALISED = re.compile(r"(?<=[\w,;:)] )([A-Z][a-z]+(?:[A-Z]\w*)?)\b")
_NEVER_OWN = frozenset("I I'm I've I'll I'd Mr Mrs Ms Dr OK Okay".split())


def read_own_names(texts: list[str], start: int, end: int) -> set[str]:
    """Capitalised words said within a sentence of the read texts[start:end] and nowhere before it."""
    before = set(re.findall(r"[\w']+", " ".join(texts[:start])))
    inside = {m.group(1) for t in texts[start:end] for m in _CAPITALISED.finditer(t)}
    return {n for n in inside if n not in before and n not in _NEVER_OWN and len(n) >= 3}


def _follow_own_names(texts: list[str], start: int, end: int, limit: int) -> int:
    """The end of a read extended over the sentences that name what it introduced (`read_own_names`)."""
    names = read_own_names(texts, start, end)
    last = end - 1
    for i in range(end, min(len(texts), limit)):
        if i - last > OWN_NAME_GAP:
            break
        if names & set(re.findall(r"[\w']+", texts[i])):
            last = i
    return last + 1


def _uncommon(name: str) -> bool:
    rank = vocabulary_rank().get(name)
    return rank is None or rank > NAME_RANK


def _squashed(text: str) -> str:
    """A text as sponsor names are matched in it: lower case, without spaces or hyphens."""
    return re.sub(r"[\s-]+", "", text.lower())


def _merged(spans: list[tuple[int, int]], touching: bool = False) -> list[tuple[int, int]]:
    """Sorted spans with the overlapping ones (and, with `touching`, the adjacent ones) joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and (start <= out[-1][1] if touching else start < out[-1][1]):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def follow_named_sponsor(
    spans: list[tuple[int, int]], texts: list[str], opens: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Extend each read that has an opening edge over the sentences after it for as long as the sponsor it
    names is said again (within NAMED_GAP sentences of the last mention, NAMED_LIMIT past the opening), then
    as long as what the read introduced is named (`read_own_names`), merging the reads it reaches."""
    opens = read_edges(texts)[0] if opens is None else opens
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
            continue
        opening = next((i for i in range(start, end) if opens[i]), None)
        names = sponsor_names(texts[opening : opening + 1]) if opening is not None else set()
        names = {n for n in names if _uncommon(n)}
        if names:
            lead = next((i for i in range(opening - 1, max(opening - NAMED_GAP, 0) - 1, -1) if BREAK.search(texts[i])), None)
            if lead is not None and not (out and lead < out[-1][1]):
                start = lead
            last = end - 1
            for i in range(end, min(len(texts), opening + NAMED_LIMIT + 1)):
                if i - last > NAMED_GAP:
                    break
                if any(name in _squashed(texts[i]) for name in names):
                    last = i
            end = max(end, last + 1)
            end = _follow_own_names(texts, start, end, opening + NAMED_LIMIT + 1)
        out.append((start, end))
    return _merged(out)


def opening_to_address(
    texts: list[str], edges: tuple[np.ndarray, np.ndarray] | None = None
) -> list[tuple[int, int]]:
    """Reads the edges alone make certain, whatever the model says: an opening that names its sponsor ("I
    want to thank Intel for supporting the show") and, within NAMED_LIMIT sentences, the address that names
    it again ("head on over to Intel dot in slash vPro")."""
    opens, closes = read_edges(texts) if edges is None else edges
    spans = []
    for i in np.flatnonzero(opens):
        names = sponsor_names(texts[i : i + 1])
        for j in range(i + 1, min(len(texts), i + NAMED_LIMIT + 1)):
            if closes[j] and any(n in _squashed(texts[j]) for n in names):
                spans.append((int(i), j + 1))
                break
    return spans


def read_spans(texts: list[str], p: np.ndarray, own: np.ndarray, rule: SpanRule | None = None) -> list[tuple[int, int]]:
    """One episode's sponsor reads as the pipeline finds them: the span rule with the read edges, reads
    naming the same sponsor bridged, an opening joined to the address that names its sponsor again, and a
    named read followed while its sponsor is named."""
    edges = read_edges(texts)
    spans = bridge_reads(ad_spans(p, rule, own, edges), texts)
    return follow_named_sponsor(_merged(spans + opening_to_address(texts, edges), touching=True), texts, edges[0])


def ad_sentences(texts: list[str], vectors: np.ndarray) -> set[int]:
    """Indices of one episode's sentences that lie inside a detected sponsor read."""
    p, own = both_probabilities(texts, vectors)
    return {i for a, b in read_spans(texts, p, own) for i in range(a, b)}
