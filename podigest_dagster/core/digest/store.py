"""Warehouse reads and writes for digests: top_insights in, digests/digest_items out, files on disk."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from podigest_dagster.core.digest.render import (
    Digest,
    DigestItem,
    Renderings,
    Source,
    safe_url,
    sources_from_json,
)
from podigest_dagster.core.digest.rss import FeedEntry
from podigest_dagster.warehouse.db import transaction

FILE_SUFFIXES = {"md": "markdown", "html": "html", "txt": "text", "json": "json"}


ITEM_COLUMNS = "rank, insight, support, sources, topic, speaker, coverage"
"""What a digest item is made of, in top_insights and digest_items alike."""


def _item(row: tuple) -> DigestItem:
    """A digest item from its ITEM_COLUMNS; a row from before migration 008 has no speaker or coverage."""
    rank, insight, support, sources, topic, speaker, coverage = row
    return DigestItem(
        int(rank),
        insight,
        int(support),
        sources_from_json(sources),
        topic or "",
        speaker=speaker or "",
        coverage=sources_from_json(coverage),
    )


def load_top_insights(conn: duckdb.DuckDBPyConnection, date: str) -> Digest:
    """The partition's ranked insights as a Digest (empty when the day had none)."""
    rows = conn.execute(
        f"SELECT {ITEM_COLUMNS} FROM top_insights WHERE partition_date = ? ORDER BY rank",  # noqa: S608
        [date],
    ).fetchall()
    return Digest(date=date, items=[_item(row) for row in rows])


def save_digest(
    conn: duckdb.DuckDBPyConnection, digest: Digest, rendered: Renderings, created_at: datetime
) -> None:
    """Replace the partition's digests and digest_items rows in one transaction."""
    with transaction(conn):
        conn.execute("DELETE FROM digest_items WHERE partition_date = ?", [digest.date])
        conn.execute("DELETE FROM digests WHERE partition_date = ?", [digest.date])
        conn.execute(
            "INSERT INTO digests (partition_date, item_count, markdown, html, text, json, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                digest.date,
                len(digest.items),
                rendered.markdown,
                rendered.html,
                rendered.text,
                rendered.json,
                created_at,
            ],
        )
        if digest.items:
            conn.executemany(
                f"INSERT INTO digest_items (partition_date, {ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                [
                    [digest.date, item.rank, item.insight, item.support, _sources_json(item.sources),
                     item.topic or None, item.speaker or None, _sources_json(item.coverage)]
                    for item in digest.items
                ],  # fmt: skip
            )


def _sources_json(sources: list[Source]) -> str:
    return json.dumps([asdict(source) for source in sources], ensure_ascii=False)


def load_stored_digest(conn: duckdb.DuckDBPyConnection, date: str) -> Digest | None:
    """The digest stored for a day, rebuilt from digest_items, or None if the day was never rendered."""
    if not conn.execute("SELECT 1 FROM digests WHERE partition_date = ?", [date]).fetchone():
        return None
    rows = conn.execute(
        f"SELECT {ITEM_COLUMNS} FROM digest_items WHERE partition_date = ? ORDER BY rank",  # noqa: S608
        [date],
    ).fetchall()
    return Digest(date, [_item(row) for row in rows])


def load_rendering(conn: duckdb.DuckDBPyConnection, date: str, column: str) -> str | None:
    """One stored rendering (markdown | html | text | json) of a day's digest, or None."""
    if column not in {"markdown", "html", "text", "json"}:
        raise ValueError(f"unknown digest format {column!r}")
    row = conn.execute(f"SELECT {column} FROM digests WHERE partition_date = ?", [date]).fetchone()  # noqa: S608
    return row[0] if row else None


def load_feed_entries(conn: duckdb.DuckDBPyConnection, min_items: int = 1) -> list[FeedEntry]:
    """Every stored digest with at least `min_items` items, newest first, for the RSS feed; each with
    the link of its first item's first source that has an http(s) one (episode page, else its audio)."""
    rows = conn.execute(
        "SELECT CAST(d.partition_date AS VARCHAR), d.html, d.created_at, d.item_count, i.sources "
        "FROM digests d LEFT JOIN (SELECT partition_date, sources FROM digest_items "
        "QUALIFY row_number() OVER (PARTITION BY partition_date ORDER BY rank) = 1) i USING (partition_date) "
        "WHERE d.item_count >= ? ORDER BY d.partition_date DESC",
        [min_items],
    ).fetchall()
    sources = {d: sources_from_json(raw) for d, _, _, _, raw in rows}
    pages = _episode_links(conn, [s.episode_id for found in sources.values() for s in found if s.episode_id])
    return [
        FeedEntry(d, h, _as_utc(c), n, source_link=_first_link(sources[d], pages)) for d, h, c, n, _ in rows
    ]


def _episode_links(conn: duckdb.DuckDBPyConnection, episode_ids: list[str]) -> dict[str, list[str | None]]:
    """episode_id -> [episode page, enclosure URL] as the feed gave them."""
    if not episode_ids:
        return {}
    rows = conn.execute(
        "SELECT episode_id, link, enclosure_url FROM episodes WHERE list_contains(?, episode_id)",
        [sorted(set(episode_ids))],
    ).fetchall()
    return {episode: [link, enclosure] for episode, link, enclosure in rows}


