"""Stories across shows: passages of different shows on the same day that cover the same story (the same named
event, product, deal, person's move or study; not merely the same field) are one story. Its lead is its best
passage by the value model; each other show's best passage on it is the story's coverage.

Two passages are one story when both are about the same named thing (their main subject by spaCy: said more
than once, first or as a subject, and not a name the whole day says) and say close things about it (their
embeddings, whole and sentence by sentence). The bars were set on hand-labelled pairs of dev days
(bench/story_pairs.json, `python bench/story_pairs.py score`), as strict as those labels allow: passages
sharing a company but telling another of its stories are the hard case. A show that tells a story in several
passages or episodes is one show: its other passages join the story but are never coverage."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate
from podigest_dagster.core.insights.names import entity_key, main_subject, parse, subject_entities

PAIR_FEATURES: tuple[str, ...] = (
    "cosine", "best_sentence_cosine", "same_subject", "subject_centrality", "subject_rarity", "episode_mentions",
    "shared_central", "title_shared",
)
# Entities named by more than this share of the day's passages (and by at least COMMON_MIN of them) place
# nothing: a field, not a story.
COMMON_SHARE = 0.1
COMMON_MIN = 4
# The bars of `same_story`: on the labelled dev pairs, 7 claimed, 4 right (the labels' strictest that keeps
# any recall; no setting of these features claims a handful at precision 0.9).
SAME_STORY_COSINE = 0.4
SAME_STORY_SENTENCE_COSINE = 0.55
SAME_STORY_CENTRALITY = 1.5
# Two shows saying nearly the same words (a syndicated segment, a quoted release) tell one story, named or not.
SAME_WORDS_COSINE = 0.92


@dataclass
class Story:
    """Passages of one story: its lead (the best passage), the other shows' best passages (coverage), and the
    lead show's other passages on it (never coverage)."""

    story_id: int
    lead: Candidate
    lead_embedding: np.ndarray
    coverage: list[Candidate] = field(default_factory=list)
    same_show: list[Candidate] = field(default_factory=list)
    embeddings: np.ndarray | None = None

    @property
    def members(self) -> list[Candidate]:
        return [self.lead, *self.coverage, *self.same_show]

    @property
    def shows(self) -> int:
        return 1 + len({show_of(c) for c in self.coverage})


def show_of(candidate: Candidate) -> str:
    return candidate.feed_url or candidate.podcast


@dataclass(frozen=True)
class Named:
    """What the story model knows of a passage: the entities it names (key -> label), how often it names each
    and which its first sentence names, its main named subject and how central that is (names.main_subject),
    and the entities its episode title names."""

    labels: dict[str, str]
    title_entities: frozenset[str]
    mentions: dict[str, int] = field(default_factory=dict)
    first_sentence: frozenset[str] = frozenset()
    subject: str = ""
    centrality: float = 0.0

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(self.labels)

    def central(self, key: str) -> bool:
        """The passage is about this name: it says it twice, or in its first sentence."""
        return self.mentions.get(key, 0) >= 2 or key in self.first_sentence


def named_in(doc, title_entities: frozenset[str], common: frozenset[str] = frozenset()) -> Named:
    first = next(iter(doc.sents), None)
    subject, centrality = main_subject(doc, common)
    return Named(
        {entity_key(n): label for n, label in subject_entities(doc)}, title_entities,
        dict(Counter(entity_key(e.text) for e in doc.ents)),
        frozenset(entity_key(e.text) for e in first.ents) if first is not None else frozenset(),
        subject, centrality,
    )


def common_names(docs: Sequence) -> frozenset[str]:
    """The names said in many of the day's passages (more than COMMON_SHARE of them, and COMMON_MIN at least):
    a field the day is about, not a story."""
    counts = Counter(k for d in docs for k in {entity_key(n) for n, _ in subject_entities(d)})
    return frozenset(k for k, v in counts.items() if v >= COMMON_MIN and v / max(len(docs), 1) > COMMON_SHARE)


def name_passages(candidates: Sequence[Candidate]) -> tuple[list[Named], dict[str, float]]:
    """The names of each passage (and of its episode title), by spaCy in one batch, and each name's share of
    the passages."""
    titles = list(dict.fromkeys(c.episode_title for c in candidates))
    docs = parse([c.text for c in candidates] + titles)
    passages, title_docs = docs[: len(candidates)], docs[len(candidates) :]
    common = common_names(passages)
    title_keys = {t: frozenset(entity_key(n) for n, _ in subject_entities(d)) for t, d in zip(titles, title_docs, strict=True)}
    named = [named_in(d, title_keys[c.episode_title], common) for c, d in zip(candidates, passages, strict=True)]
    counts = Counter(k for n in named for k in n.entities)
    return named, {k: v / max(len(named), 1) for k, v in counts.items()}


def times_said(text: str, name: str) -> int:
    """How often an episode says a name (its transcript lower-cased): said at length, or in passing."""
    return text.count(name.lower()) if name else 0


def pair_features(a: Named, b: Named, shares: dict[str, float], cosine: float, sentence_cosine: float,
                  episode_mentions: int) -> list[float]:
    """The story model's view of two passages of different shows (`episode_mentions`: how often the less
    talkative of their two episodes says their common subject)."""
    same = bool(a.subject) and entity_key(a.subject) == entity_key(b.subject)
    key = entity_key(a.subject) if same else ""
    rarity = -math.log(max(shares.get(key, 1e-3), 1e-3)) if same else 0.0
    shared = {k for k in a.entities & b.entities if shares.get(k, 0.0) <= COMMON_SHARE or k == key}
    central = {k for k in shared if a.central(k) and b.central(k)}
    title_shared = float(bool(((a.entities | a.title_entities) & (b.entities | b.title_entities)) & shared))
    return [
        float(cosine), float(sentence_cosine), float(same), min(a.centrality, b.centrality) if same else 0.0, rarity,
        math.log1p(episode_mentions) if same else 0.0, float(len(central)), title_shared,
    ]


