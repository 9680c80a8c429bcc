"""Insight assets: candidates -> embeddings -> clusters -> top insights, one daily partition each.

Each asset reads its inputs on a short read connection, computes with no connection open, then replaces
its partition's rows in one short write transaction, so re-running a partition never duplicates rows."""

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date, timedelta

import dagster as dg
import duckdb
import numpy as np

from podigest_dagster.core.candidates import Candidate, EpisodeTranscript, Segment, extract_candidates
from podigest_dagster.core.clustering import Cluster, cluster_candidates, embed_sentences
from podigest_dagster.core.embedding import DIMENSIONS
from podigest_dagster.core.ranking import RankingConfig, TopItem, eligible_clusters, rank_clusters
from podigest_dagster.partitions import daily_partitions
from podigest_dagster.resources.embedder import EmbedderResource
from podigest_dagster.resources.llm import LLMResource
from podigest_dagster.resources.warehouse import WarehouseResource

GROUP = "insights"
PAST_EPISODES_PER_SHOW = 5


class InsightsConfig(dg.Config):
    """How far back the digest looks for repeats and shows' boilerplate, and how many items it sends."""

    lookback_days: int = 30
    top_n: int = 5


# --- reading ---------------------------------------------------------------------------------------


def _matrix(vectors: list[list[float]]) -> np.ndarray:
    return np.array(vectors, dtype=np.float32).reshape(len(vectors), DIMENSIONS)


def load_day_transcripts(conn: duckdb.DuckDBPyConnection, day: date) -> list[EpisodeTranscript]:
    """The partition's episodes that have transcript segments, with their segments in order."""
    episodes = conn.execute(
        "SELECT episode_id, coalesce(podcast, feed_url), coalesce(title, ''), feed_url, link, enclosure_url "
        "FROM episodes e WHERE partition_date = ? "
        "AND EXISTS (SELECT 1 FROM transcript_segments s WHERE s.episode_id = e.episode_id) "
        "ORDER BY episode_id",
        [day],
    ).fetchall()
    segments: dict[str, list[Segment]] = defaultdict(list)
    rows = conn.execute(
        "SELECT s.episode_id, s.seq, s.start_s, s.end_s, s.text, s.avg_logprob FROM transcript_segments s "
        "JOIN episodes e ON e.episode_id = s.episode_id WHERE e.partition_date = ? ORDER BY s.episode_id, s.seq",
        [day],
    ).fetchall()
    for episode_id, seq, start_s, end_s, text, avg_logprob in rows:
        segments[episode_id].append(Segment(seq, start_s, end_s, text, avg_logprob))
    return [
        EpisodeTranscript(eid, podcast, title, feed, segments[eid], link, enclosure)
        for eid, podcast, title, feed, link, enclosure in episodes
    ]


def load_past_show_texts(
    conn: duckdb.DuckDBPyConnection, day: date, feeds: list[str], lookback_days: int
) -> dict[str, list[str]]:
    """Full transcripts of each show's latest earlier episodes: the reference for its recurring boilerplate."""
    if not feeds:
        return {}
    rows = conn.execute(
        "SELECT e.feed_url, e.episode_id, max(e.partition_date) AS d, string_agg(s.text, ' ' ORDER BY s.seq) "
        "FROM transcript_segments s JOIN episodes e ON e.episode_id = s.episode_id "
        "WHERE e.partition_date >= ? AND e.partition_date < ? AND list_contains(?, e.feed_url) "
        "GROUP BY e.feed_url, e.episode_id ORDER BY e.feed_url, d DESC, e.episode_id",
        [day - timedelta(days=lookback_days), day, feeds],
    ).fetchall()
    texts: dict[str, list[str]] = defaultdict(list)
    for feed, _, _, text in rows:
        if len(texts[feed]) < PAST_EPISODES_PER_SHOW:
            texts[feed].append(text)
    return dict(texts)