def _first_link(sources: list[Source], pages: dict[str, list[str | None]]) -> str | None:
    for source in sources:
        for url in [*pages.get(source.episode_id or "", []), source.url]:
            if safe_url(url):
                return url
    return None


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def write_atomic(path: Path, text: str) -> Path:
    """Write a file so readers see the old or the new content, never a partial one (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_stale_temp_files(folder: Path, date: str) -> int:
    """Delete the temp files a killed write of this day's files left behind (never taken as final)."""
    stale = list(folder.glob(f".{date}.*.tmp")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def write_digest_files(folder: Path, date: str, rendered: Renderings) -> dict[str, Path]:
    """D.md, D.html, D.txt and D.json under `folder`, each written atomically."""
    remove_stale_temp_files(folder, date)
    return {
        suffix: write_atomic(folder / f"{date}.{suffix}", getattr(rendered, attr))
        for suffix, attr in FILE_SUFFIXES.items()
    }


# --- per-reader digests (readers.yaml) ---------------------------------------------------------------


def load_general_rows(conn: duckdb.DuckDBPyConnection, date: str) -> list[tuple]:
    """The day's general top items as (rank, representative candidate_id, insight as sent, topic, speaker,
    coverage JSON); "" for a speaker or coverage the row does not have."""
    return conn.execute(
        "SELECT rank, candidate_id, insight, coalesce(topic, ''), coalesce(speaker, ''), coalesce(coverage, '') "
        "FROM top_insights WHERE partition_date = ? ORDER BY rank",
        [date],
    ).fetchall()


def save_reader_digests(
    conn: duckdb.DuckDBPyConnection, date: str, rows: list[tuple[str, str, str, str]], keep: set[str]
) -> None:
    """Replace the day's reader digests with (reader, digest kind, interests JSON, items JSON) rows; the
    rows of the readers in `keep` (already emailed) stay as they were. One transaction."""
    with transaction(conn):
        conn.execute(
            "DELETE FROM reader_digests WHERE partition_date = ? AND NOT list_contains(?::VARCHAR[], reader)",
            [date, sorted(keep)],
        )
        fresh = [row for row in rows if row[0] not in keep]
        if fresh:
            conn.executemany(
                "INSERT INTO reader_digests (partition_date, reader, digest, interests, items, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [[date, *row, datetime.now(UTC)] for row in fresh],
            )


def load_reader_sent(
    conn: duckdb.DuckDBPyConnection, reader: str, date: str, lookback_days: int
) -> tuple[list[list[float]], list[str]]:
    """The passages emailed to this reader in the `lookback_days` before `date` (from the ledger's items),
    as embeddings and texts: their own repeat check, beside the general digests'."""
    rows = conn.execute(
        "WITH sent AS (SELECT DISTINCT unnest(CAST(json_extract_string(items, '$[*].candidate_id') AS VARCHAR[])) "
        "AS candidate_id FROM deliveries WHERE channel = 'email' AND recipient = ? AND status = 'sent' "
        "AND items IS NOT NULL AND partition_date >= CAST(? AS DATE) - ? AND partition_date < CAST(? AS DATE)) "
        "SELECT m.embedding, c.text FROM sent JOIN insight_candidates c ON c.candidate_id = sent.candidate_id "
        "JOIN insight_embeddings m ON m.candidate_id = sent.candidate_id ORDER BY c.candidate_id",
        [reader, date, lookback_days, date],
    ).fetchall()
    return [list(r[0]) for r in rows], [r[1] for r in rows]


def load_reader_digests(conn: duckdb.DuckDBPyConnection, date: str) -> dict[str, tuple[str, str]]:
    """reader -> (digest kind, items JSON) stored for the day."""
    rows = conn.execute(
        "SELECT reader, digest, items FROM reader_digests WHERE partition_date = ?", [date]
    ).fetchall()
    return {reader: (kind, items) for reader, kind, items in rows}


# --- the web archive -------------------------------------------------------------------------------


def load_archive_days(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Every stored digest day, newest first, with its item count."""
    return conn.execute(
        "SELECT CAST(partition_date AS VARCHAR), item_count FROM digests ORDER BY partition_date DESC"
    ).fetchall()


def load_archive_items(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, DigestItem]]:
    """Every stored digest item with its day, by day and rank."""
    rows = conn.execute(
        f"SELECT CAST(partition_date AS VARCHAR), {ITEM_COLUMNS} FROM digest_items ORDER BY partition_date, rank"  # noqa: S608
    ).fetchall()
    return [(row[0], _item(row[1:])) for row in rows]


def load_episode_media(conn: duckdb.DuckDBPyConnection, episode_ids: list[str]) -> dict[str, tuple]:
    """episode_id -> (enclosure URL, enclosure type, page link, cached audio path, cached audio type)."""
    if not episode_ids:
        return {}
    rows = conn.execute(
        "SELECT e.episode_id, e.enclosure_url, e.enclosure_type, e.link, a.path, a.content_type FROM episodes e "
        "LEFT JOIN episode_audio a ON a.episode_id = e.episode_id AND a.status = 'ok' "
        "WHERE list_contains(?::VARCHAR[], e.episode_id)",
        [sorted(set(episode_ids))],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}