def same_story(features: Sequence[float]) -> bool:
    """Whether a pair (its `pair_features`) is one story: the same main subject, central to both, said in
    close terms; or nearly the same words."""
    f = dict(zip(PAIR_FEATURES, features, strict=True))
    return f["cosine"] >= SAME_WORDS_COSINE or (
        f["same_subject"] == 1.0 and f["subject_centrality"] >= SAME_STORY_CENTRALITY
        and f["cosine"] >= SAME_STORY_COSINE and f["best_sentence_cosine"] >= SAME_STORY_SENTENCE_COSINE
    )


def best_sentence_cosine(sentence_vectors: Sequence[np.ndarray]) -> np.ndarray:
    counts = [len(v) for v in sentence_vectors]
    if not counts:
        return np.zeros((0, 0))
    stacked = np.concatenate(sentence_vectors).astype(np.float32)
    starts = np.cumsum([0, *counts[:-1]])
    sims = stacked @ stacked.T
    return np.maximum.reduceat(np.maximum.reduceat(sims, starts, axis=0), starts, axis=1)


def cross_show_pairs(candidates: Sequence[Candidate], floor: float) -> list[tuple[int, int]]:
    """Every pair of passages of different shows that both reach `floor`."""
    eligible = [i for i, c in enumerate(candidates) if c.score >= floor]
    return [(a, b) for k, a in enumerate(eligible) for b in eligible[k + 1 :] if show_of(candidates[a]) != show_of(candidates[b])]


def pair_matrix(
    candidates: Sequence[Candidate], embeddings: np.ndarray, sentence_vectors: Sequence[np.ndarray], floor: float,
    episode_texts: dict[str, str] | None = None,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The cross-show pairs above `floor`, each 1.0 when it is one story and 0.0 when not."""
    pairs = cross_show_pairs(candidates, floor)
    if not pairs:
        return [], np.zeros(0)
    chosen = sorted({i for pair in pairs for i in pair})
    found, shares = name_passages([candidates[i] for i in chosen])
    named = dict(zip(chosen, found, strict=True))
    vectors = np.asarray(embeddings, dtype=np.float32)
    cosine = vectors @ vectors.T
    sentence_cosine = best_sentence_cosine(sentence_vectors) if len(sentence_vectors) == len(candidates) else cosine
    texts = {k: v.lower() for k, v in (episode_texts or {}).items()}

    def said(a: int, b: int) -> int:
        subject = named[a].subject
        if not subject or entity_key(subject) != entity_key(named[b].subject):
            return 0
        return min(times_said(texts.get(candidates[i].episode_id, ""), subject) for i in (a, b))

    linked = np.asarray([
        same_story(pair_features(named[a], named[b], shares, cosine[a, b], sentence_cosine[a, b], said(a, b)))
        for a, b in pairs
    ], dtype=np.float64)
    return pairs, linked


def group_stories(
    candidates: Sequence[Candidate],
    embeddings: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    linked: np.ndarray,
) -> list[Story]:
    """Stories, best lead first: each passage not yet in a story leads one, and takes, per other show, its best
    passage linked to it (`linked`, one flag or strength per pair) that is in no story yet. A passage of the
    lead's own show that a member links to joins as same-show (never coverage)."""
    link: dict[int, dict[int, float]] = {i: {} for i in range(len(candidates))}
    for (a, b), p in zip(pairs, linked, strict=True):
        if p > 0:  # among linked passages of one show, the better one is its coverage
            link[a][b] = float(p) + candidates[b].score * 1e-3
            link[b][a] = float(p) + candidates[a].score * 1e-3
    order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].score, candidates[i].candidate_id))
    taken: set[int] = set()
    stories: list[Story] = []
    vectors = np.asarray(embeddings, dtype=np.float32)
    for lead in order:
        if lead in taken:
            continue
        taken.add(lead)
        lead_show = show_of(candidates[lead])
        best: dict[str, tuple[float, int]] = {}
        for other, p in link[lead].items():
            show = show_of(candidates[other])
            if other not in taken and show != lead_show and p > best.get(show, (0.0, -1))[0]:
                best[show] = (p, other)
        coverage = sorted((i for _, i in best.values()), key=lambda i: -candidates[i].score)
        taken.update(coverage)
        same_show = sorted(
            {j for i in coverage for j in link[i] if j not in taken and show_of(candidates[j]) == lead_show},
            key=lambda j: -candidates[j].score,
        )
        taken.update(same_show)
        members = [lead, *coverage, *same_show]
        stories.append(Story(
            len(stories), candidates[lead], vectors[lead],
            [candidates[i] for i in coverage], [candidates[i] for i in same_show], vectors[members],
        ))
    return stories


def find_stories(
    candidates: Sequence[Candidate],
    embeddings: np.ndarray,
    sentence_vectors: Sequence[np.ndarray],
    floor: float,
    episode_texts: dict[str, str] | None = None,
) -> list[Story]:
    """The day's stories: every candidate is in exactly one (most are stories of one passage).
    `episode_texts` (episode id -> its transcript) tells a subject an episode talks about at length from one
    it names in passing."""
    pairs, linked = pair_matrix(candidates, embeddings, sentence_vectors, floor, episode_texts)
    return group_stories(candidates, embeddings, pairs, linked)
