"""One day's insights without Dagster: candidates -> embeddings -> clusters -> ranked, optionally rewritten."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from podigest_dagster.core.candidates import Candidate, EpisodeTranscript, extract_candidates
from podigest_dagster.core.clustering import Cluster, cluster_candidates
from podigest_dagster.core.llm_rewrite import InsightRewriter
from podigest_dagster.core.ranking import RankingConfig, TopItem, eligible_clusters, rank_clusters


class TextEmbedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class DayResult:
    """Everything one day produced: kept candidates (aligned with `embeddings`), drops by reason,
    clusters, the ranked top items, and how many clusters the ranking excluded and why."""

    candidates: list[Candidate]
    dropped_by_reason: dict[str, int]
    clusters: list[Cluster]
    top: list[TopItem]
    embeddings: np.ndarray
    excluded_by_reason: dict[str, int] = field(default_factory=dict)


def run_day(
    episodes_segments: list[EpisodeTranscript],
    past_insight_embeddings: np.ndarray | None,
    past_show_texts: dict[str, list[str]] | None,
    embedder: TextEmbedder,
    llm: InsightRewriter | None = None,
    top_n: int = 5,
    config: RankingConfig | None = None,
) -> DayResult:
    """Run the whole insight chain for one day's episodes, as the assets do step by step."""
    config = replace(config or RankingConfig(), top_n=top_n)
    found = extract_candidates(episodes_segments, past_show_texts or {})
    embeddings = embedder.embed([c.text for c in found.kept])
    clusters = cluster_candidates(found.kept, embeddings)
    past = past_insight_embeddings if past_insight_embeddings is not None else np.zeros((0, 384), np.float32)
    _, excluded = eligible_clusters(clusters, past, config)
    top = rank_clusters(clusters, past, config)
    if llm is not None:
        llm.rewrite_items(top)
    return DayResult(found.kept, found.dropped_by_reason, clusters, top, embeddings, excluded)
