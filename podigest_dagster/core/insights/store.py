"""Warehouse reads and writes of the insight stage: each write replaces one partition's rows in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np

from podigest_dagster.core.insights import rows as insight_rows
from podigest_dagster.core.insights.candidates import Candidate, EpisodeTranscript
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.selection import TopItem
from podigest_dagster.core.insights.stories import Story
from podigest_dagster.warehouse.db import transaction

DAY_EPISODES_SQL = """
SELECT episode_id, coalesce(podcast, feed_url), coalesce(title, ''), feed_url, link, enclosure_url,
  (SELECT max(t.language) FROM transcripts t WHERE t.episode_id = e.episode_id), show_notes
FROM episodes e WHERE partition_date = ?
  AND EXISTS (SELECT 1 FROM transcript_segments s WHERE s.episode_id = e.episode_id)
ORDER BY episode_id
"""
DAY_SEGMENTS_SQL = """
SELECT s.episode_id, s.seq, s.start_s, s.end_s, s.text, s.avg_logprob, s.speaker
FROM transcript_segments s JOIN episodes e ON e.episode_id = s.episode_id
WHERE e.partition_date = ? ORDER BY s.episode_id, s.seq
"""
PAST_SHOW_TEXTS_SQL = """
SELECT e.feed_url, e.episode_id, max(e.partition_date) AS d, string_agg(s.text, ' ' ORDER BY s.seq)
FROM transcript_segments s JOIN episodes e ON e.episode_id = s.episode_id
WHERE e.partition_date >= ? AND e.partition_date < ? AND list_contains(?, e.feed_url)
GROUP BY e.feed_url, e.episode_id ORDER BY e.feed_url, d DESC, e.episode_id
"""
DAY_CANDIDATES_SQL = """
SELECT c.candidate_id, c.episode_id, coalesce(e.podcast, e.feed_url), e.feed_url, coalesce(e.title, ''),
       e.link, e.enclosure_url, c.seq_start, c.seq_end, c.start_s, c.end_s, c.raw_text, c.text, c.score,
       c.features, m.embedding, m.sentence_embeddings
FROM insight_candidates c JOIN episodes e ON e.episode_id = c.episode_id
JOIN insight_embeddings m ON m.candidate_id = c.candidate_id
WHERE c.partition_date = ? ORDER BY c.episode_id, c.start_s, c.candidate_id
"""
DAY_MEMBERSHIPS_SQL = """
SELECT cluster_id, candidate_id, is_representative, supports_claim FROM insight_clusters
WHERE partition_date = ? ORDER BY cluster_id, candidate_id
"""
PAST_SENT_SQL = """
SELECT embedding, insight FROM top_insights WHERE partition_date >= ? AND partition_date < ?
  AND embedding IS NOT NULL
UNION ALL
SELECT m.embedding, k.text FROM top_insights t
JOIN insight_clusters c ON c.partition_date = t.partition_date AND c.cluster_id = t.cluster_id
JOIN insight_candidates k ON k.candidate_id = c.candidate_id
JOIN insight_embeddings m ON m.candidate_id = c.candidate_id
WHERE t.partition_date >= ? AND t.partition_date < ?
"""
DAY_LLM_REWRITES_SQL = """
SELECT candidate_id, extractive_text, insight FROM top_insights
WHERE partition_date = ? AND rewrite_status = 'llm'
"""
UNEMBEDDED_SQL = """
SELECT c.candidate_id, c.text FROM insight_candidates c LEFT JOIN insight_embeddings m
  ON m.candidate_id = c.candidate_id AND m.model = ?
