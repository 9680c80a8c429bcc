"""The search index's SQL: what it reads from the warehouse, and its own DuckDB file (search.duckdb).

The index is a separate file derived from the warehouse: it is rebuildable (delete it and the next
`search_index` run builds it from every stored day), its million-row BM25 tables stay out of the
warehouse and its backups, its day updates take their own writer lock instead of the warehouse's,
and it works the same when the warehouse is a DuckLake catalog (whose tables cannot carry the fts
extension's index). It holds per day: the episodes, their transcript segments (BM25 over `text`) and
the insight passages with their MiniLM embeddings (semantic search), copied from the warehouse, each with
its speaker as the transcript names it (a passage: the speaker of its first segment; NULL when unnamed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.search import fts
from podigest_dagster.warehouse.db import transaction

TABLE = "segments"
# Bumped when this file's tables change; the DuckDB version is part of it because the fts extension's
# internal tables, which the day updates write, belong to its version. A mismatch means a rebuild.
LAYOUT = f"search-2/duckdb-{duckdb.__version__}"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS episodes (episode_id VARCHAR NOT NULL, partition_date DATE NOT NULL, "
    "podcast VARCHAR, title VARCHAR, audio_url VARCHAR, link VARCHAR)",
    "CREATE TABLE IF NOT EXISTS segments (doc_id BIGINT NOT NULL, partition_date DATE NOT NULL, "
    "episode_id VARCHAR NOT NULL, seq INTEGER, start_s DOUBLE, end_s DOUBLE, text VARCHAR, speaker VARCHAR)",
    "CREATE TABLE IF NOT EXISTS passages (candidate_id VARCHAR NOT NULL, partition_date DATE NOT NULL, "
    f"episode_id VARCHAR NOT NULL, start_s DOUBLE, end_s DOUBLE, text VARCHAR, embedding FLOAT[{DIMENSIONS}], "
    "speaker VARCHAR)",
    "CREATE TABLE IF NOT EXISTS indexed_days (partition_date DATE NOT NULL, episodes INTEGER, "
    "segments INTEGER, passages INTEGER, indexed_at TIMESTAMPTZ)",
]
TABLES = ["meta", "episodes", "segments", "passages", "indexed_days"]

# --- warehouse reads -------------------------------------------------------------------------------

WAREHOUSE_DAYS_SQL = """
SELECT DISTINCT e.partition_date FROM episodes e
WHERE e.partition_date IS NOT NULL
  AND EXISTS (SELECT 1 FROM transcript_segments s WHERE s.episode_id = e.episode_id)
ORDER BY 1
"""
WAREHOUSE_EPISODES_SQL = """
SELECT e.episode_id, e.partition_date, coalesce(e.podcast, e.feed_url) AS podcast, coalesce(e.title, '') AS title,
       e.enclosure_url AS audio_url, e.link
FROM episodes e WHERE e.partition_date = ?
  AND EXISTS (SELECT 1 FROM transcript_segments s WHERE s.episode_id = e.episode_id)
ORDER BY e.episode_id
"""
WAREHOUSE_SEGMENTS_SQL = """
SELECT s.episode_id, e.partition_date, s.seq, s.start_s, s.end_s, s.text, s.speaker
FROM transcript_segments s JOIN episodes e ON e.episode_id = s.episode_id
WHERE e.partition_date = ? ORDER BY s.episode_id, s.seq
"""
WAREHOUSE_PASSAGES_SQL = """
SELECT c.candidate_id, e.partition_date, c.episode_id, c.start_s, c.end_s, c.text, m.embedding, s.speaker
FROM insight_candidates c JOIN episodes e ON e.episode_id = c.episode_id
JOIN insight_embeddings m ON m.candidate_id = c.candidate_id
LEFT JOIN transcript_segments s ON s.episode_id = c.episode_id AND s.seq = c.seq_start
WHERE e.partition_date = ? ORDER BY c.episode_id, c.start_s, c.candidate_id
"""


@dataclass
class DayRows:
    """One day of the warehouse as the index stores it: episodes, segments and embedded passages."""

    day: date
    episodes: pd.DataFrame
    segments: pd.DataFrame
    passages: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "episodes": len(self.episodes),
            "segments": len(self.segments),
            "passages": len(self.passages),
        }


def load_day(conn: duckdb.DuckDBPyConnection, day: date) -> DayRows:
    """The day's transcribed episodes, their segments and their embedded insight passages."""
    return DayRows(
        day,
        conn.execute(WAREHOUSE_EPISODES_SQL, [day]).df(),
        conn.execute(WAREHOUSE_SEGMENTS_SQL, [day]).df(),
        conn.execute(WAREHOUSE_PASSAGES_SQL, [day]).df(),
    )


