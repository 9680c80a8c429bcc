"""The audio cache's pruning on a real warehouse and real files: retention, size cap (oldest first), audio
still to transcribe and audio the archive plays from here never deleted, files no row points at."""

from __future__ import annotations

import functools
import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from podigest_dagster.core.ingest.audio_cache import prune
from podigest_dagster.warehouse.db import write_connection

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
DAY = "2026-11-20"


class Cache:
    """A warehouse and an audio folder, filled episode by episode."""

    def __init__(self, root: Path) -> None:
        self.db = root / "w.duckdb"
        self.audio_dir = root / "audio"
        self.connect = functools.partial(write_connection, self.db)

    def file(self, name: str, size: int = 1000) -> Path:
        body = name.encode().ljust(size, b"\0")
        sha = hashlib.sha256(body).hexdigest()
        path = self.audio_dir / sha[:2] / f"{sha}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return path

    def episode(self, episode_id: str, path: Path, transcribed_days_ago: float | None, *, source="whisper:base",
                enclosure: str | None = None, transcript_status: str = "ok") -> None:  # fmt: skip
        """An episode whose audio is `path`, transcribed that long ago (None: not yet)."""
        sha = path.name.split(".")[0]
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO episodes (episode_id, feed_url, partition_date, date_status, enclosure_url, "
                "first_seen_at, updated_at) VALUES (?, 'https://feed.example/rss', ?, 'ok', ?, ?, ?)",
                [episode_id, DAY, enclosure or f"https://cdn.example/{episode_id}.mp3", NOW, NOW],
            )
            conn.execute(
                "INSERT INTO episode_audio (episode_id, partition_date, source_url, status, sha256, path, bytes, "
                "downloaded_at) VALUES (?, ?, 'https://cdn.example/x.mp3', 'ok', ?, ?, ?, ?)",
                [episode_id, DAY, sha, str(path), path.stat().st_size, NOW - timedelta(days=20)],
            )
            if transcribed_days_ago is not None:
                conn.execute(
                    "INSERT INTO transcripts (episode_id, partition_date, status, source, audio_sha256, "
                    "transcribed_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [episode_id, DAY, transcript_status, source, sha, NOW - timedelta(days=transcribed_days_ago)],
                )

    def statuses(self) -> dict[str, str]:
        with duckdb.connect(str(self.db), read_only=True) as conn:
            return dict(conn.execute("SELECT episode_id, status FROM episode_audio").fetchall())

    def prune(self, retention_days: float, max_bytes: int | None = None, **options):
        return prune(self.connect, self.audio_dir, retention_days, max_bytes, now=NOW, **options)


@pytest.fixture
def cache(tmp_path) -> Cache:
    return Cache(tmp_path)


def test_transcribed_audio_goes_after_the_retention_and_audio_still_to_transcribe_never(cache):
    old, recent = cache.file("old"), cache.file("recent")
    pending, failed, archive = cache.file("pending"), cache.file("failed"), cache.file("archive")
    cache.episode("old", old, transcribed_days_ago=8)
    cache.episode("recent", recent, transcribed_days_ago=2)
    cache.episode("pending", pending, transcribed_days_ago=None)
    cache.episode("failed", failed, transcribed_days_ago=9, transcript_status="failed")
    cache.episode("archive", archive, transcribed_days_ago=30, enclosure="file:///srv/podcasts/a.mp3")

    report = cache.prune(retention_days=7)

    assert not old.exists() and recent.exists() and pending.exists() and failed.exists() and archive.exists()
    assert cache.statuses() == {"old": "pruned", "recent": "ok", "pending": "ok", "failed": "ok", "archive": "ok"}
    assert (report.files_pruned, report.bytes_pruned, report.files_kept) == (1, 1000, 4)
    assert (report.pending_files, report.archive_files) == (2, 1)

    cache.prune(retention_days=0)
    assert not recent.exists() and pending.exists() and failed.exists() and archive.exists()


def test_a_file_shared_by_two_episodes_goes_only_when_both_are_transcribed(cache):
    shared = cache.file("shared")
    cache.episode("done", shared, transcribed_days_ago=10)
    cache.episode("waiting", shared, transcribed_days_ago=None)
    cache.prune(retention_days=0)
    assert shared.exists()
    with cache.connect() as conn:
        conn.execute(
            "INSERT INTO transcripts (episode_id, status, source, transcribed_at) VALUES ('waiting', 'ok', "
            "'publisher', ?)",
            [NOW],
        )
    cache.prune(retention_days=0)
    assert not shared.exists() and cache.statuses() == {"done": "pruned", "waiting": "pruned"}


def test_the_size_cap_removes_the_oldest_transcripts_first_and_never_pending_audio(cache):
    files = {name: cache.file(name, size=1000) for name in ("a", "b", "c", "pending")}
    for days, name in ((3, "a"), (2, "b"), (1, "c")):
        cache.episode(name, files[name], transcribed_days_ago=days)
    cache.episode("pending", files["pending"], transcribed_days_ago=None)

    report = cache.prune(retention_days=30, max_bytes=2500)
    assert [name for name, path in files.items() if path.exists()] == ["c", "pending"]
    assert report.over_cap_bytes == 0

    report = cache.prune(retention_days=30, max_bytes=500)
    assert [name for name, path in files.items() if path.exists()] == ["pending"]
    assert report.over_cap_bytes == 500, "what is still to transcribe stays, over the cap"


def test_a_file_no_row_points_at_goes_once_older_than_any_download(cache):
    stale, fresh = cache.file("stale"), cache.file("fresh")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    (cache.audio_dir / "tmp").mkdir()
    part = cache.audio_dir / "tmp" / "download.part"
    part.write_bytes(b"in progress")
    os.utime(part, (hour_ago, hour_ago))

    report = prune(cache.connect, cache.audio_dir, 0, None, orphan_grace_s=1800)

    assert not stale.exists() and fresh.exists() and part.exists()
    assert report.orphans_pruned == 1