def load_candidates(conn: duckdb.DuckDBPyConnection, day: date) -> tuple[list[Candidate], np.ndarray]:
    """The partition's stored candidates (with episode details) and their embeddings, aligned by row."""
    rows = conn.execute(
        "SELECT c.candidate_id, c.episode_id, coalesce(e.podcast, e.feed_url), e.feed_url, coalesce(e.title, ''), "
        "e.link, e.enclosure_url, c.seq_start, c.seq_end, c.start_s, c.end_s, c.raw_text, c.text, c.score, "
        "c.features, m.embedding "
        "FROM insight_candidates c JOIN episodes e ON e.episode_id = c.episode_id "
        "JOIN insight_embeddings m ON m.candidate_id = c.candidate_id "
        "WHERE c.partition_date = ? ORDER BY c.episode_id, c.start_s, c.candidate_id",
        [day],
    ).fetchall()
    candidates = [
        Candidate(
            candidate_id=r[0], episode_id=r[1], podcast=r[2], feed_url=r[3], episode_title=r[4], link=r[5],
            enclosure_url=r[6], seq_start=r[7], seq_end=r[8], sent_start=r[7], sent_end=r[8], start_s=r[9],
            end_s=r[10], raw_text=r[11], text=r[12], score=r[13], features=json.loads(r[14] or "{}"),
        )
        for r in rows
    ]
    vectors = _matrix([r[15] for r in rows])
    return candidates, vectors


def attach_sentence_vectors(clusters: list[Cluster], embedder: EmbedderResource) -> list[Cluster]:
    """Give each cluster its members' sentence embeddings, so ideas are compared sentence by sentence too."""
    members = [m for c in clusters for m in c.members]
    vectors = iter(embed_sentences(members, embedder.embed))
    for cluster in clusters:
        cluster.sentence_vectors = [next(vectors) for _ in cluster.members]
    return clusters


def load_clusters(conn: duckdb.DuckDBPyConnection, day: date) -> list[Cluster]:
    """The partition's stored clusters, rebuilt with their members, embeddings and representatives."""
    candidates, vectors = load_candidates(conn, day)
    position = {c.candidate_id: i for i, c in enumerate(candidates)}
    rows = conn.execute(
        "SELECT cluster_id, candidate_id, is_representative FROM insight_clusters "
        "WHERE partition_date = ? ORDER BY cluster_id, candidate_id",
        [day],
    ).fetchall()
    groups: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for cluster_id, candidate_id, is_rep in rows:
        if candidate_id in position:
            groups[cluster_id].append((position[candidate_id], is_rep))
    clusters = []
    for cluster_id, entries in sorted(groups.items()):
        indices = [i for i, _ in entries]
        rep = next((i for i, is_rep in entries if is_rep), indices[0])
        clusters.append(
            Cluster(cluster_id, [candidates[i] for i in indices], vectors[indices], candidates[rep], vectors[rep])
        )
    return clusters


def load_past_insight_embeddings(conn: duckdb.DuckDBPyConnection, day: date, lookback_days: int) -> np.ndarray:
    """Embeddings of the items sent in the previous `lookback_days` days, for novelty."""
    return load_past_sent(conn, day, lookback_days)[0]


def load_past_sent(
    conn: duckdb.DuckDBPyConnection, day: date, lookback_days: int
) -> tuple[np.ndarray, list[str]]:
    """What the previous `lookback_days` days sent: each item and every member of its cluster, as aligned
    embeddings and texts, so a retelling that Whisper garbled differently is still known as a repeat."""
    window = [day - timedelta(days=lookback_days), day]
    rows = conn.execute(
        "SELECT embedding, insight FROM top_insights WHERE partition_date >= ? AND partition_date < ? "
        "AND embedding IS NOT NULL "
        "UNION ALL "
        "SELECT m.embedding, k.text FROM top_insights t "
        "JOIN insight_clusters c ON c.partition_date = t.partition_date AND c.cluster_id = t.cluster_id "
        "JOIN insight_candidates k ON k.candidate_id = c.candidate_id "
        "JOIN insight_embeddings m ON m.candidate_id = c.candidate_id "
        "WHERE t.partition_date >= ? AND t.partition_date < ?",
        [*window, *window],
    ).fetchall()
    return _matrix([r[0] for r in rows]), [r[1] for r in rows]