def warehouse_days(conn: duckdb.DuckDBPyConnection) -> list[date]:
    """Every day that has a transcribed episode."""
    return [row[0] for row in conn.execute(WAREHOUSE_DAYS_SQL).fetchall()]


# --- the index file --------------------------------------------------------------------------------


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension and create the index's tables if they are missing."""
    fts.load(conn)
    for statement in SCHEMA:
        conn.execute(statement)


def prepare_reader(conn: duckdb.DuckDBPyConnection) -> None:
    """What a read-only connection needs: the fts extension (its stemmer and tokenizer)."""
    fts.load(conn)


def is_current(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds a complete index in this code's layout (else it must be rebuilt)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
    except duckdb.CatalogException:
        return False
    return bool(row and row[0] == LAYOUT and fts.index_exists(conn, TABLE))


def rebuild(conn: duckdb.DuckDBPyConnection, days: Iterator[DayRows]) -> dict[str, int]:
    """Empty the index, store every given day, then build the BM25 index once over all segments."""
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"DROP SCHEMA IF EXISTS {fts.schema(TABLE)} CASCADE")
    prepare(conn)
    totals = {"days": 0, "episodes": 0, "segments": 0, "passages": 0}
    for rows in days:
        with transaction(conn):
            _insert_day(conn, rows)
        totals["days"] += 1
        for key, value in rows.counts().items():
            totals[key] += value
    fts.create_index(conn, TABLE, "doc_id", "text")
    with transaction(conn):
        conn.execute("DELETE FROM meta WHERE key = 'layout'")
        conn.execute("INSERT INTO meta VALUES ('layout', ?)", [LAYOUT])
    conn.execute("CHECKPOINT")
    return totals


def replace_day(conn: duckdb.DuckDBPyConnection, rows: DayRows) -> dict[str, int]:
    """Swap one day's rows in the index, BM25 tables included, in one transaction (a re-run of the day
    replaces what it indexed before; its episodes' rows under another day are replaced too)."""
    ids = rows.episodes["episode_id"].tolist()
    where = "partition_date = ? OR list_contains(?::VARCHAR[], episode_id)"
    with transaction(conn):
        day_docs = f"SELECT doc_id FROM segments WHERE {where}"  # noqa: S608 - constants only
        removed = fts.remove_documents(conn, TABLE, day_docs, [rows.day, ids])
        for table in ("segments", "passages", "episodes"):
            conn.execute(f"DELETE FROM {table} WHERE {where}", [rows.day, ids])  # noqa: S608
        first = _insert_day(conn, rows)
        added = fts.add_documents(
            conn, TABLE, "SELECT doc_id AS name, text FROM segments WHERE doc_id >= ?", [first]
        )
    return {"segments_removed": removed, "segments_added": added, **rows.counts()}


def _insert_day(conn: duckdb.DuckDBPyConnection, rows: DayRows) -> int:
    """Append a day's rows (segments numbered after the last doc_id); returns its first doc_id."""
    first = conn.execute("SELECT coalesce(max(doc_id), -1) + 1 FROM segments").fetchone()[0]
    if len(rows.episodes):
        conn.register("incoming_episodes", rows.episodes)
        conn.execute(
            "INSERT INTO episodes SELECT episode_id, partition_date, podcast, title, audio_url, link "
            "FROM incoming_episodes"
        )
        conn.unregister("incoming_episodes")
    if len(rows.segments):
        conn.register("incoming_segments", rows.segments)
        conn.execute(
            "INSERT INTO segments SELECT ? + row_number() OVER (ORDER BY episode_id, seq) - 1, partition_date, "
            "episode_id, seq, start_s, end_s, text, speaker FROM incoming_segments",
            [first],
        )
        conn.unregister("incoming_segments")
    if len(rows.passages):
        conn.register("incoming_passages", rows.passages)
        conn.execute(
            "INSERT INTO passages SELECT candidate_id, partition_date, episode_id, start_s, end_s, text, "  # noqa: S608
            f"embedding::FLOAT[{DIMENSIONS}], speaker FROM incoming_passages"
        )
        conn.unregister("incoming_passages")
    conn.execute("DELETE FROM indexed_days WHERE partition_date = ?", [rows.day])
    conn.execute(
        "INSERT INTO indexed_days VALUES (?, ?, ?, ?, ?)",
        [rows.day, len(rows.episodes), len(rows.segments), len(rows.passages), datetime.now(UTC)],
    )
    return int(first)