WHERE c.partition_date = ? AND (m.candidate_id IS NULL OR m.sentence_embeddings IS NULL)
ORDER BY c.candidate_id
"""
LAST_EXTRACTION_SQL = "SELECT fingerprint, dropped_by_reason FROM candidate_builds WHERE partition_date = ?"
FORGET_EXTRACTION = "DELETE FROM candidate_builds WHERE partition_date = ?"
SAVE_EXTRACTION = (
    "INSERT INTO candidate_builds (partition_date, fingerprint, dropped_by_reason, built_at) VALUES (?, ?, ?, ?)"
)
LAST_TOP_BUILD_SQL = "SELECT fingerprint FROM top_builds WHERE partition_date = ?"
FORGET_TOP_BUILD = "DELETE FROM top_builds WHERE partition_date = ?"
SAVE_TOP_BUILD = "INSERT INTO top_builds (partition_date, fingerprint, built_at) VALUES (?, ?, ?)"
TOP_COUNT_SQL = "SELECT count(*) FROM top_insights WHERE partition_date = ?"
CANDIDATE_COUNT_SQL = "SELECT count(*) FROM insight_candidates WHERE partition_date = ?"

DELETE_DAY_CANDIDATES = "DELETE FROM insight_candidates WHERE partition_date = ?"
DELETE_EPISODE_CANDIDATES = "DELETE FROM insight_candidates WHERE list_contains(?, episode_id)"
INSERT_CANDIDATE = (
    "INSERT INTO insight_candidates (candidate_id, partition_date, episode_id, seq_start, seq_end, "
    "start_s, end_s, raw_text, text, score, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The only formatted part of these statements is the embedding width, a constant int.
# Delete-then-insert (not INSERT OR REPLACE): the same SQL runs on a DuckDB file and on a DuckLake (no keys).
DELETE_EMBEDDINGS = "DELETE FROM insight_embeddings WHERE list_contains(?, candidate_id)"
UPSERT_EMBEDDING = (
    "INSERT INTO insight_embeddings (candidate_id, model, embedding, sentence_embeddings) "  # noqa: S608
    f"VALUES (?, ?, ?::FLOAT[{DIMENSIONS}], ?::FLOAT[{DIMENSIONS}][])"
)
DELETE_ORPHAN_EMBEDDINGS = (
    "DELETE FROM insight_embeddings WHERE candidate_id NOT IN (SELECT candidate_id FROM insight_candidates)"
)
DELETE_DAY_CLUSTERS = "DELETE FROM insight_clusters WHERE partition_date = ?"
INSERT_MEMBERSHIP = (
    "INSERT INTO insight_clusters (partition_date, cluster_id, candidate_id, is_representative, support, "
    "supports_claim) VALUES (?, ?, ?, ?, ?, ?)"
)
DELETE_DAY_TOP = "DELETE FROM top_insights WHERE partition_date = ?"
INSERT_TOP_ITEM = (
    "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "  # noqa: S608
    "support, score, sources, rewrite_status, embedding, topic, speaker, coverage) "
    f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::FLOAT[{DIMENSIONS}], ?, ?, ?)"
)




# --- reading ---------------------------------------------------------------------------------------


def load_day_transcripts(conn: duckdb.DuckDBPyConnection, day: date) -> list[EpisodeTranscript]:
    """The partition's episodes that have transcript segments, with their segments in order."""
    episodes = conn.execute(DAY_EPISODES_SQL, [day]).fetchall()
    segments = conn.execute(DAY_SEGMENTS_SQL, [day]).fetchall()
    return insight_rows.transcripts_from_rows(episodes, segments)


def load_past_show_texts(
    conn: duckdb.DuckDBPyConnection, day: date, feeds: list[str], lookback_days: int
) -> dict[str, list[str]]:
    """Full transcripts of each show's latest earlier episodes: the reference for its recurring boilerplate."""
    if not feeds:
        return {}
    found = conn.execute(PAST_SHOW_TEXTS_SQL, [day - timedelta(days=lookback_days), day, feeds]).fetchall()
    return insight_rows.latest_texts_per_show(found)


def load_candidates(
    conn: duckdb.DuckDBPyConnection, day: date
) -> tuple[list[Candidate], np.ndarray, list[np.ndarray]]:
    """The partition's embedded candidates (with episode details), their embeddings and their sentences'
    embeddings (one (k, d) array each), aligned by row."""
    found = conn.execute(DAY_CANDIDATES_SQL, [day]).fetchall()
    return (
        [insight_rows.candidate_from_row(r) for r in found],
        insight_rows.vector_matrix([r[15] for r in found]),
        [insight_rows.vector_matrix(r[16] or [r[15]]) for r in found],
    )


def load_unembedded(
    conn: duckdb.DuckDBPyConnection, day: date, model: str
) -> tuple[list[tuple[str, str]], int]:
    """The partition's (candidate id, text) pairs with no `model` embedding yet, and its candidate count."""
    todo = [(cid, text) for cid, text in conn.execute(UNEMBEDDED_SQL, [model, day]).fetchall()]
    total = conn.execute(CANDIDATE_COUNT_SQL, [day]).fetchone()[0]
    return todo, total


def load_stories(conn: duckdb.DuckDBPyConnection, day: date) -> list[Story]:
    """The partition's stored stories, rebuilt with their passages and embeddings."""
    candidates, vectors, _ = load_candidates(conn, day)
    memberships = conn.execute(DAY_MEMBERSHIPS_SQL, [day]).fetchall()
    return insight_rows.stories_from_memberships(candidates, vectors, memberships)


