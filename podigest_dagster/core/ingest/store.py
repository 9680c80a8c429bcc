"""Warehouse reads and writes of the ingest stage: feeds, episodes, episode_audio (parameterised SQL only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from podigest_dagster.core.ingest.download import DownloadResult
from podigest_dagster.core.ingest.feeds import EpisodeRecord, FeedPoll
from podigest_dagster.core.net.untrusted import valid_value
from podigest_dagster.warehouse.db import retry_conflicts, transaction

EPISODE_COLUMNS = (
    "episode_id", "feed_url", "podcast", "guid", "title", "published_at", "partition_date", "date_status",
    "enclosure_url", "enclosure_type", "enclosure_length", "duration_s", "link", "show_notes", "transcript_urls",
)  # fmt: skip

UPSERT_BATCH_ROWS = 500
# MERGE rather than ON CONFLICT: the same SQL runs on a DuckDB file and on a DuckLake (no primary keys).
MERGE_EPISODES_HEAD = """
MERGE INTO episodes AS t USING (VALUES """
EPISODE_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
MERGE_EPISODES_TAIL = """) AS s (episode_id, feed_url, podcast, guid, title, published_at, partition_date, date_status,
         enclosure_url, enclosure_type, enclosure_length, duration_s, link, show_notes, transcript_urls,
         first_seen_at, updated_at)
ON t.episode_id = s.episode_id
WHEN MATCHED THEN UPDATE SET
    feed_url = s.feed_url, podcast = s.podcast, guid = s.guid, title = s.title,
    published_at = s.published_at, partition_date = s.partition_date,
    date_status = s.date_status, enclosure_url = s.enclosure_url,
    enclosure_type = s.enclosure_type, enclosure_length = s.enclosure_length,
    duration_s = s.duration_s, link = s.link, show_notes = s.show_notes,
    transcript_urls = s.transcript_urls, updated_at = s.updated_at
WHEN NOT MATCHED THEN INSERT (episode_id, feed_url, podcast, guid, title, published_at, partition_date,
    date_status, enclosure_url, enclosure_type, enclosure_length, duration_s, link, show_notes,
    transcript_urls, first_seen_at, updated_at)
VALUES (s.episode_id, s.feed_url, s.podcast, s.guid, s.title, s.published_at, s.partition_date,
    s.date_status, s.enclosure_url, s.enclosure_type, s.enclosure_length, s.duration_s, s.link, s.show_notes,
    s.transcript_urls, s.first_seen_at, s.updated_at)
"""

UPSERT_FEED = """
MERGE INTO feeds AS t USING (SELECT ?::VARCHAR AS feed_url, ?::VARCHAR AS name, ?::VARCHAR AS title,
    ?::VARCHAR AS etag, ?::VARCHAR AS last_modified, ?::TIMESTAMPTZ AS last_polled_at, ?::VARCHAR AS last_status,
    ?::VARCHAR AS last_error, ?::INTEGER AS last_http_status) AS s
ON t.feed_url = s.feed_url
WHEN MATCHED THEN UPDATE SET
    name = s.name, title = COALESCE(s.title, t.title), etag = s.etag,
    last_modified = s.last_modified, last_polled_at = s.last_polled_at,
    last_status = s.last_status, last_error = s.last_error,
    last_http_status = s.last_http_status
WHEN NOT MATCHED THEN INSERT (feed_url, name, title, etag, last_modified, last_polled_at, last_status,
    last_error, last_http_status)
VALUES (s.feed_url, s.name, s.title, s.etag, s.last_modified, s.last_polled_at, s.last_status, s.last_error,
    s.last_http_status)
"""

UPSERT_AUDIO = """
MERGE INTO episode_audio AS t USING (SELECT ?::VARCHAR AS episode_id, ?::DATE AS partition_date,
    ?::VARCHAR AS source_url, ?::VARCHAR AS status, ?::VARCHAR AS sha256, ?::VARCHAR AS path, ?::BIGINT AS bytes,
    ?::VARCHAR AS content_type, ?::VARCHAR AS error, ?::INTEGER AS attempts, ?::TIMESTAMPTZ AS downloaded_at) AS s
ON t.episode_id = s.episode_id
WHEN MATCHED THEN UPDATE SET
    partition_date = s.partition_date, source_url = s.source_url, status = s.status,
    sha256 = s.sha256, path = s.path, bytes = s.bytes,
    content_type = s.content_type, error = s.error,
    attempts = t.attempts + s.attempts, downloaded_at = s.downloaded_at, pruned_at = NULL
