"""One episode's audio: not needed once its transcript is stored, else reuse what is already on disk, else
download it; each state change one short write.

Downloads run with no warehouse connection open; `connect` opens a short write connection (under the
writer lock) only to record the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from podigest_dagster.core.ingest import store
from podigest_dagster.core.ingest.download import DownloadError, DownloadResult, download_audio, find_audio
from podigest_dagster.core.ingest.feeds import current_enclosures
from podigest_dagster.core.net.untrusted import is_web_url
from podigest_dagster.warehouse.db import Connect

DOWNLOADED = "downloaded"
ALREADY_PRESENT = "already_present"
FAILED = "failed"
NO_ENCLOSURE = "no_enclosure"
NOT_NEEDED_PUBLISHER = "not_needed_publisher"
NOT_NEEDED_TRANSCRIBED = "not_needed_transcribed"
COUNTED = (DOWNLOADED, ALREADY_PRESENT, FAILED, NO_ENCLOSURE, NOT_NEEDED_PUBLISHER, NOT_NEEDED_TRANSCRIBED)


@dataclass(frozen=True)
class DownloadLimits:
    """Where audio goes and the limits a download of an untrusted URL obeys."""

    audio_dir: Path
    max_bytes: int
    connect_timeout_s: float
    read_timeout_s: float
    deadline_s: float
    retries: int
    backoff_s: float
    allow_private: bool


@dataclass(frozen=True)
class FetchOutcome:
    """What happened to one episode's audio: its status, the bytes downloaded and any error."""

    status: str
    bytes: int = 0
    error: str | None = None


