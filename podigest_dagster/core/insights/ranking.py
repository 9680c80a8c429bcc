"""Choose the day's top insights: support across podcasts, insightfulness, novelty, and diversity (MMR)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate, EpisodeTranscript
from podigest_dagster.core.insights.claims import (
    MIN_SHARED_WEIGHT,
    PARAPHRASE_COSINE,
    QUALITY_FLOOR,
    shared_content_weight,
)
from podigest_dagster.core.insights.clustering import (
    LEXICAL_WEIGHT,
    MERGE_SIMILARITY,
    Cluster,
    lexical_matrix,
    lexical_overlap,
    meaning_similarity,
)
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.topics import clean_title, cluster_topic


@dataclass(frozen=True)
class RankingConfig:
    """The ranking rules' knobs, with the defaults the product ships.

    `repeat_similarity`: when only the embeddings of what was sent are known, a cluster whose members come
    this close (cosine) to an item sent in the lookback window is not sent again; 0.5 rather than 0.8
    because Whisper's slips pull paraphrases of one idea down to 0.5-0.6. `diversity_similarity` / `hybrid_similarity`: two ideas never share a digest when their
    cosine, or cosine + `lexical_weight` x word overlap, passes the bar (dev days: duplicates >= 0.50,
    distinct ideas <= 0.43 on the hybrid). `repeat_hybrid`: when the texts sent before (and their clusters'
    members) are known, a cluster is a repeat only when cosine + `repeat_lexical_weight` x shared key words
    passes the bar the clustering uses to call two passages one idea and the two state one claim (see
    `retells_what_was_sent`): a garbled retelling keeps its words, another claim on the same topic does not
    (dev days: retellings 0.82-0.84 sharing content 2.2-3.6, other items <= 0.47)."""

    top_n: int = 5
    min_insight: float = QUALITY_FLOOR
    repeat_similarity: float = 0.5
    diversity_similarity: float = 0.5
    lexical_weight: float = 0.5
    hybrid_similarity: float = 0.48
    weight_insight: float = 0.5
    weight_support: float = 0.35
    weight_novelty: float = 0.15
    mmr_penalty: float = 0.3
    repeat_hybrid: float = MERGE_SIMILARITY
    repeat_lexical_weight: float = LEXICAL_WEIGHT


@dataclass(frozen=True)
class Source:
    """Where an insight was said: podcast, episode, time span and a link that starts playback there
    (the one source type, from ranking to the rendered digest; times are None when the transcript had none)."""

    podcast: str
    episode: str
    url: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    episode_id: str | None = None


@dataclass
class TopItem:
    """One digest item: its topic line, the text sent, its extractive origin, support, score, sources
    and evidence."""

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
    topic: str = ""
    speaker: str = ""
    """Who said it, as the transcript names them ("" when it does not, or names only a placeholder)."""
    coverage: list[Source] = field(default_factory=list)
    """The other shows' passages on the same story, one per show (empty when one show told it)."""


def is_untimed(candidate: Candidate) -> bool:
    """A passage of a transcript that had no timing (plain text): every time is 0 and means nothing."""
    return candidate.end_s <= 0


def timed_url(candidate: Candidate) -> str | None:
    """The episode's audio (or page) with a media fragment `#t=<seconds>` at the passage's start; the
    episode's page (or audio) without a time when the transcript had none."""
    if is_untimed(candidate):
        return candidate.link or candidate.enclosure_url
    base = candidate.enclosure_url or candidate.link
    if not base:
        return None
    return f"{base.split('#', 1)[0]}#t={max(int(candidate.start_s), 0)}"


def cluster_sources(cluster: Cluster) -> list[Source]:
    """One source per podcast that backs the claim (its supporting passage), the representative first;
    members that only sound alike are not cited."""
    ordered = cluster.supporting_members()
    return [
        Source(m.podcast, m.episode_title, timed_url(m), None, None, episode_id=m.episode_id)
        if is_untimed(m)
        else Source(m.podcast, m.episode_title, timed_url(m), m.start_s, m.end_s, episode_id=m.episode_id)
        for m in ordered
    ]


def past_similarity(cluster: Cluster, past_embeddings: np.ndarray) -> float:
    """Highest cosine similarity between any member of the cluster and any insight already sent."""
    if past_embeddings is None or len(past_embeddings) == 0:
        return 0.0
    return float(np.max(cluster.embeddings @ np.asarray(past_embeddings, dtype=np.float32).T))


def _past_hybrid_matrix(
    cluster: Cluster, past_embeddings: np.ndarray, past_texts: list[str], lexical_weight: float
) -> np.ndarray | None:
    """cosine + `lexical_weight` x shared key words, members x texts sent before (None when nothing was)."""
    if past_embeddings is None or len(past_embeddings) == 0 or len(past_texts) != len(past_embeddings):
        return None
    cosine = cluster.embeddings @ np.asarray(past_embeddings, dtype=np.float32).T
    texts = [m.text for m in cluster.members]
    lexical = lexical_matrix(texts + list(past_texts))[: len(texts), len(texts) :]
    return cosine + lexical_weight * lexical


