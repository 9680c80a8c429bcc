"""Audio reuse and download decisions for one episode, against a real DuckDB file and a real HTTP server."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from podigest_dagster.core.ingest import audio_fetch
from podigest_dagster.core.ingest.audio_fetch import AudioTally, DownloadLimits, FetchOutcome
from podigest_dagster.core.ingest.store import AudioTask
from podigest_dagster.warehouse import db

DAY = date(2024, 5, 1)
AUDIO = b"ID3" + b"\x00" * 4000


class Warehouse:
    """A real warehouse file whose write connections are counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writes = 0

    @contextmanager
    def connect(self):
        self.writes += 1
        with db.write_connection(self.path) as conn:
            yield conn

    def audio_row(self, episode_id: str) -> tuple | None:
        with db.read_connection(self.path) as conn:
            return conn.execute(
                "SELECT status, source_url, sha256, error FROM episode_audio WHERE episode_id = ?",
                [episode_id],
            ).fetchone()


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(tmp_path / "w.duckdb")


@pytest.fixture
def limits(tmp_path) -> DownloadLimits:
    return DownloadLimits(
        audio_dir=tmp_path / "audio",
        max_bytes=1_000_000,
        connect_timeout_s=5,
        read_timeout_s=5,
        deadline_s=30,
        retries=0,
        backoff_s=0,
        allow_private=True,
    )


def task(episode_id: str, url: str | None, **fields) -> AudioTask:
    base = dict(
        episode_id=episode_id, feed_url="https://feed.example/rss", title=f"Title {episode_id}",
        enclosure_url=url, status=None, sha256=None, path=None, bytes=None, content_type=None,
    )  # fmt: skip
    return AudioTask(**(base | fields))


def test_the_same_enclosure_url_is_downloaded_once_for_two_episodes(http_server, warehouse, limits):
    url = http_server.add("/ep.mp3", AUDIO, Content_Type="audio/mpeg")
    by_url: dict[str, AudioTask] = {}
    first = audio_fetch.fetch(warehouse.connect, task("a", url), DAY, url, limits, by_url)
    second = audio_fetch.fetch(warehouse.connect, task("b", url), DAY, url, limits, by_url)
    assert first == FetchOutcome("downloaded", len(AUDIO))
    assert second == FetchOutcome("already_present")
    assert http_server.hits("/ep.mp3") == 1
    assert warehouse.audio_row("a")[2] == warehouse.audio_row("b")[2]


def test_a_failed_download_records_its_error_and_is_counted(http_server, warehouse, limits):
    url = http_server.add("/gone.mp3", b"", status=404)
    tally = AudioTally()
    item = task("a", url)
    outcome = audio_fetch.fetch(warehouse.connect, item, DAY, url, limits, {})
    tally.add(item, outcome)
    status, source, _, error = warehouse.audio_row("a")
    assert (outcome.status, status, source) == ("failed", "failed", url)
    assert error and tally.errors == {"Title a": error}
    assert (tally.failed, tally.downloaded, tally.bytes_downloaded) == (1, 0, 0)


def test_an_entry_without_enclosure_is_recorded_once_and_never_downloaded(warehouse, limits):
    tally = AudioTally()
    first = audio_fetch.pending_downloads(
        warehouse.connect, [task("a", None)], DAY, limits.audio_dir, {}, tally
    )
    marked = task("a", None, status="no_enclosure")
    again = audio_fetch.pending_downloads(warehouse.connect, [marked], DAY, limits.audio_dir, {}, tally)
    assert first == again == []
    assert warehouse.audio_row("a")[0] == "no_enclosure"
    assert warehouse.writes == 1
    assert tally.no_enclosure == 2


def test_audio_already_on_disk_under_the_same_url_is_reused_without_a_download(warehouse, limits, tmp_path):
    kept = tmp_path / "kept.mp3"
    kept.write_bytes(AUDIO)
    done = task(
        "a", "https://cdn.example/ep.mp3", status="ok", sha256="abc", path=str(kept), bytes=len(AUDIO)
    )
    tally = AudioTally()
    pending = audio_fetch.pending_downloads(
        warehouse.connect,
        [done, task("b", "https://cdn.example/ep.mp3"), task("c", "https://cdn.example/new.mp3")],
        DAY,
        limits.audio_dir,
        {"https://cdn.example/ep.mp3": done},
        tally,
    )
    assert [t.episode_id for t in pending] == ["c"]
    assert tally.already_present == 2
    assert warehouse.audio_row("b")[:3] == ("ok", "https://cdn.example/ep.mp3", "abc")
    assert warehouse.writes == 1


def test_a_feed_that_cannot_be_re_read_is_reported(http_server):
    broken = http_server.add("/broken.xml", b"", status=500)
    fresh, unread = audio_fetch.fresh_enclosures({broken}, allow_private=True, retries=0)
    assert (fresh, unread) == ({}, [broken])