@dataclass
class AudioTally:
    """Counts per outcome over a partition's episodes, and the errors by episode title."""

    downloaded: int = 0
    already_present: int = 0
    failed: int = 0
    no_enclosure: int = 0
    not_needed_publisher: int = 0
    not_needed_transcribed: int = 0
    bytes_downloaded: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, task: store.AudioTask, outcome: FetchOutcome) -> None:
        """Count one episode's outcome."""
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)
        self.bytes_downloaded += outcome.bytes
        if outcome.error:
            self.errors[task.title or task.episode_id] = outcome.error

    def merge(self, other: AudioTally) -> None:
        """Add another tally's counts (one per-episode step's) to this one."""
        for name in (*COUNTED, "bytes_downloaded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)


def not_needed(task: store.AudioTask) -> FetchOutcome | None:
    """The outcome when the episode needs no audio: its transcript is stored (the publisher's, or one made
    from audio since deleted from the cache); else None. Audio with no web URL (`file://`, the demo's) is
    still wanted: the web archive plays the local copy."""
    if task.transcript_status != "ok" or not is_web_url(task.enclosure_url):
        return None
    if task.transcript_source == store.PUBLISHER_SOURCE:
        return FetchOutcome(NOT_NEEDED_PUBLISHER)
    return FetchOutcome(NOT_NEEDED_TRANSCRIBED)


def settle_without_download(
    connect: Connect, task: store.AudioTask, day: date, audio_dir: Path, by_url: dict[str, store.AudioTask]
) -> FetchOutcome | None:
    """The outcome when no download is needed (a transcript is stored, no enclosure, its file is there, or
    the same audio is); else None."""
    unneeded = not_needed(task)
    if unneeded is not None:
        return unneeded
    if not task.enclosure_url:
        if task.status != NO_ENCLOSURE:
            with connect() as conn:
                store.record_audio_failed(conn, task.episode_id, day, None, "entry has no enclosure", 0)
        return FetchOutcome(NO_ENCLOSURE)
    if task.status == "ok" and task.path and Path(task.path).is_file():
        return FetchOutcome(ALREADY_PRESENT)
    source = reusable(task, audio_dir, by_url)
    if source is None:
        return None
    with connect() as conn:
        store.record_audio_ok(conn, task.episode_id, day, task.enclosure_url, source, datetime.now(UTC))
    return FetchOutcome(ALREADY_PRESENT)


def pending_downloads(
    connect: Connect,
    tasks: list[store.AudioTask],
    day: date,
    audio_dir: Path,
    by_url: dict[str, store.AudioTask],
    tally: AudioTally,
) -> list[store.AudioTask]:
    """The episodes that still need a download; every other one is settled, recorded and counted."""
    pending = []
    for task in tasks:
        settled = settle_without_download(connect, task, day, audio_dir, by_url)
        if settled is None:
            pending.append(task)
        else:
            tally.add(task, settled)
    return pending


def reusable(
    task: store.AudioTask, audio_dir: Path, by_url: dict[str, store.AudioTask]
) -> DownloadResult | None:
    """Audio already on disk for this episode: its own file under another name, or the same URL's file."""
    if task.status == "ok" and task.sha256:
        existing = find_audio(audio_dir, task.sha256)
        if existing is not None:
            return as_result(task, existing)
    same_url = by_url.get(task.enclosure_url or "")
    return as_result(same_url, None) if same_url else None


def fetch(
    connect: Connect,
    task: store.AudioTask,
    day: date,
    url: str,
    limits: DownloadLimits,
    by_url: dict[str, store.AudioTask],
) -> FetchOutcome:
    """Download one episode from `url` (unless that URL is already on disk) and record its row at once."""
    reuse = by_url.get(url)
    if reuse is not None:
        with connect() as conn:
            store.record_audio_ok(conn, task.episode_id, day, url, as_result(reuse, None), datetime.now(UTC))
        return FetchOutcome(ALREADY_PRESENT)
    try:
        result = download_audio(
            url,
            limits.audio_dir,
            max_bytes=limits.max_bytes,
            connect_timeout_s=limits.connect_timeout_s,
            read_timeout_s=limits.read_timeout_s,
            deadline_s=limits.deadline_s,
            retries=limits.retries,
            allow_private=limits.allow_private,
            backoff_s=limits.backoff_s,
        )
    except DownloadError as exc:
        with connect() as conn:
            store.record_audio_failed(conn, task.episode_id, day, url, str(exc), exc.attempts)
        return FetchOutcome(FAILED, 0, str(exc))
    with connect() as conn:
        store.record_audio_ok(conn, task.episode_id, day, url, result, datetime.now(UTC))
    by_url[url] = store.AudioTask(
        task.episode_id, task.feed_url, task.title, url, "ok", result.sha256, str(result.path), result.bytes,
        result.content_type,
    )  # fmt: skip
    return FetchOutcome(DOWNLOADED, result.bytes)


def fetch_again(
    connect: Connect, read: Connect, episode_id: str, day: date, limits: DownloadLimits
) -> FetchOutcome:
    """One episode's audio for a transcript that must be redone after its file left the cache: the same
    URL's file when one is on disk, else a download from the episode's current enclosure URL."""
    with read() as conn:
        task = store.audio_task(conn, episode_id)
        found = store.downloaded_with_url(conn, task.enclosure_url) if task and task.enclosure_url else None
    if task is None or not task.enclosure_url:
        return FetchOutcome(NO_ENCLOSURE, 0, "entry has no enclosure")
    by_url = {task.enclosure_url: found} if found is not None else {}
    return fetch(connect, task, day, task.enclosure_url, limits, by_url)


def fresh_enclosures(feed_urls: set[str], **feed_options: Any) -> tuple[dict[str, str], list[str]]:
    """Each feed's current enclosure URLs by episode (signed URLs expire), and the feeds that gave none."""
    fresh: dict[str, str] = {}
    unread: list[str] = []
    for url in sorted(feed_urls):
        found = current_enclosures(url, **feed_options)
        if not found:
            unread.append(url)
        fresh.update(found)
    return fresh, unread


def as_result(task: store.AudioTask, path: Path | None) -> DownloadResult:
    """A stored audio row as the DownloadResult it came from (no new attempts), optionally at another path."""
    return DownloadResult(
        task.sha256 or "", path or Path(task.path or ""), task.bytes or 0, task.content_type, 0
    )
