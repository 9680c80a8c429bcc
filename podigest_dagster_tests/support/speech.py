"""Test audio made on the spot: espeak-ng speech, silence, tones and noise, as WAV or MP3, cached per session."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import av
import numpy as np

RATE = 16_000
_CACHE_DIR: Path | None = None


def cache_dir() -> Path:
    """One temp folder per test session, removed at exit."""
    global _CACHE_DIR
    if _CACHE_DIR is None:
        _CACHE_DIR = Path(tempfile.mkdtemp(prefix="podigest-speech-"))
        atexit.register(shutil.rmtree, _CACHE_DIR, True)
    return _CACHE_DIR


def _key(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def speech_samples(text: str, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """`text` spoken by espeak-ng, as 16 kHz mono float32 samples."""
    path = cache_dir() / f"espeak-{_key(text, voice, speed)}.wav"
    if not path.exists():
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
            check=True,
            capture_output=True,
        )
    return read_samples(path)


def read_samples(path: Path) -> np.ndarray:
    """Any audio file decoded to 16 kHz mono float32."""
    resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=RATE)
    blocks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.pts = None
            blocks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        blocks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(blocks).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def tone(seconds: float, hz: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE), dtype=np.float32) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def noise(seconds: float, level: float = 0.1, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (level * rng.standard_normal(int(seconds * RATE))).astype(np.float32)


def write_wav(samples: np.ndarray, path: Path) -> Path:
    """16-bit PCM mono WAV at 16 kHz."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path


def write_mp3(samples: np.ndarray, path: Path, bitrate: int = 32_000) -> Path:
    """Mono MP3 (the usual podcast format), encoded with PyAV's bundled LAME."""
    with av.open(str(path), mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.bit_rate = bitrate
        step = RATE * 10
        for start in range(0, len(samples), step):
            block = np.clip(samples[start : start + step], -1.0, 1.0).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def clip(*parts: np.ndarray | str, fmt: str = "wav") -> Path:
    """A cached audio file of the parts in order: strings are spoken, arrays are used as they are."""
    arrays = [speech_samples(p) if isinstance(p, str) else p for p in parts]
    digest = _key(fmt, *(hashlib.sha1(a.tobytes()).hexdigest() for a in arrays))
    path = cache_dir() / f"clip-{digest}.{fmt}"
    if not path.exists():
        samples = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.float32)
        writer = write_mp3 if fmt == "mp3" else write_wav
        tmp = path.with_suffix(".part")
        writer(samples, tmp)
        tmp.rename(path)
    return path


def content_words(text: str) -> set[str]:
    """Lower-case words of four letters or more: the ones a transcript must get back."""
    words = "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split()
    return {w for w in words if len(w) >= 4}


def word_overlap(expected: str, got: str) -> float:
    """Share of the expected content words present in `got`."""
    want = content_words(expected)
    return len(want & content_words(got)) / max(1, len(want))
