"""Stories across shows: passages of different shows on the same day that cover the same story (the same named
event, product, deal, person's move or study; not merely the same field) are one story. Its lead is its best
passage by the value model; each other show's best passage on it is the story's coverage.

Two passages are one story when they name the same thing (a shared entity that few of the day's passages
name) and say things about it that are close (their embeddings), as the fitted pair model decides
(models/stories.json, from hand-labelled pairs of real days). A show that tells a story in several passages
or episodes is one show: its other passages join the story but are never coverage."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate
from podigest_dagster.core.insights.learned import LinearModel, load_model
from podigest_dagster.core.insights.names import entity_key, parse, subject_entities

MODEL_NAME = "stories"
PAIR_FEATURES: tuple[str, ...] = (
    "cosine", "best_sentence_cosine", "shared_entities", "shared_rarity", "shared_people_orgs", "title_shared",
    "both_named",
)
# Entities named by more than this share of the day's passages (and by at least COMMON_MIN of them) place
# nothing: a field, not a story.
COMMON_SHARE = 0.25
COMMON_MIN = 4


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
    """What the story model knows of a passage: the entities it names (key -> label), and those its episode
    title names."""

    labels: dict[str, str]
    title_entities: frozenset[str]

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(self.labels)


NOTHING_NAMED = Named({}, frozenset())


def name_passages(candidates: Sequence[Candidate]) -> list[Named]:
    """The entities each passage (and its episode title) names, by spaCy, in one batch."""
    titles = list(dict.fromkeys(c.episode_title for c in candidates))
    docs = parse([c.text for c in candidates] + titles)
    title_keys = {t: frozenset(entity_key(n) for n, _ in subject_entities(d)) for t, d in zip(titles, docs[len(candidates):], strict=True)}
    return [
        Named({entity_key(n): label for n, label in subject_entities(d)}, title_keys[c.episode_title])
        for c, d in zip(candidates, docs[: len(candidates)], strict=True)
    ]


def entity_shares(named: Sequence[Named]) -> dict[str, float]:
    """Each entity's share of the day's passages that name it; a name few passages say is not common, however
    small the day (two passages naming 'Microsoft' are half of a two-passage day, not a field)."""
    counts = Counter(k for n in named for k in n.entities)
    return {k: (v / max(len(named), 1) if v >= COMMON_MIN else min(v / max(len(named), 1), COMMON_SHARE))
            for k, v in counts.items()}


def pair_features(
    a: Named, b: Named, shares: dict[str, float], cosine: float, sentence_cosine: float
) -> list[float]:
    """The story model's view of two passages."""
    shared = {k for k in a.entities & b.entities if shares.get(k, 0.0) <= COMMON_SHARE}
    rarity = max((-math.log(max(shares.get(k, 1e-3), 1e-3)) for k in shared), default=0.0)
    people_orgs = float(sum(1 for k in shared if a.labels.get(k) in ("PERSON", "ORG", "PRODUCT", "EVENT", "LAW")))
    common = {k for k, s in shares.items() if s > COMMON_SHARE}
    title_shared = float(bool(((a.entities | a.title_entities) & (b.entities | b.title_entities)) - common))
    return [
        float(cosine), float(sentence_cosine), float(len(shared)), rarity, people_orgs, title_shared,
        float(bool(a.entities) and bool(b.entities)),
    ]


@lru_cache(maxsize=1)
def shipped_model() -> LinearModel:
    return load_model(MODEL_NAME, PAIR_FEATURES)


def same_story_probability(features: np.ndarray) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0)
    return shipped_model().probability(np.asarray(features, dtype=np.float64))


def story_threshold() -> float:
    return float(shipped_model().meta["threshold"])


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
    candidates: Sequence[Candidate], embeddings: np.ndarray, sentence_vectors: Sequence[np.ndarray], floor: float
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The cross-show pairs above `floor` and their same-story probabilities."""
    pairs = cross_show_pairs(candidates, floor)
    if not pairs:
        return [], np.zeros(0)
    chosen = sorted({i for pair in pairs for i in pair})
    named = dict(zip(chosen, name_passages([candidates[i] for i in chosen]), strict=True))
    shares = entity_shares(list(named.values()))
    vectors = np.asarray(embeddings, dtype=np.float32)
    cosine = vectors @ vectors.T
    sentence_cosine = best_sentence_cosine(sentence_vectors) if len(sentence_vectors) == len(candidates) else cosine
    features = np.asarray([
        pair_features(named[a], named[b], shares, cosine[a, b], sentence_cosine[a, b]) for a, b in pairs
    ])
    return pairs, same_story_probability(features)


def group_stories(
    candidates: Sequence[Candidate],
    embeddings: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    probabilities: np.ndarray,
    threshold: float,
) -> list[Story]:
    """Stories, best lead first: each passage not yet in a story leads one, and takes, per other show, its
    passage most likely on the same story (at or above `threshold`) that is in no story yet. A passage of
    the lead's own show that another member links to joins as same-show (never coverage)."""
    link: dict[int, dict[int, float]] = {i: {} for i in range(len(candidates))}
    for (a, b), p in zip(pairs, probabilities, strict=True):
        if p >= threshold:
            link[a][b] = link[b][a] = float(p)
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
) -> list[Story]:
    """The day's stories: every candidate is in exactly one (most are stories of one passage)."""
    pairs, probabilities = pair_matrix(candidates, embeddings, sentence_vectors, floor)
    return group_stories(candidates, embeddings, pairs, probabilities, story_threshold() if pairs else 1.0)