def load_past_sent(
    conn: duckdb.DuckDBPyConnection, day: date, lookback_days: int
) -> tuple[np.ndarray, list[str]]:
    """What the previous `lookback_days` days sent: each item and every passage of its story, as aligned
    embeddings and texts, so a retelling in other words is still known as a repeat."""
    window = [day - timedelta(days=lookback_days), day]
    found = conn.execute(PAST_SENT_SQL, [*window, *window]).fetchall()
    return insight_rows.vector_matrix([r[0] for r in found]), [r[1] for r in found]


def load_llm_rewrites(conn: duckdb.DuckDBPyConnection, day: date) -> dict[tuple[str, str], str]:
    """The partition's accepted LLM rewrites by (candidate id, extractive text): a re-run reuses them
    instead of paying for the same call again and getting different wording."""
    found = conn.execute(DAY_LLM_REWRITES_SQL, [day]).fetchall()
    return {(cid, extract): insight for cid, extract, insight in found}


# --- writing ---------------------------------------------------------------------------------------


def replace_candidates(
    conn: duckdb.DuckDBPyConnection,
    day: date,
    episode_ids: list[str],
    candidates: list[Candidate],
    fingerprint: str | None = None,
    dropped_by_reason: dict[str, int] | None = None,
) -> None:
    """Swap the partition's (and its episodes') candidates for the new ones in one transaction, with the
    fingerprint of what they were extracted from (none: the next run extracts again)."""
    with transaction(conn):
        conn.execute(DELETE_DAY_CANDIDATES, [day])
        conn.execute(DELETE_EPISODE_CANDIDATES, [episode_ids])
        if candidates:
            conn.executemany(INSERT_CANDIDATE, [insight_rows.candidate_row(day, c) for c in candidates])
        conn.execute(FORGET_EXTRACTION, [day])
        if fingerprint:
            conn.execute(
                SAVE_EXTRACTION,
                [day, fingerprint, json.dumps(dropped_by_reason or {}), datetime.now(UTC)],
            )


def last_extraction(conn: duckdb.DuckDBPyConnection, day: date) -> tuple[str, dict[str, int]] | None:
    """The fingerprint and drop counts of the partition's stored candidates, if they were recorded."""
    row = conn.execute(LAST_EXTRACTION_SQL, [day]).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def store_embeddings(
    conn: duckdb.DuckDBPyConnection,
    model: str,
    ids: list[str],
    vectors: np.ndarray,
    sentence_vectors: list[np.ndarray],
) -> None:
    """Store new embeddings (the passage's and its sentences') and drop those whose candidate no longer
    exists, in one transaction."""
    rows = [
        [cid, model, vec.tolist(), sentences.tolist()]
        for cid, vec, sentences in zip(ids, vectors, sentence_vectors, strict=True)
    ]
    with transaction(conn):
        if rows:
            conn.execute(DELETE_EMBEDDINGS, [list(dict.fromkeys(ids))])
            conn.executemany(UPSERT_EMBEDDING, list({row[0]: row for row in rows}.values()))
        conn.execute(DELETE_ORPHAN_EMBEDDINGS)


def replace_stories(conn: duckdb.DuckDBPyConnection, day: date, stories: list[Story]) -> None:
    """Swap the partition's story memberships (table insight_clusters) in one transaction."""
    memberships = insight_rows.membership_rows(day, stories)
    with transaction(conn):
        conn.execute(DELETE_DAY_CLUSTERS, [day])
        if memberships:
            conn.executemany(INSERT_MEMBERSHIP, memberships)


def replace_top_insights(
    conn: duckdb.DuckDBPyConnection, day: date, items: list[TopItem], fingerprint: str | None = None
) -> None:
    """Swap the partition's top items in one transaction, with the fingerprint of what they were chosen from
    (none: the next run chooses again)."""
    with transaction(conn):
        conn.execute(DELETE_DAY_TOP, [day])
        conn.execute(FORGET_TOP_BUILD, [day])
        if items:
            conn.executemany(INSERT_TOP_ITEM, [insight_rows.top_item_row(day, i) for i in items])
        if fingerprint:
            conn.execute(SAVE_TOP_BUILD, [day, fingerprint, datetime.now(UTC)])


def last_top_build(conn: duckdb.DuckDBPyConnection, day: date) -> tuple[str, int] | None:
    """The fingerprint the partition's stored top items were chosen from, and how many there are."""
    row = conn.execute(LAST_TOP_BUILD_SQL, [day]).fetchone()
    return (row[0], conn.execute(TOP_COUNT_SQL, [day]).fetchone()[0]) if row else None
