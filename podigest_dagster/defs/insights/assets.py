"""Insight assets: candidates -> embeddings -> stories (table insight_clusters) -> top insights, one daily
partition each.

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
from podigest_dagster.core.insights.embedding import embed_passages
from podigest_dagster.core.insights.pipeline import episode_infos, episode_texts
from podigest_dagster.core.insights.selection import (
    SelectionConfig,
    TopItem,
    build_items,
    choose_stories,
    selection_fingerprint,
)
from podigest_dagster.core.insights.stories import Story, find_stories
from podigest_dagster.core.insights.value import shipped_floors
from podigest_dagster.core.text.display import md_cell
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.insights.resources import EmbedderResource, LLMResource
from podigest_dagster.defs.warehouse import WarehouseResource

GROUP = "insights"


class InsightsConfig(dg.Config):
    """How far back the digest looks for repeats and shows' boilerplate, how many items it sends at most, and
    the predicted value (0-3 on the reader's rubric) an item needs to be sent: by default the value model's
    own send floor, chosen when it was trained."""

    lookback_days: int = 30
    top_n: int = 5
    send_floor: float | None = None


# --- previews --------------------------------------------------------------------------------------


def top_preview(items: list[TopItem]) -> str:
    """The top items as a markdown table for the Dagster UI."""
    lines = ["| rank | shows | score | topic | insight | said by | sources | rewrite |", "|---|---|---|---|---|---|---|---|"]
    for i in items:
        sources = ", ".join(
            f"{s.podcast} @{int(s.start_s)}s" if s.start_s is not None else s.podcast for s in [*i.sources, *i.coverage]
        )
        lines.append(
            f"| {i.rank} | {i.support} | {i.score:.2f} | {md_cell(i.topic, 60)} | {md_cell(i.insight, 200)} | "
            f"{md_cell(i.speaker, 40)} | {md_cell(sources, 120)} | {md_cell(i.rewrite_status, 60)} |"
        )
    return "\n".join(lines)


def stories_preview(stories: list[Story], limit: int = 10) -> str:
    """The best `limit` stories as a markdown table for the Dagster UI."""
    lines = ["| story | shows | value | podcasts | lead passage |", "|---|---|---|---|---|"]
    for s in sorted(stories, key=lambda s: (-s.shows, -s.lead.score))[:limit]:
        podcasts = ", ".join(dict.fromkeys(m.podcast for m in [s.lead, *s.coverage]))
        lines.append(
            f"| {s.story_id} | {s.shows} | {s.lead.score:.2f} | {md_cell(podcasts, 80)} | {md_cell(s.lead.text, 200)} |"
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
    """Candidate passages of the day's transcripts: whole thoughts of one to five sentences, sponsor reads (whole
    spans, learned), a show's boilerplate and sentences recent digests sent removed first, each scored by the value model (the reader's
    rubric value it predicts); per episode the best that share no sentence are kept. The day's sentences,
    titles and show notes are embedded once, only when there are any."""
    day = date.fromisoformat(context.partition_key)
    with warehouse.read_connection() as conn:
        episodes = insight_store.load_day_transcripts(conn, day)
        feeds = sorted({e.feed_url for e in episodes})
        past = insight_store.load_past_show_texts(conn, day, feeds, config.lookback_days)
        _, sent_before = insight_store.load_past_sent(conn, day, config.lookback_days)
        fingerprint = extraction_fingerprint(episodes, past, sent_before=sent_before)
        last = insight_store.last_extraction(conn, day)
        if last and last[0] == fingerprint:
            kept = conn.execute(insight_store.CANDIDATE_COUNT_SQL, [day]).fetchone()[0]
            context.log.info("insight_candidates: transcripts, models and code unchanged; kept the stored candidates")
            return _candidates_result(len(episodes), kept, last[1], past, unchanged=True)
    found = extract_candidates(episodes, past, embed=embedder.embed, sent_before=sent_before)
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
    their sentences (stories and selection reuse them)."""
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
def insight_clusters(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The day's stories: passages of different shows that cover the same story (the same named event,
    product, deal, person's move or study) grouped, each led by its best passage with one passage per other
    show as its coverage; a passage on no shared story is a story of one show."""
    day = date.fromisoformat(context.partition_key)
    with warehouse.read_connection() as conn:
        candidates, vectors, sentence_vectors = insight_store.load_candidates(conn, day)
        texts = episode_texts(insight_store.load_day_transcripts(conn, day)) if candidates else {}
    stories = find_stories(candidates, vectors, sentence_vectors, shipped_floors().pool, texts)
    with warehouse.get_connection() as conn:
        insight_store.replace_stories(conn, day, stories)
    shows = Counter(s.shows for s in stories)
    return dg.MaterializeResult(
        metadata={
            "candidates": len(candidates),
            "stories": len(stories),
            "stories_of_several_shows": sum(1 for s in stories if s.shows > 1),
            "stories_by_shows": dg.MetadataValue.json({str(k): v for k, v in sorted(shows.items())}),
            "top_stories": dg.MetadataValue.md(stories_preview(stories)),
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
    """The day's top insights: stories ranked by predicted value and coverage, above the value floor (never
    padded), none the reader got in the last days, no two about one thing, at most two per show while others
    qualify; each named (topic line, bracketed referent, speaker) and optionally rewritten by the LLM (a
    re-run reuses the day's accepted rewrites), the extract kept on any failure."""
    day = date.fromisoformat(context.partition_key)
    selection = SelectionConfig(top_n=config.top_n, send_floor=config.send_floor)
    with warehouse.read_connection() as conn:
        past, sent_before = insight_store.load_past_sent(conn, day, config.lookback_days)
        extraction = insight_store.last_extraction(conn, day)
        fingerprint = (
            selection_fingerprint(extraction[0], sent_before, selection, embedder.model_dir) if extraction else None
        )
        last = insight_store.last_top_build(conn, day)
        if fingerprint and last and last[0] == fingerprint and not llm.model:
            context.log.info("top_insights: candidates, past digests and settings unchanged; kept the stored items")
            return dg.MaterializeResult(metadata={"items": last[1], "unchanged_since_last_build": True})
        stories = insight_store.load_stories(conn, day)
        earlier_rewrites = insight_store.load_llm_rewrites(conn, day)
        rewriter = llm.rewriter()
        transcripts = insight_store.load_day_transcripts(conn, day)
    ranking = choose_stories(stories, past, selection)
    items = build_items(ranking, episode_infos(transcripts), embed=embedder.embed)
    rewriter.rewrite_items(items, earlier_rewrites)
    with warehouse.get_connection() as conn:
        insight_store.replace_top_insights(conn, day, items, fingerprint if not llm.model else None)
    return dg.MaterializeResult(
        metadata={
            "unchanged_since_last_build": False,
            "items": len(items),
            "stories_considered": len(stories),
            "excluded_by_reason": dg.MetadataValue.json(ranking.excluded_by_reason),
            "past_insights_compared": len(past),
            "rewrite_status": dg.MetadataValue.json(dict(Counter(i.rewrite_status for i in items))),
            "llm_tokens_used": rewriter.tokens_used,
            "llm_rewrites_reused": rewriter.reused,
            "preview": dg.MetadataValue.md(top_preview(items)),
        }
    )