def index_summary(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How much the index holds: days, episodes, segments and passages."""
    days, episodes, segments, passages = conn.execute(
        "SELECT (SELECT count(*) FROM indexed_days), (SELECT count(*) FROM episodes), "
        "(SELECT count(*) FROM segments), (SELECT count(*) FROM passages)"
    ).fetchone()
    return {"days": days, "episodes": episodes, "segments": segments, "passages": passages}


# --- queries ---------------------------------------------------------------------------------------

FILTERS = "($show IS NULL OR contains(lower(e.podcast), lower($show))) AND ($since IS NULL OR e.partition_date >= $since)"
WORD_HITS_SQL = f"""
WITH words AS ({fts.bm25_sql(TABLE)})
SELECT s.episode_id, s.start_s, s.end_s, s.text, w.score, s.speaker
FROM words w JOIN segments s ON s.doc_id = w.name JOIN episodes e ON e.episode_id = s.episode_id
WHERE {FILTERS}
ORDER BY w.score DESC, s.doc_id LIMIT $limit
"""  # noqa: S608 - constants only
MEANING_HITS_SQL = f"""
SELECT p.episode_id, p.start_s, p.end_s, p.text, array_inner_product(p.embedding, $vector::FLOAT[{DIMENSIONS}]) AS score,
       p.speaker
FROM passages p JOIN episodes e ON e.episode_id = p.episode_id
WHERE {FILTERS} AND array_inner_product(p.embedding, $vector::FLOAT[{DIMENSIONS}]) >= $floor
ORDER BY score DESC, p.candidate_id LIMIT $limit
"""  # noqa: S608 - constants only
EPISODES_SQL = """
SELECT episode_id, CAST(partition_date AS VARCHAR), podcast, title, audio_url, link FROM episodes
WHERE list_contains(?::VARCHAR[], episode_id)
"""
STEMS_SQL = (
    f"SELECT word, stem(lower(strip_accents(word)), '{fts.STEMMER}') FROM unnest(?::VARCHAR[]) t(word)"  # noqa: S608
)


def word_hits(
    conn: duckdb.DuckDBPyConnection, query: str, show: str | None, since: date | None, limit: int
) -> list[tuple]:
    """(episode_id, start_s, end_s, text, BM25 score, speaker) of the best-matching segments."""
    params = {"query": query, "show": show, "since": since, "limit": limit}
    return conn.execute(WORD_HITS_SQL, params).fetchall()


def meaning_hits(
    conn: duckdb.DuckDBPyConnection,
    vector: list[float],
    show: str | None,
    since: date | None,
    limit: int,
    floor: float,
) -> list[tuple]:
    """(episode_id, start_s, end_s, text, cosine, speaker) of the passages closest in meaning, at least `floor`."""
    params = {"vector": vector, "show": show, "since": since, "limit": limit, "floor": floor}
    return conn.execute(MEANING_HITS_SQL, params).fetchall()


HIGHLIGHT_TERMS_SQL = f"""
SELECT DISTINCT stem(token, '{fts.STEMMER}') FROM (SELECT unnest({fts.schema(TABLE)}.tokenize($query)) AS token)
WHERE token <> '' AND token NOT IN (SELECT sw FROM {fts.schema(TABLE)}.stopwords)
"""  # noqa: S608 - constants only


def query_stems(conn: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    """The query's stemmed terms that can match (stopwords are never indexed), to mark in snippets."""
    return {row[0] for row in conn.execute(HIGHLIGHT_TERMS_SQL, {"query": query}).fetchall() if row[0]}


def word_stems(conn: duckdb.DuckDBPyConnection, words: list[str]) -> dict[str, str]:
    """Each word's stem under the index's tokenizer rules (for highlighting)."""
    if not words:
        return {}
    return dict(conn.execute(STEMS_SQL, [sorted(set(words))]).fetchall())


def episodes_by_id(conn: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, tuple]:
    """episode_id -> (day, podcast, title, audio_url, link)."""
    if not ids:
        return {}
    return {row[0]: row[1:] for row in conn.execute(EPISODES_SQL, [sorted(set(ids))]).fetchall()}