WHEN NOT MATCHED THEN INSERT (episode_id, partition_date, source_url, status, sha256, path, bytes, content_type,
    error, attempts, downloaded_at)
VALUES (s.episode_id, s.partition_date, s.source_url, s.status, s.sha256, s.path, s.bytes, s.content_type,
    s.error, s.attempts, s.downloaded_at)
"""
# The transcribe stage's `transcripts.source` of a transcript taken from the publisher (no audio needed).
PUBLISHER_SOURCE = "publisher"


@dataclass(frozen=True)
class AudioTask:
    """An episode of the partition and what is known of its audio so far."""

    episode_id: str
    feed_url: str
    title: str | None
    enclosure_url: str | None
    status: str | None
    sha256: str | None
    path: str | None
    bytes: int | None
    content_type: str | None
    transcript_status: str | None = None
    transcript_source: str | None = None


def feed_validators(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    """feed_url -> (etag, last_modified) stored by the last successful poll."""
    rows = conn.execute("SELECT feed_url, etag, last_modified FROM feeds").fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


@retry_conflicts
def record_poll(conn: duckdb.DuckDBPyConnection, poll: FeedPoll, polled_at: datetime) -> None:
    """Upsert the poll's episodes and its feed row in one transaction (validators never run ahead of data)."""
    with transaction(conn):
        upsert_episodes(conn, poll.episodes, polled_at)
        conn.execute(
            UPSERT_FEED,
            [
                valid_value(poll.feed_url), valid_value(poll.name), valid_value(poll.title),
                valid_value(poll.etag), valid_value(poll.last_modified), polled_at, poll.status,
                valid_value(poll.error), poll.http_status,
            ],
        )  # fmt: skip


def upsert_episodes(conn: duckdb.DuckDBPyConnection, records: list[EpisodeRecord], now: datetime) -> None:
    """Insert new episodes, refresh known ones; first_seen_at is kept from the first poll.

    Rows go in multi-row statements (placeholders only): one statement per row costs ~9 ms in DuckDB,
    which would hold the writer lock for seconds on a feed with a long back catalogue.
    """
    records = list({record.episode_id: record for record in records}.values())  # one row per id
    for start in range(0, len(records), UPSERT_BATCH_ROWS):
        batch = records[start : start + UPSERT_BATCH_ROWS]
        values = [value for record in batch for value in _episode_row(record, now)]
        conn.execute(_upsert_episodes_sql(len(batch)), values)


def _upsert_episodes_sql(rows: int) -> str:
    return MERGE_EPISODES_HEAD + ", ".join([EPISODE_PLACEHOLDERS] * rows) + MERGE_EPISODES_TAIL


def _episode_row(record: EpisodeRecord, now: datetime) -> list[object]:
    values = [valid_value(getattr(record, c)) for c in EPISODE_COLUMNS]
    values[EPISODE_COLUMNS.index("transcript_urls")] = json.dumps(record.transcript_urls)
    return [*values, now, now]


def count_partition_episodes(conn: duckdb.DuckDBPyConnection, day: date) -> int:
    return conn.execute("SELECT count(*) FROM episodes WHERE partition_date = ?", [day]).fetchone()[0]


AUDIO_TASK_SQL = """
SELECT e.episode_id, e.feed_url, e.title, e.enclosure_url, a.status, a.sha256, a.path, a.bytes,
       a.content_type, t.status, t.source
FROM episodes e
LEFT JOIN episode_audio a ON a.episode_id = e.episode_id
LEFT JOIN transcripts t ON t.episode_id = e.episode_id
"""


def audio_tasks(conn: duckdb.DuckDBPyConnection, day: date) -> list[AudioTask]:
    """Every episode of the day with its audio row and whether a transcript of it is stored, if any."""
    rows = conn.execute(
        AUDIO_TASK_SQL + "WHERE e.partition_date = ? ORDER BY e.published_at, e.episode_id", [day]
    ).fetchall()
    return [AudioTask(*row) for row in rows]


def audio_task(conn: duckdb.DuckDBPyConnection, episode_id: str) -> AudioTask | None:
    """One episode as audio_tasks sees it, or None."""
    row = conn.execute(AUDIO_TASK_SQL + "WHERE e.episode_id = ?", [episode_id]).fetchone()
    return AudioTask(*row) if row else None


