"""The audio cache, bounded: audio whose transcript is stored is deleted once the retention period has passed
(0 days: at once) and, under a size cap, oldest transcript first until the cache fits.

Never deleted: audio some episode still waits to be transcribed from (no transcript yet, or a failed one: a
re-run retries it), and audio whose episode has no web URL (`file://`, the demo's), which the web archive
plays from its local copy. A deleted file's row stays, with status `pruned`: a re-run of its day uses the
stored transcript and downloads nothing; only a transcript that must be redone fetches the audio again.
Files no row points at (left by a crash between a download and its record) go once older than any download
could run. The choice and the deletions happen under the warehouse's writer lock, so no download is
recorded meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from podigest_dagster.core.ingest import store
from podigest_dagster.core.net.untrusted import is_web_url
from podigest_dagster.warehouse.db import Connect

TMP_FOLDER = "tmp"


@dataclass(frozen=True)
class CachedFile:
    """One audio file of the cache and the episodes using it (content-addressed: several may share it)."""

    path: str
    bytes: int
    episode_ids: tuple[str, ...]
    pending: bool  # some episode still needs it to be transcribed
    for_archive: bool  # some episode has no web URL: the archive plays this copy
    transcribed_at: datetime | None  # when the last of its episodes' transcripts was stored

    @property
    def prunable(self) -> bool:
        return not self.pending and not self.for_archive


@dataclass
class PruneReport:
    """What one pruning did and what the cache holds after it."""

    retention_days: float
    max_bytes: int | None
    files_pruned: int = 0
    bytes_pruned: int = 0
    orphans_pruned: int = 0
    files_kept: int = 0
    bytes_kept: int = 0
    pending_files: int = 0
    pending_bytes: int = 0
    archive_files: int = 0
    over_cap_bytes: int = 0
    delete_errors: dict[str, str] = field(default_factory=dict)


def group_files(rows: list[store.CachedRow], size_of: Callable[[str], int | None]) -> list[CachedFile]:
    """The rows by file (only files still on disk), each with whether anything still needs it."""
    by_path: dict[str, list[store.CachedRow]] = {}
    for row in rows:
        by_path.setdefault(row.path, []).append(row)
    files = []
    for path, group in by_path.items():
        size = size_of(path)
        if size is None:
            continue
        stamps = [r.transcribed_at for r in group if r.transcribed_at is not None]
        files.append(
            CachedFile(
                path=path,
                bytes=size,
                episode_ids=tuple(r.episode_id for r in group),
                pending=any(not r.transcribed for r in group),
                for_archive=any(not is_web_url(r.enclosure_url) for r in group),
                transcribed_at=max(stamps) if stamps else None,
            )
        )
    return files


def choose(
    files: list[CachedFile], now: datetime, retention_days: float, max_bytes: int | None, total_bytes: int
) -> list[CachedFile]:
    """The files to delete: every prunable one past the retention, then (to reach the size cap) the
    prunable rest, oldest transcript first."""
    cutoff = now - timedelta(days=retention_days)
    prunable = [f for f in files if f.prunable]
    chosen = [f for f in prunable if f.transcribed_at is None or f.transcribed_at <= cutoff]
    if max_bytes is None:
        return chosen
    left = total_bytes - sum(f.bytes for f in chosen)
    rest = sorted((f for f in prunable if f not in chosen), key=lambda f: (f.transcribed_at or now, f.path))
    for candidate in rest:
        if left <= max_bytes:
            break
        chosen.append(candidate)
        left -= candidate.bytes
    return chosen


def prune(
    connect: Connect,
    audio_dir: Path,
    retention_days: float,
    max_bytes: int | None = None,
    orphan_grace_s: float = 3600.0,
    now: datetime | None = None,
) -> PruneReport:
    """Delete what the cache no longer needs (see the module's docstring) and say what it holds now."""
    now = now or datetime.now(UTC)
    report = PruneReport(retention_days, max_bytes)
    with connect() as conn:
        files = group_files(store.cached_audio(conn), _size)
        chosen = choose(files, now, retention_days, max_bytes, _disk_usage(audio_dir))
        deleted = [f for f in chosen if _delete(Path(f.path), report)]
        store.record_audio_pruned(conn, [f.path for f in deleted], now)
        referenced = store.referenced_paths(conn)
    report.files_pruned = len(deleted)
    report.bytes_pruned = sum(f.bytes for f in deleted)
    orphan_age_s = max(orphan_grace_s, retention_days * 86400)
    report.orphans_pruned = _prune_orphans(audio_dir, referenced, now.timestamp() - orphan_age_s, report)
    gone = {f.path for f in deleted}
    for kept in (f for f in files if f.path not in gone):
        report.files_kept += 1
        report.bytes_kept += kept.bytes
        report.pending_files += int(kept.pending)
        report.pending_bytes += kept.bytes if kept.pending else 0
        report.archive_files += int(kept.for_archive and not kept.pending)
    if max_bytes is not None:
        report.over_cap_bytes = max(0, _disk_usage(audio_dir) - max_bytes)
    return report


def _size(path: str) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _delete(path: Path, report: PruneReport) -> bool:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        report.delete_errors[str(path)] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return False
    return True


def _audio_files(audio_dir: Path) -> Iterator[os.DirEntry]:
    """The cache's audio files (`<sha[:2]>/<sha>.<ext>`), not the downloads in progress under tmp/."""
    try:
        folders = [e for e in os.scandir(audio_dir) if e.is_dir() and e.name != TMP_FOLDER]
    except FileNotFoundError:
        return
    for folder in folders:
        try:
            yield from (e for e in os.scandir(folder.path) if e.is_file(follow_symlinks=False))
        except FileNotFoundError:
            continue


def _disk_usage(audio_dir: Path) -> int:
    return sum(entry.stat().st_size for entry in _audio_files(audio_dir))


def _prune_orphans(audio_dir: Path, referenced: set[str], older_than: float, report: PruneReport) -> int:
    """Delete audio files no row points at, last touched before `older_than` (a Unix time)."""
    known = {os.path.realpath(p) for p in referenced}
    removed = 0
    for entry in _audio_files(audio_dir):
        if os.path.realpath(entry.path) in known or entry.stat().st_mtime >= older_than:
            continue
        removed += _delete(Path(entry.path), report)
    return removed
