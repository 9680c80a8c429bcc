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
from podigest_dagster.warehouse.db import transaction

EPISODE_COLUMNS = (
    "episode_id", "feed_url", "podcast", "guid", "title", "published_at", "partition_date", "date_status",
    "enclosure_url", "enclosure_type", "enclosure_length", "duration_s", "link", "show_notes", "transcript_urls",
)  # fmt: skip

UPSERT_BATCH_ROWS = 500
INSERT_EPISODES = """
INSERT INTO episodes (episode_id, feed_url, podcast, guid, title, published_at, partition_date, date_status,
                      enclosure_url, enclosure_type, enclosure_length, duration_s, link, show_notes,
                      transcript_urls, first_seen_at, updated_at)
VALUES """
EPISODE_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
ON_EPISODE_CONFLICT = """
ON CONFLICT (episode_id) DO UPDATE SET
    feed_url = excluded.feed_url, podcast = excluded.podcast, guid = excluded.guid, title = excluded.title,
    published_at = excluded.published_at, partition_date = excluded.partition_date,
    date_status = excluded.date_status, enclosure_url = excluded.enclosure_url,
    enclosure_type = excluded.enclosure_type, enclosure_length = excluded.enclosure_length,
    duration_s = excluded.duration_s, link = excluded.link, show_notes = excluded.show_notes,
    transcript_urls = excluded.transcript_urls, updated_at = excluded.updated_at
"""

UPSERT_FEED = """
INSERT INTO feeds (feed_url, name, title, etag, last_modified, last_polled_at, last_status, last_error,
                   last_http_status)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (feed_url) DO UPDATE SET
    name = excluded.name, title = COALESCE(excluded.title, feeds.title), etag = excluded.etag,
    last_modified = excluded.last_modified, last_polled_at = excluded.last_polled_at,
    last_status = excluded.last_status, last_error = excluded.last_error,
    last_http_status = excluded.last_http_status
"""

UPSERT_AUDIO = """
INSERT INTO episode_audio (episode_id, partition_date, source_url, status, sha256, path, bytes, content_type,
                           error, attempts, downloaded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (episode_id) DO UPDATE SET
    partition_date = excluded.partition_date, source_url = excluded.source_url, status = excluded.status,
    sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
    content_type = excluded.content_type, error = excluded.error,
    attempts = episode_audio.attempts + excluded.attempts, downloaded_at = excluded.downloaded_at
"""


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


def feed_validators(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    """feed_url -> (etag, last_modified) stored by the last successful poll."""
    rows = conn.execute("SELECT feed_url, etag, last_modified FROM feeds").fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


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
    for start in range(0, len(records), UPSERT_BATCH_ROWS):
        batch = records[start : start + UPSERT_BATCH_ROWS]
        values = [value for record in batch for value in _episode_row(record, now)]
        conn.execute(_upsert_episodes_sql(len(batch)), values)


def _upsert_episodes_sql(rows: int) -> str:
    return INSERT_EPISODES + ", ".join([EPISODE_PLACEHOLDERS] * rows) + ON_EPISODE_CONFLICT


def _episode_row(record: EpisodeRecord, now: datetime) -> list[object]:
    values = [valid_value(getattr(record, c)) for c in EPISODE_COLUMNS]
    values[EPISODE_COLUMNS.index("transcript_urls")] = json.dumps(record.transcript_urls)
    return [*values, now, now]


def count_partition_episodes(conn: duckdb.DuckDBPyConnection, day: date) -> int:
    return conn.execute("SELECT count(*) FROM episodes WHERE partition_date = ?", [day]).fetchone()[0]


def audio_tasks(conn: duckdb.DuckDBPyConnection, day: date) -> list[AudioTask]:
    """Every episode of the day with its audio row, if any."""
    rows = conn.execute(
        """
        SELECT e.episode_id, e.feed_url, e.title, e.enclosure_url, a.status, a.sha256, a.path, a.bytes,
               a.content_type
        FROM episodes e LEFT JOIN episode_audio a ON a.episode_id = e.episode_id
        WHERE e.partition_date = ?
        ORDER BY e.published_at, e.episode_id
        """,
        [day],
    ).fetchall()
    return [AudioTask(*row) for row in rows]


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


def record_audio_ok(
    conn: duckdb.DuckDBPyConnection,
    episode_id: str,
    day: date,
    url: str,
    result: DownloadResult,
    at: datetime,
) -> None:
    conn.execute(
        UPSERT_AUDIO,
        [
            episode_id, day, url, "ok", result.sha256, str(result.path), result.bytes, result.content_type,
            None, result.attempts, at,
        ],
    )  # fmt: skip


def record_audio_failed(
    conn: duckdb.DuckDBPyConnection, episode_id: str, day: date, url: str | None, error: str, attempts: int
) -> None:
    status = "no_enclosure" if url is None else "failed"
    conn.execute(UPSERT_AUDIO, [episode_id, day, url, status, None, None, None, None, error, attempts, None])
