"""Insight assets: candidates -> embeddings -> clusters -> top insights, one daily partition each.

Each asset reads its inputs on a short read connection, computes with no connection open, then replaces
its partition's rows in one short write transaction (SQL in `core/insight_store.py`), so re-running a
partition never duplicates rows. No `from __future__ import annotations`: Dagster reads the annotations
at runtime."""

from collections import Counter
from datetime import date

import dagster as dg

from podigest_dagster.core.insights import store as insight_store
from podigest_dagster.core.insights.candidates import (
    SKIPPED_FOR_LANGUAGE,
    extract_candidates,
    extraction_fingerprint,
)
from podigest_dagster.core.insights.clustering import Cluster, cluster_candidates, embed_passages
from podigest_dagster.core.insights.ranking import RankingConfig, TopItem, choose_top, transcript_context
from podigest_dagster.core.text.display import md_cell
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.insights.resources import EmbedderResource, LLMResource
from podigest_dagster.defs.warehouse import WarehouseResource

GROUP = "insights"


class InsightsConfig(dg.Config):
    """How far back the digest looks for repeats and shows' boilerplate, and how many items it sends."""

    lookback_days: int = 30
    top_n: int = 5


# --- previews --------------------------------------------------------------------------------------


def top_preview(items: list[TopItem]) -> str:
    """The top items as a markdown table for the Dagster UI."""
    lines = ["| rank | support | score | insight | sources | rewrite |", "|---|---|---|---|---|---|"]
    for i in items:
        sources = ", ".join(f"{s.podcast} @{int(s.start_s)}s" if s.start_s is not None else s.podcast for s in i.sources)
        lines.append(
            f"| {i.rank} | {i.support} | {i.score:.2f} | {md_cell(i.insight, 200)} | {md_cell(sources, 120)} | "
            f"{md_cell(i.rewrite_status, 60)} |"
        )
    return "\n".join(lines)


def clusters_preview(clusters: list[Cluster], limit: int = 10) -> str:
    """The first `limit` clusters as a markdown table for the Dagster UI."""
    lines = ["| cluster | support | podcasts | representative |", "|---|---|---|---|"]
    for c in clusters[:limit]:
        lines.append(
            f"| {c.cluster_id} | {c.support} | {md_cell(', '.join(c.podcasts), 80)} | {md_cell(c.representative.text, 200)} |"
        )
    return "\n".join(lines)


# --- assets ----------------------------------------------------------------------------------------


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    deps=[dg.AssetKey("transcripts")],
    kinds={"duckdb", "python"},
)
def insight_candidates(
    context: dg.AssetExecutionContext,
    config: InsightsConfig,
    warehouse: WarehouseResource,
    embedder: EmbedderResource,
) -> dg.MaterializeResult:
    """Candidate passages of the day's transcripts: sponsor reads (whole spans, learned), intros, small talk,
    boilerplate, bare questions and dangling fragments removed (counted by reason); each kept passage scored
    for insightfulness by the learned model. The day's sentences are embedded once, only when there are any."""
    day = date.fromisoformat(context.partition_key)
    with warehouse.read_connection() as conn:
        episodes = insight_store.load_day_transcripts(conn, day)
        feeds = sorted({e.feed_url for e in episodes})
        past = insight_store.load_past_show_texts(conn, day, feeds, config.lookback_days)
        fingerprint = extraction_fingerprint(episodes, past)
        last = insight_store.last_extraction(conn, day)
        if last and last[0] == fingerprint:
            kept = conn.execute(insight_store.CANDIDATE_COUNT_SQL, [day]).fetchone()[0]
            context.log.info("insight_candidates: transcripts, models and code unchanged; kept the stored candidates")
            return _candidates_result(len(episodes), kept, last[1], past, unchanged=True)
    found = extract_candidates(episodes, past, embed=embedder.embed)
    for episode_id, reason in found.skipped_episodes.items():
        context.log.info(f"insight_candidates: skipped episode {episode_id}: {reason}")
    with warehouse.get_connection() as conn:
        insight_store.replace_candidates(
            conn, day, [e.episode_id for e in episodes], found.kept, fingerprint, found.dropped_by_reason
        )
    return _candidates_result(
        len(episodes), len(found.kept), found.dropped_by_reason, past, unchanged=False,
        skipped=found.skipped_episodes,
    )


