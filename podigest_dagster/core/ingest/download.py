"""Download an enclosure into a content-addressed audio file, safely.

The body streams into `audio_dir/tmp/<random>.part` while it is hashed; only a complete body that
looks like audio (content type and magic bytes) is renamed, atomically, to
`audio_dir/<sha[:2]>/<sha>.<ext>`. A half-written file therefore never carries a final name, and
the same audio is stored once whatever URL it came from.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from podigest_dagster.core.net import http
from podigest_dagster.core.net.http import FetchError
from podigest_dagster.core.net.limits import MAX_AUDIO_BYTES

HEAD_BYTES = 64
ACCEPTED_TYPES = frozenset(
    {
        "application/octet-stream",
        "binary/octet-stream",
        "application/ogg",
        "application/mp4",
        "application/x-flac",
    }
)


class DownloadError(Exception):
    """An enclosure that could not be downloaded as audio; the message is the one-line reason."""

    def __init__(self, reason: str, attempts: int = 1) -> None:
        super().__init__(reason)
        self.attempts = attempts


@dataclass(frozen=True)
class DownloadResult:
    """A complete audio file: its sha256, final path, size, served content type, and tries it took."""

    sha256: str
    path: Path
    bytes: int
    content_type: str | None
    attempts: int = 1


def download_audio(
    url: str,
    audio_dir: str | Path,
    *,
    max_bytes: int = MAX_AUDIO_BYTES,
    connect_timeout_s: float = 10,
    read_timeout_s: float = 30,
    deadline_s: float = 1800,
    retries: int = 3,
    allow_private: bool | None = None,
    backoff_s: float = 2.0,
) -> DownloadResult:
    """Stream `url` into the audio store, retrying transient failures; DownloadError on anything else."""
    audio_dir = Path(audio_dir)
    tmp_dir = audio_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    attempts = 0

    def attempt() -> _Part:
        nonlocal attempts
        attempts += 1
        return _download_once(
            url, tmp_dir, max_bytes, connect_timeout_s, read_timeout_s, deadline_s, allow_private
        )

    try:
        part = http.with_retries(attempt, retries=retries, backoff_s=backoff_s)
    except FetchError as exc:
        raise DownloadError(str(exc), attempts) from exc
    try:
        if part.size == 0:
            raise DownloadError("empty response: no audio", attempts)
        ext = sniff_audio(part.head)
        if ext is None:
            raise DownloadError(f"not audio: unrecognised content ({part.head[:8]!r})", attempts)
        final = _store(part.path, audio_dir, part.sha256, ext)
    finally:
        part.path.unlink(missing_ok=True)
    return DownloadResult(part.sha256, final, part.size, part.content_type, attempts)


@dataclass(frozen=True)
class _Part:
    path: Path
    sha256: str
    size: int
    head: bytes
    content_type: str | None


def _download_once(
    url: str,
    tmp_dir: Path,
    max_bytes: int,
    connect_timeout_s: float,
    read_timeout_s: float,
    deadline_s: float,
    allow_private: bool | None,
) -> _Part:
    """One attempt: stream into a fresh .part file, hashing, refusing early what is clearly not audio."""
    digest = hashlib.sha256()
    head = bytearray()
    size = 0

    def on_chunk(chunk: bytes) -> None:
        nonlocal size
        digest.update(chunk)
        size += len(chunk)
        if len(head) < HEAD_BYTES:
            head.extend(chunk[: HEAD_BYTES - len(head)])
            if len(head) >= HEAD_BYTES and sniff_audio(bytes(head)) is None:
                raise FetchError(f"not audio: unrecognised content ({bytes(head[:8])!r})")

    part = tmp_dir / f"{secrets.token_hex(12)}.part"
    result = http.stream_to_file(
        url,
        part,
        max_bytes=max_bytes,
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=read_timeout_s,
        deadline_s=deadline_s,
        allow_private=allow_private,
        headers={"Accept": "audio/*, video/*;q=0.8, application/octet-stream;q=0.5"},
        on_headers=check_content_type,
        on_chunk=on_chunk,
    )
    return _Part(part, digest.hexdigest(), size, bytes(head), result.headers.get("content-type"))


def check_content_type(headers: dict[str, str]) -> None:
    """Refuse a response whose declared type cannot be audio (an HTML error page, a feed, JSON)."""
    declared = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not declared or declared.startswith(("audio/", "video/")) or declared in ACCEPTED_TYPES:
        return
    raise FetchError(f"not audio: content type {declared}")


def sniff_audio(head: bytes) -> str | None:
    """The file extension the magic bytes point to (mp3, aac, wav, ogg, flac, m4a, mp4, webm), or None."""
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "aac" if head[1] & 0x06 == 0 else "mp3"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "m4a" if head[8:11] in {b"M4A", b"M4B"} else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def audio_path(audio_dir: str | Path, sha256: str, ext: str) -> Path:
    """Where the audio with this hash lives: `audio_dir/<sha[:2]>/<sha>.<ext>`."""
    return Path(audio_dir) / sha256[:2] / f"{sha256}.{ext}"


def find_audio(audio_dir: str | Path, sha256: str) -> Path | None:
    """The stored file with this hash, whatever its extension, or None."""
    folder = Path(audio_dir) / sha256[:2]
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.glob(f"{sha256}.*")) if p.suffix != ".part" and p.is_file()), None)


def _store(part: Path, audio_dir: Path, sha256: str, ext: str) -> Path:
    """Atomically give the finished part its content-addressed name (or keep the copy already there, its
    time refreshed: the cache's pruning never takes a file younger than a download for an orphan)."""
    existing = find_audio(audio_dir, sha256)
    if existing is not None:
        try:
            os.utime(existing)
            return existing
        except OSError:
            pass  # deleted meanwhile (the cache was pruned): this copy takes its place
    final = audio_path(audio_dir, sha256, ext)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, final)
    return final


def remove_stale_parts(audio_dir: str | Path, older_than_s: float) -> int:
    """Delete .part files left by crashed downloads (older than any download could run); how many."""
    tmp_dir = Path(audio_dir) / "tmp"
    if not tmp_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for part in tmp_dir.glob("*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
