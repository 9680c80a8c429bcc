"""Decode audio in bounded windows (16 kHz mono float32) so hours of audio never sit in memory at once.

Windows are cut at the quietest moment near their end, so no word is split between two windows and
no overlap (with its duplicated words) is needed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000
WINDOW_S = 600.0
CUT_SEARCH_S = 20.0
_ENERGY_FRAME = SAMPLE_RATE // 10


class AudioError(Exception):
    """The audio cannot be decoded: corrupt, an unsupported codec, no audio stream, or no samples."""


@dataclass(frozen=True)
class AudioChunk:
    """A window of decoded audio and where it starts in the file."""

    offset_s: float
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _open(path: str | Path) -> av.container.InputContainer:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"no audio file at {path}")
    if path.stat().st_size == 0:
        raise AudioError("zero-length audio file")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(f"unreadable or corrupt audio: {exc}") from exc
    if not container.streams.audio:
        container.close()
        raise AudioError("the file has no audio stream")
    return container


def probe_duration(path: str | Path) -> float | None:
    """The duration the container declares, in seconds (None when it does not say)."""
    with _open(path) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / av.time_base
    return None


def _decoded_blocks(container: av.container.InputContainer) -> Iterator[np.ndarray]:
    """Mono float32 16 kHz blocks of the first audio stream; undecodable frames are skipped."""
    stream = container.streams.audio[0]
    if stream.codec_context is None or stream.codec_context.codec is None:
        raise AudioError("unsupported audio codec")
    resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    try:
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.InvalidDataError:
                continue
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue
            for frame in frames:
                frame.pts = None
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)
    except av.error.FFmpegError as exc:
        raise AudioError(f"cannot decode audio: {exc}") from exc
    finally:
        del resampler
        gc.collect()


def quietest_cut(samples: np.ndarray, lo: int, hi: int) -> int:
    """The sample index between `lo` and `hi` at the centre of the quietest 100 ms frame."""
    frames = (hi - lo) // _ENERGY_FRAME
    if frames < 1:
        return hi
    region = samples[lo : lo + frames * _ENERGY_FRAME].reshape(frames, _ENERGY_FRAME)
    energy = np.square(region, dtype=np.float64).mean(axis=1)
    return lo + int(np.argmin(energy)) * _ENERGY_FRAME + _ENERGY_FRAME // 2


def iter_chunks(
    path: str | Path, window_s: float = WINDOW_S, cut_search_s: float = CUT_SEARCH_S
) -> Iterator[AudioChunk]:
    """Yield the file's audio as consecutive windows of about `window_s`, cut at a quiet moment."""
    window = int(window_s * SAMPLE_RATE)
    search = min(int(cut_search_s * SAMPLE_RATE), window // 2)
    pending: list[np.ndarray] = []
    pending_len = 0
    offset = 0
    with _open(path) as container:
        for block in _decoded_blocks(container):
            pending.append(block)
            pending_len += len(block)
            if pending_len < window:
                continue
            buffer = np.concatenate(pending)
            cut = quietest_cut(buffer, window - search, window)
            yield AudioChunk(offset / SAMPLE_RATE, buffer[:cut].copy())
            offset += cut
            rest = buffer[cut:].copy()
            pending, pending_len = [rest], len(rest)
            del buffer
    if pending_len:
        yield AudioChunk(offset / SAMPLE_RATE, np.concatenate(pending))
    elif offset == 0:
        raise AudioError("the audio has no samples (zero-length or undecodable)")
