"""Choose the day's top insights: support across podcasts, insightfulness, novelty, and diversity (MMR)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from podigest_dagster.core.candidates import Candidate, content_words
from podigest_dagster.core.clustering import Cluster
from podigest_dagster.core.scoring import NUMBER


@dataclass(frozen=True)
class RankingConfig:
    """The ranking rules' knobs, with the defaults the product ships.

    `repeat_similarity`: a cluster whose members come this close (cosine) to an item sent in the lookback
    window is not sent again; 0.5 rather than 0.8 because Whisper's slips pull paraphrases of one idea down
    to 0.5-0.6. `diversity_similarity` / `hybrid_similarity`: two ideas never share a digest when their
    cosine, or cosine + `lexical_weight` x word overlap, passes the bar (dev days: duplicates >= 0.50,
    distinct ideas <= 0.43 on the hybrid)."""

    top_n: int = 5
    min_insight: float = 0.45
    repeat_similarity: float = 0.5
    diversity_similarity: float = 0.5
    lexical_weight: float = 0.5
    hybrid_similarity: float = 0.48
    weight_insight: float = 0.5
    weight_support: float = 0.35
    weight_novelty: float = 0.15
    mmr_penalty: float = 0.3


@dataclass
class Source:
    """Where an insight was said: podcast, episode, time span and a link that starts playback there."""

    podcast: str
    episode: str
    episode_id: str
    url: str | None
    start_s: float
    end_s: float


@dataclass
class TopItem:
    """One digest item: the text sent, its extractive origin, support, score, sources and evidence."""

    rank: int
    cluster_id: int
    candidate_id: str
    insight: str
    extractive_text: str
    support: int
    score: float
    sources: list[Source]
    embedding: np.ndarray
    evidence: list[str] = field(default_factory=list)
    novelty: float = 1.0
    rewrite_status: str = "extractive"


def timed_url(candidate: Candidate) -> str | None:
    """The episode's audio (or page) with a media fragment `#t=<seconds>` at the passage's start."""
    base = candidate.enclosure_url or candidate.link
    if not base:
        return None
    return f"{base.split('#', 1)[0]}#t={max(int(candidate.start_s), 0)}"


def cluster_sources(cluster: Cluster) -> list[Source]:
    """One source per podcast (its best passage), the representative's podcast first."""
    best: dict[str, Candidate] = {}
    for member in sorted(cluster.members, key=lambda m: -m.score):
        best.setdefault(member.feed_url or member.podcast, member)
    rep = cluster.representative
    ordered = [rep] + [m for key, m in best.items() if key != (rep.feed_url or rep.podcast)]
    return [Source(m.podcast, m.episode_title, m.episode_id, timed_url(m), m.start_s, m.end_s) for m in ordered]


def past_similarity(cluster: Cluster, past_embeddings: np.ndarray) -> float:
    """Highest cosine similarity between any member of the cluster and any insight already sent."""
    if past_embeddings is None or len(past_embeddings) == 0:
        return 0.0
    return float(np.max(cluster.embeddings @ np.asarray(past_embeddings, dtype=np.float32).T))


def cluster_similarity(a: Cluster, b: Cluster) -> float:
    """How close two ideas are: the strongest similarity between any of their members."""
    return float(np.max(a.embeddings @ b.embeddings.T))


def lexical_overlap(a: str, b: str) -> float:
    """Share of content-word stems (first four letters, robust to ASR slips) two texts have in common."""
    sa, sb = ({w[:4] for w in content_words(t)} | {n.lower() for n in NUMBER.findall(t)} for t in (a, b))
    return len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0


def same_thing(a: Cluster, b: Cluster, config: RankingConfig) -> bool:
    """True when two ideas are too close to share a digest: by meaning alone, or by meaning plus wording
    (paraphrases garbled by speech recognition embed apart but keep their key words and numbers)."""
    cosine = cluster_similarity(a, b)
    if cosine > config.diversity_similarity:
        return True
    lexical = lexical_overlap(a.representative.text, b.representative.text)
    return cosine + config.lexical_weight * lexical > config.hybrid_similarity


def base_score(cluster: Cluster, novelty: float, config: RankingConfig) -> float:
    """Weighted support (extra podcasts, capped at two), insightfulness and novelty."""
    support_term = min(cluster.support - 1, 2) / 2
    return (
        config.weight_insight * cluster.representative.score
        + config.weight_support * support_term
        + config.weight_novelty * novelty
    )


def eligible_clusters(
    clusters: list[Cluster], past_embeddings: np.ndarray, config: RankingConfig
) -> tuple[list[tuple[Cluster, float, float]], dict[str, int]]:
    """Clusters good enough to send and not already sent: (cluster, base score, novelty), plus exclusions."""
    kept, excluded = [], {"below_min_insight": 0, "repeats_past_digest": 0}
    for cluster in clusters:
        if cluster.representative.score < config.min_insight:
            excluded["below_min_insight"] += 1
            continue
        seen = past_similarity(cluster, past_embeddings)
        if seen > config.repeat_similarity:
            excluded["repeats_past_digest"] += 1
            continue
        novelty = min(max(1.0 - seen, 0.0), 1.0)
        kept.append((cluster, base_score(cluster, novelty, config), novelty))
    return kept, excluded


def select_diverse(
    scored: list[tuple[Cluster, float, float]], config: RankingConfig
) -> list[tuple[Cluster, float, float]]:
    """Maximal marginal relevance: best first, never two items about the same thing."""
    pool = sorted(scored, key=lambda t: (-t[1], t[0].cluster_id))
    chosen: list[tuple[Cluster, float, float]] = []
    while pool and len(chosen) < config.top_n:
        best_index, best_value = None, -np.inf
        for i, (cluster, score, _) in enumerate(pool):
            if any(same_thing(cluster, c, config) for c, _, _ in chosen):
                continue
            sims = [cluster_similarity(cluster, c) for c, _, _ in chosen]
            value = score - config.mmr_penalty * max(sims, default=0.0)
            if value > best_value:
                best_index, best_value = i, value
        if best_index is None:
            break
        chosen.append(pool.pop(best_index))
    return chosen


def rank_clusters(
    clusters: list[Cluster], past_embeddings: np.ndarray | None = None, config: RankingConfig | None = None
) -> list[TopItem]:
    """The day's top items (at most `top_n`, never padded below the insight floor), ranked 1..n."""
    config = config or RankingConfig()
    past = past_embeddings if past_embeddings is not None else np.zeros((0, 384), dtype=np.float32)
    scored, _ = eligible_clusters(clusters, past, config)
    items = []
    for rank, (cluster, score, novelty) in enumerate(select_diverse(scored, config), start=1):
        rep = cluster.representative
        items.append(
            TopItem(
                rank=rank,
                cluster_id=cluster.cluster_id,
                candidate_id=rep.candidate_id,
                insight=rep.text,
                extractive_text=rep.text,
                support=cluster.support,
                score=round(score, 4),
                sources=cluster_sources(cluster),
                embedding=cluster.representative_embedding,
                evidence=[m.text for m in sorted(cluster.members, key=lambda m: -m.score)],
                novelty=round(novelty, 4),
            )
        )
    return items
