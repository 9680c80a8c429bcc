"""Group the day's candidates into ideas: paraphrases across episodes and podcasts share one cluster."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from podigest_dagster.core.candidates import Candidate

# Average-linkage cosine similarity at which two groups are one idea. Tuned on hand-written paraphrase
# pairs across domains (cosine 0.52-0.87 with all-MiniLM-L6-v2) against different ideas on the same topic
# (0.15-0.50, one borderline pair at 0.576). Missing a paraphrase costs recall and risks a duplicate item;
# merging two same-topic ideas only overstates support, so the bar sits low.
MERGE_SIMILARITY = 0.55
CENTRALITY_WEIGHT = 0.3


@dataclass
class Cluster:
    """One idea: its member passages, the distinct podcasts saying it, and its best representative."""

    cluster_id: int
    members: list[Candidate]
    embeddings: np.ndarray
    representative: Candidate
    representative_embedding: np.ndarray

    @property
    def podcasts(self) -> list[str]:
        """Distinct podcasts (by feed) in the cluster, named for readers."""
        seen: dict[str, str] = {}
        for member in self.members:
            seen.setdefault(member.feed_url or member.podcast, member.podcast)
        return list(seen.values())

    @property
    def support(self) -> int:
        return len({m.feed_url or m.podcast for m in self.members})


def cluster_labels(embeddings: np.ndarray, merge_similarity: float = MERGE_SIMILARITY) -> np.ndarray:
    """Average-linkage agglomerative labels over cosine distance, cut where similarity drops below the bar."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.ones(1, dtype=int)
    vectors = np.asarray(embeddings, dtype=np.float64)
    tree = linkage(vectors, method="average", metric="cosine")
    return fcluster(tree, t=1.0 - merge_similarity, criterion="distance")


def pick_representative(members: list[Candidate], embeddings: np.ndarray) -> int:
    """The member with the best insight score, favouring the one closest to the cluster's centre."""
    if len(members) == 1:
        return 0
    sims = embeddings @ embeddings.T
    centrality = (sims.sum(axis=1) - 1.0) / (len(members) - 1)
    value = np.array([m.score for m in members]) + CENTRALITY_WEIGHT * centrality
    return int(np.argmax(value))


def cluster_candidates(
    candidates: list[Candidate], embeddings: np.ndarray, merge_similarity: float = MERGE_SIMILARITY
) -> list[Cluster]:
    """Cluster candidates (rows of `embeddings`, unit vectors) into ideas, numbered by support then score."""
    labels = cluster_labels(embeddings, merge_similarity)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    clusters = []
    for indices in groups.values():
        members = [candidates[i] for i in indices]
        vectors = np.asarray(embeddings[indices], dtype=np.float32)
        rep = pick_representative(members, vectors)
        clusters.append(Cluster(-1, members, vectors, members[rep], vectors[rep]))
    clusters.sort(key=lambda c: (-c.support, -c.representative.score, c.representative.candidate_id))
    for number, cluster in enumerate(clusters):
        cluster.cluster_id = number
    return clusters
