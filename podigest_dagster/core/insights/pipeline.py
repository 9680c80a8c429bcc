"""One day's insights without Dagster, made of exactly the steps the four insight assets call:
extract_candidates -> embed_passages -> cluster_candidates -> choose_top (-> the optional LLM rewrite).
The evaluation benches run this, so what they measure is what the assets do."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate, EpisodeTranscript, extract_candidates
from podigest_dagster.core.insights.clustering import Cluster, cluster_candidates, embed_passages
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.ranking import RankingConfig, TopItem, choose_top, transcript_context
from podigest_dagster.core.insights.rewrite import InsightRewriter


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

    def sent_evidence(self) -> tuple[np.ndarray, list[str]]:
        """What the day's digest sent, for later days' repeat checks: each item and its cluster's members."""
        by_id = {c.cluster_id: c for c in self.clusters}
        vectors, texts = [], []
        for item in self.top:
            vectors.append(np.asarray(item.embedding, dtype=np.float32))
            texts.append(item.insight)
            cluster = by_id.get(item.cluster_id)
            if cluster is not None:
                vectors.extend(np.asarray(cluster.embeddings, dtype=np.float32))
                texts.extend(m.text for m in cluster.members)
        if not vectors:
            return np.zeros((0, DIMENSIONS), np.float32), []
        return np.stack(vectors), texts


def run_day(
    episodes_segments: list[EpisodeTranscript],
    past_insight_embeddings: np.ndarray | None,
    past_show_texts: dict[str, list[str]] | None,
    embedder: TextEmbedder,
    llm: InsightRewriter | None = None,
    top_n: int = 5,
    config: RankingConfig | None = None,
    past_insight_texts: list[str] | None = None,
) -> DayResult:
    """Run the whole insight chain for one day's episodes, step by step as the assets do.

    `past_insight_texts`, aligned with `past_insight_embeddings`, turns on repeat detection by wording too."""
    config = replace(config or RankingConfig(), top_n=top_n)
    found = extract_candidates(episodes_segments, past_show_texts or {}, embed=embedder.embed)
    embeddings, sentence_vectors = embed_passages([c.text for c in found.kept], embedder.embed)
    clusters = cluster_candidates(found.kept, embeddings, sentence_vectors=sentence_vectors)
    ranking = choose_top(
        clusters, past_insight_embeddings, config, past_insight_texts,
        embed=embedder.embed, context_of=transcript_context(episodes_segments),
    )
    if llm is not None:
        llm.rewrite_items(ranking.items)
    return DayResult(found.kept, found.dropped_by_reason, clusters, ranking.items, embeddings, ranking.excluded_by_reason)