def _candidates_result(
    episodes: int,
    kept: int,
    dropped: dict[str, int],
    past: dict[str, list[str]],
    unchanged: bool,
    skipped: dict[str, str] | None = None,
) -> dg.MaterializeResult:
    metadata = {
        "episodes": episodes,
        "candidates_kept": kept,
        "candidates_dropped": sum(n for reason, n in dropped.items() if reason != SKIPPED_FOR_LANGUAGE),
        "dropped_by_reason": dg.MetadataValue.json(dropped),
        "episodes_skipped": dropped.get(SKIPPED_FOR_LANGUAGE, 0),
        "past_episodes_for_boilerplate": sum(len(v) for v in past.values()),
        "unchanged_since_last_extraction": unchanged,
    }
    if skipped:
        metadata["skipped_episodes"] = dg.MetadataValue.json(skipped)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    deps=[insight_candidates],
    kinds={"duckdb", "python"},
)
def insight_embeddings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """all-MiniLM-L6-v2 embeddings (FLOAT[384], unit length) of the candidates not embedded yet, and of
    their sentences (the day's only embedding step: clusters and ranking reuse them)."""
    day = date.fromisoformat(context.partition_key)
    model = embedder.model_name
    with warehouse.read_connection() as conn:
        todo, total = insight_store.load_unembedded(conn, day, model)
    vectors, sentence_vectors = embed_passages([text for _, text in todo], embedder.embed)
    with warehouse.get_connection() as conn:
        insight_store.store_embeddings(conn, model, [cid for cid, _ in todo], vectors, sentence_vectors)
    return dg.MaterializeResult(
        metadata={"model": model, "embedded_new": len(todo), "already_embedded": total - len(todo)}
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    deps=[insight_embeddings],
    kinds={"duckdb", "python"},
)
def insight_clusters(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """The day's candidates grouped into ideas across episodes and podcasts, each with its support
    (distinct podcasts) and best representative; paraphrases match on their best sentence and key words."""
    day = date.fromisoformat(context.partition_key)
    with warehouse.read_connection() as conn:
        candidates, vectors, sentence_vectors = insight_store.load_candidates(conn, day)
    clusters = cluster_candidates(candidates, vectors, sentence_vectors=sentence_vectors)
    with warehouse.get_connection() as conn:
        insight_store.replace_clusters(conn, day, clusters)
    supports = Counter(c.support for c in clusters)
    return dg.MaterializeResult(
        metadata={
            "candidates": len(candidates),
            "clusters": len(clusters),
            "multi_podcast_clusters": sum(1 for c in clusters if c.support > 1),
            "clusters_by_support": dg.MetadataValue.json({str(k): v for k, v in sorted(supports.items())}),
            "top_clusters": dg.MetadataValue.md(clusters_preview(clusters)),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    deps=[insight_clusters],
    kinds={"duckdb", "python"},
)
def top_insights(
    context: dg.AssetExecutionContext,
    config: InsightsConfig,
    warehouse: WarehouseResource,
    llm: LLMResource,
    embedder: EmbedderResource,
) -> dg.MaterializeResult:
    """The day's top insights: ranked by support, insightfulness and novelty against recent digests,
    diverse, never padded; optionally rewritten by the LLM (a re-run reuses the day's accepted rewrites),
    with the extract kept on any failure."""
    day = date.fromisoformat(context.partition_key)
    ranking = RankingConfig(top_n=config.top_n)
    with warehouse.read_connection() as conn:
        clusters = insight_store.load_clusters(conn, day)
        past, past_texts = insight_store.load_past_sent(conn, day, config.lookback_days)
        earlier_rewrites = insight_store.load_llm_rewrites(conn, day)
        known_topics = insight_store.load_topics(conn, day)
        rewriter = llm.rewriter()
        transcripts = insight_store.load_day_transcripts(conn, day) if rewriter.enabled else []
    chosen = choose_top(
        clusters, past, ranking, past_texts,
        embed=embedder.embed, context_of=transcript_context(transcripts), known_topics=known_topics,
    )
    items, excluded = chosen.items, chosen.excluded_by_reason
    rewriter.rewrite_items(items, earlier_rewrites)
    with warehouse.get_connection() as conn:
        insight_store.replace_top_insights(conn, day, items)
    return dg.MaterializeResult(
        metadata={
            "items": len(items),
            "clusters_considered": len(clusters),
            "excluded_by_reason": dg.MetadataValue.json(excluded),
            "past_insights_compared": len(past),
            "rewrite_status": dg.MetadataValue.json(dict(Counter(i.rewrite_status for i in items))),
            "llm_tokens_used": rewriter.tokens_used,
            "llm_rewrites_reused": rewriter.reused,
            "preview": dg.MetadataValue.md(top_preview(items)),
        }
    )