# --- writing ---------------------------------------------------------------------------------------


def replace_candidates(
    conn: duckdb.DuckDBPyConnection, day: date, episode_ids: list[str], candidates: list[Candidate]
) -> None:
    """Swap the partition's candidates for the new ones in one transaction."""
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM insight_candidates WHERE partition_date = ?", [day])
        conn.execute("DELETE FROM insight_candidates WHERE list_contains(?, episode_id)", [episode_ids])
        if candidates:
            conn.executemany(
                "INSERT INTO insight_candidates (candidate_id, partition_date, episode_id, seq_start, seq_end, "
                "start_s, end_s, raw_text, text, score, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [c.candidate_id, day, c.episode_id, c.seq_start, c.seq_end, c.start_s, c.end_s, c.raw_text,
                     c.text, c.score, json.dumps(c.features, sort_keys=True)]
                    for c in candidates
                ],
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def insert_embeddings(conn: duckdb.DuckDBPyConnection, model: str, ids: list[str], vectors: np.ndarray) -> None:
    """Store new embeddings and drop those whose candidate no longer exists, in one transaction."""
    conn.execute("BEGIN TRANSACTION")
    try:
        if ids:
            conn.executemany(
                "INSERT OR REPLACE INTO insight_embeddings (candidate_id, model, embedding) "
                "VALUES (?, ?, ?::FLOAT[384])",
                [[cid, model, vec.tolist()] for cid, vec in zip(ids, vectors, strict=True)],
            )
        conn.execute(
            "DELETE FROM insight_embeddings WHERE candidate_id NOT IN (SELECT candidate_id FROM insight_candidates)"
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def replace_clusters(conn: duckdb.DuckDBPyConnection, day: date, clusters: list[Cluster]) -> None:
    """Swap the partition's cluster memberships in one transaction."""
    rows = [
        [day, c.cluster_id, m.candidate_id, m.candidate_id == c.representative.candidate_id, c.support]
        for c in clusters
        for m in c.members
    ]
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM insight_clusters WHERE partition_date = ?", [day])
        if rows:
            conn.executemany(
                "INSERT INTO insight_clusters (partition_date, cluster_id, candidate_id, is_representative, support) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def sources_json(item: TopItem) -> str:
    return json.dumps([asdict(s) for s in item.sources], ensure_ascii=False)


def replace_top_insights(conn: duckdb.DuckDBPyConnection, day: date, items: list[TopItem]) -> None:
    """Swap the partition's top items in one transaction."""
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM top_insights WHERE partition_date = ?", [day])
        if items:
            conn.executemany(
                "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
                "support, score, sources, rewrite_status, embedding) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::FLOAT[384])",
                [
                    [day, i.rank, i.cluster_id, i.candidate_id, i.insight, i.extractive_text, i.support, i.score,
                     sources_json(i), i.rewrite_status, np.asarray(i.embedding, dtype=np.float32).tolist()]
                    for i in items
                ],
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


# --- previews --------------------------------------------------------------------------------------


def md_cell(text: str, limit: int = 200) -> str:
    """Text safe inside one markdown table cell."""
    flat = " ".join(str(text).split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def top_preview(items: list[TopItem]) -> str:
    lines = ["| rank | support | score | insight | sources | rewrite |", "|---|---|---|---|---|---|"]
    for i in items:
        sources = ", ".join(f"{s.podcast} @{int(s.start_s)}s" for s in i.sources)
        lines.append(
            f"| {i.rank} | {i.support} | {i.score:.2f} | {md_cell(i.insight)} | {md_cell(sources, 120)} | "
            f"{md_cell(i.rewrite_status, 60)} |"
        )
    return "\n".join(lines)


def clusters_preview(clusters: list[Cluster], limit: int = 10) -> str:
    lines = ["| cluster | support | podcasts | representative |", "|---|---|---|---|"]
    for c in clusters[:limit]:
        lines.append(
            f"| {c.cluster_id} | {c.support} | {md_cell(', '.join(c.podcasts), 80)} | {md_cell(c.representative.text)} |"
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
    context: dg.AssetExecutionContext, config: InsightsConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Candidate passages of the day's transcripts: ads, intros, small talk, boilerplate, bare questions
    and dangling fragments removed (counted by reason); each kept passage scored for insightfulness."""
    day = date.fromisoformat(context.partition_key)
    with warehouse.read_connection() as conn:
        episodes = load_day_transcripts(conn, day)
        feeds = sorted({e.feed_url for e in episodes})
        past = load_past_show_texts(conn, day, feeds, config.lookback_days)
    found = extract_candidates(episodes, past)
    with warehouse.get_connection() as conn:
        replace_candidates(conn, day, [e.episode_id for e in episodes], found.kept)
    return dg.MaterializeResult(
        metadata={
            "episodes": len(episodes),
            "candidates_kept": len(found.kept),
            "candidates_dropped": sum(found.dropped_by_reason.values()),
            "dropped_by_reason": dg.MetadataValue.json(found.dropped_by_reason),
            "past_episodes_for_boilerplate": sum(len(v) for v in past.values()),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name=GROUP,
    deps=[insight_candidates],
    kinds={"duckdb", "python"},
)
def insight_embeddings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """all-MiniLM-L6-v2 embeddings (FLOAT[384], unit length) of the candidates not embedded yet."""
    day = date.fromisoformat(context.partition_key)
    model = embedder.model_name
    with warehouse.read_connection() as conn:
        todo = conn.execute(
            "SELECT c.candidate_id, c.text FROM insight_candidates c LEFT JOIN insight_embeddings m "
            "ON m.candidate_id = c.candidate_id AND m.model = ? "
            "WHERE c.partition_date = ? AND m.candidate_id IS NULL ORDER BY c.candidate_id",
            [model, day],
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM insight_candidates WHERE partition_date = ?", [day]).fetchone()[0]
    vectors = embedder.embed([text for _, text in todo])
    with warehouse.get_connection() as conn:
        insert_embeddings(conn, model, [cid for cid, _ in todo], vectors)
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
        candidates, vectors = load_candidates(conn, day)
    sentence_vectors = embed_sentences(candidates, embedder.embed)
    clusters = cluster_candidates(candidates, vectors, sentence_vectors=sentence_vectors)
    with warehouse.get_connection() as conn:
        replace_clusters(conn, day, clusters)
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
    diverse, never padded; optionally rewritten by the LLM, with the extract kept on any failure."""
    day = date.fromisoformat(context.partition_key)
    ranking = RankingConfig(top_n=config.top_n)
    with warehouse.read_connection() as conn:
        clusters = load_clusters(conn, day)
        past, past_texts = load_past_sent(conn, day, config.lookback_days)
    attach_sentence_vectors(clusters, embedder)
    _, excluded = eligible_clusters(clusters, past, ranking, past_texts)
    items = rank_clusters(clusters, past, ranking, past_texts)
    rewriter = llm.rewriter()
    rewriter.rewrite_items(items)
    with warehouse.get_connection() as conn:
        replace_top_insights(conn, day, items)
    return dg.MaterializeResult(
        metadata={
            "items": len(items),
            "clusters_considered": len(clusters),
            "excluded_by_reason": dg.MetadataValue.json(excluded),
            "past_insights_compared": len(past),
            "rewrite_status": dg.MetadataValue.json(dict(Counter(i.rewrite_status for i in items))),
            "llm_tokens_used": rewriter.tokens_used,
            "preview": dg.MetadataValue.md(top_preview(items)),
        }
    )