def retells_what_was_sent(
    cluster: Cluster, past_embeddings: np.ndarray, past_texts: list[str], config: RankingConfig
) -> bool:
    """A member and a text sent before that the clustering would call one idea (cosine + shared key words
    past `repeat_hybrid`) and that state one claim: a near paraphrase (cosine >= PARAPHRASE_COSINE), or
    sharing as much claim content as support asks (numbers, rare words, names; plain words count less).
    Another claim on the same topic shares only topic words ('athletes who sleep more get injured less'
    after 'a warm-up cuts athletes' injuries': cosine 0.61, shared content 1.4) and is news."""
    hybrid = _past_hybrid_matrix(cluster, past_embeddings, past_texts, config.repeat_lexical_weight)
    if hybrid is None:
        return False
    cosine = cluster.embeddings @ np.asarray(past_embeddings, dtype=np.float32).T
    for member, past in zip(*np.nonzero(hybrid > config.repeat_hybrid), strict=True):
        if cosine[member, past] >= PARAPHRASE_COSINE:
            return True
        if shared_content_weight(cluster.members[member].text, past_texts[past]) >= MIN_SHARED_WEIGHT:
            return True
    return False


def is_repeat(
    cluster: Cluster, past_embeddings: np.ndarray, past_texts: list[str] | None, config: RankingConfig
) -> tuple[bool, float]:
    """Whether a cluster retells something already sent, and its closest cosine to what was sent.

    With the texts sent known, `retells_what_was_sent` decides; without them, cosine alone past
    `repeat_similarity`."""
    seen = past_similarity(cluster, past_embeddings)
    if past_texts is None:
        return seen > config.repeat_similarity, seen
    return retells_what_was_sent(cluster, past_embeddings, past_texts, config), seen


def cluster_similarity(a: Cluster, b: Cluster) -> float:
    """How close two ideas are: the strongest similarity between any of their members (or their sentences)."""
    return meaning_similarity(a, b)


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
    clusters: list[Cluster],
    past_embeddings: np.ndarray,
    config: RankingConfig,
    past_texts: list[str] | None = None,
) -> tuple[list[tuple[Cluster, float, float]], dict[str, int]]:
    """Clusters good enough to send and not already sent: (cluster, base score, novelty), plus exclusions.

    `past_embeddings` (with `past_texts` aligned, when known) are the items sent before and the members of
    their clusters, so a retelling that Whisper garbled differently is still recognised."""
    kept, excluded = [], {"below_min_insight": 0, "repeats_past_digest": 0}
    for cluster in clusters:
        if cluster.representative.score < config.min_insight:
            excluded["below_min_insight"] += 1
            continue
        repeat, seen = is_repeat(cluster, past_embeddings, past_texts, config)
        if repeat:
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


@dataclass
class Ranking:
    """The day's top items, and how many clusters were left out and why."""

    items: list[TopItem]
    excluded_by_reason: dict[str, int]


def rank_clusters(
    clusters: list[Cluster],
    past_embeddings: np.ndarray | None = None,
    config: RankingConfig | None = None,
    past_texts: list[str] | None = None,
) -> list[TopItem]:
    """The day's top items (at most `top_n`, never padded below the insight floor), ranked 1..n."""
    return choose_top(clusters, past_embeddings, config, past_texts).items


ContextOf = Callable[[Candidate], tuple[str, str]]
CONTEXT_WORDS_BEFORE, CONTEXT_WORDS_AFTER = 60, 40


def transcript_context(episodes: list[EpisodeTranscript]) -> ContextOf:
    """What was said just before and after a passage, from its episode's segments (for the LLM's context)."""
    by_episode = {e.episode_id: sorted(e.segments, key=lambda s: s.seq) for e in episodes}

    def context_of(candidate: Candidate) -> tuple[str, str]:
        segments = by_episode.get(candidate.episode_id, [])
        before = " ".join(s.text for s in segments if candidate.seq_start - 3 <= s.seq < candidate.seq_start)
        after = " ".join(s.text for s in segments if candidate.seq_end < s.seq <= candidate.seq_end + 2)
        return " ".join(before.split()[-CONTEXT_WORDS_BEFORE:]), " ".join(after.split()[:CONTEXT_WORDS_AFTER])

    return context_of


def item_evidence(cluster: Cluster, context_of: ContextOf | None = None) -> list[str]:
    """Each supporting show's passage (in brackets) with what was said around it, named by show."""
    evidence = []
    for member in cluster.supporting_members():
        before, after = context_of(member) if context_of else ("", "")
        passage = f"{before} [{member.text}] {after}" if context_of else member.text
        evidence.append(f"{member.podcast}: {' '.join(passage.split())}")
    return evidence


def item_topic(cluster: Cluster, embed: Callable[[list[str]], np.ndarray] | None = None) -> str:
    """The topic line of a chosen idea, from its supporting passages and their episode titles."""
    backing = cluster.supporting_members()
    titles = list(dict.fromkeys(clean_title(m.episode_title, m.podcast) for m in backing))
    return cluster_topic([m.text for m in backing], titles, embed)


def choose_top(
    clusters: list[Cluster],
    past_embeddings: np.ndarray | None = None,
    config: RankingConfig | None = None,
    past_texts: list[str] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    context_of: ContextOf | None = None,
    known_topics: Mapping[str, str] | None = None,
) -> Ranking:
    """Rank the day's clusters once: the top items (each with its topic line) and the exclusions by reason.

    `known_topics` (by representative candidate id, from an earlier run of the day) are reused as they are,
    so a re-run embeds nothing."""
    config = config or RankingConfig()
    past = past_embeddings if past_embeddings is not None else np.zeros((0, DIMENSIONS), dtype=np.float32)
    scored, excluded = eligible_clusters(clusters, past, config, past_texts)
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
                evidence=item_evidence(cluster, context_of),
                novelty=round(novelty, 4),
                topic=(known_topics or {}).get(rep.candidate_id) or item_topic(cluster, embed),
            )
        )
    return Ranking(items, excluded)