def downloaded_by_url(conn: duckdb.DuckDBPyConnection) -> dict[str, AudioTask]:
    """source_url -> a finished download of it, so the same URL is never fetched twice."""
    rows = conn.execute(
        """
        SELECT a.episode_id, e.feed_url, e.title, a.source_url, a.status, a.sha256, a.path, a.bytes, a.content_type
        FROM episode_audio a JOIN episodes e ON e.episode_id = a.episode_id
        WHERE a.status = 'ok' AND a.source_url IS NOT NULL
        """
    ).fetchall()
    found = {}
    for row in rows:
        task = AudioTask(*row)
        if task.path and Path(task.path).is_file():
            found[row[3]] = task
    return found


def downloaded_with_url(conn: duckdb.DuckDBPyConnection, url: str) -> AudioTask | None:
    """A finished download of `url` whose file is still on disk (downloaded_by_url for one URL), or None."""
    rows = conn.execute(
        """
        SELECT a.episode_id, e.feed_url, e.title, a.source_url, a.status, a.sha256, a.path, a.bytes, a.content_type
        FROM episode_audio a JOIN episodes e ON e.episode_id = a.episode_id
        WHERE a.status = 'ok' AND a.source_url = ?
        ORDER BY a.episode_id
        """,
        [url],
    ).fetchall()
    for row in rows:
        task = AudioTask(*row)
        if task.path and Path(task.path).is_file():
            return task
    return None


@retry_conflicts
def record_audio_ok(
    conn: duckdb.DuckDBPyConnection,
    episode_id: str,
    day: date,
    url: str,
    result: DownloadResult,
    at: datetime,
) -> None:
    with transaction(conn):
        conn.execute(
            UPSERT_AUDIO,
            [
                episode_id, day, url, "ok", result.sha256, str(result.path), result.bytes, result.content_type,
                None, result.attempts, at,
            ],
        )  # fmt: skip


@retry_conflicts
def record_audio_failed(
    conn: duckdb.DuckDBPyConnection, episode_id: str, day: date, url: str | None, error: str, attempts: int
) -> None:
    status = "no_enclosure" if url is None else "failed"
    with transaction(conn):
        conn.execute(UPSERT_AUDIO, [episode_id, day, url, status, None, None, None, None, error, attempts, None])


CACHED_AUDIO_SQL = """
SELECT a.episode_id, a.path, a.bytes, a.sha256, a.downloaded_at, e.enclosure_url,
       t.status, t.source, t.audio_sha256, t.transcribed_at
FROM episode_audio a
LEFT JOIN episodes e ON e.episode_id = a.episode_id
LEFT JOIN transcripts t ON t.episode_id = a.episode_id
WHERE a.status = 'ok' AND a.path IS NOT NULL
ORDER BY a.path, a.episode_id
"""


@dataclass(frozen=True)
class CachedRow:
    """An episode's downloaded audio and what became of its transcript: whether the file is still needed."""

    episode_id: str
    path: str
    bytes: int | None
    sha256: str | None
    downloaded_at: datetime | None
    enclosure_url: str | None
    transcript_status: str | None
    transcript_source: str | None
    transcript_sha256: str | None
    transcribed_at: datetime | None

    @property
    def transcribed(self) -> bool:
        """Its transcript is stored: the publisher's, or one made from this very audio."""
        if self.transcript_status != "ok":
            return False
        return self.transcript_source == PUBLISHER_SOURCE or (
            self.sha256 is not None and self.transcript_sha256 == self.sha256
        )


def cached_audio(conn: duckdb.DuckDBPyConnection) -> list[CachedRow]:
    """Every downloaded audio file's rows (one per episode using it), with its episode's transcript."""
    return [CachedRow(*row) for row in conn.execute(CACHED_AUDIO_SQL).fetchall()]


def referenced_paths(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """The audio files some row still points at as downloaded."""
    rows = conn.execute("SELECT DISTINCT path FROM episode_audio WHERE status = 'ok' AND path IS NOT NULL")
    return {path for (path,) in rows.fetchall()}


@retry_conflicts
def record_audio_pruned(conn: duckdb.DuckDBPyConnection, paths: list[str], at: datetime) -> None:
    """The rows of deleted files: status `pruned`, with when (their sha256 and path stay as they were)."""
    if not paths:
        return
    with transaction(conn):
        conn.execute(
            "UPDATE episode_audio SET status = 'pruned', pruned_at = ? "
            "WHERE status = 'ok' AND list_contains(?::VARCHAR[], path)",
            [at, sorted(set(paths))],
        )
