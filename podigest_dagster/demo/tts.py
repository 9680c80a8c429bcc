"""Speech synthesis for the demo and the benchmark: espeak-ng voices rendered to compact mono audio."""

from __future__ import annotations

import io
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000
BITRATE = 24_000
_CODECS = {".mp3": ("mp3", "libmp3lame"), ".ogg": ("ogg", "libopus"), ".opus": ("ogg", "libopus")}


@dataclass(frozen=True)
class Voice:
    """One speaker: an espeak-ng voice (language plus variant), words per minute and pitch (0-99)."""

    espeak: str
    speed: int = 155
    pitch: int = 50


@dataclass(frozen=True)
class Turn:
    """One stretch of speech by one voice, followed by a pause in seconds."""

    voice: Voice
    text: str
    pause_s: float = 0.6


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resample mono float samples to SAMPLE_RATE with linear interpolation (speech needs no better)."""
    if rate == SAMPLE_RATE or samples.size == 0:
        return samples
    n_out = int(round(samples.size * SAMPLE_RATE / rate))
    positions = np.linspace(0, samples.size - 1, n_out)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


def speak(text: str, voice: Voice) -> np.ndarray:
    """Synthesise text with espeak-ng and return float32 mono samples at SAMPLE_RATE."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice.espeak, "-s", str(voice.speed), "-p", str(voice.pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return _resample(samples, rate)


def silence(seconds: float) -> np.ndarray:
    """Return float32 silence of the given length at SAMPLE_RATE."""
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


@dataclass(frozen=True)
class Rendering:
    """A rendered track: its samples and each turn's (start, end) time in seconds."""

    samples: np.ndarray
    spans: list[tuple[float, float]]

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE


def render_turns(turns: Sequence[Turn], lead_in_s: float = 0.4) -> Rendering:
    """Concatenate the spoken turns with their pauses into one mono track, noting when each turn is heard."""
    parts = [silence(lead_in_s)]
    spans: list[tuple[float, float]] = []
    position = parts[0].size
    for turn in turns:
        speech = speak(turn.text, turn.voice)
        spans.append((position / SAMPLE_RATE, (position + speech.size) / SAMPLE_RATE))
        pause = silence(turn.pause_s)
        parts.extend([speech, pause])
        position += speech.size + pause.size
    return Rendering(np.concatenate(parts), spans)


def encode(samples: np.ndarray, path: Path, bitrate: int = BITRATE) -> Path:
    """Encode mono float samples to MP3 (.mp3) or Ogg/Opus (.ogg, .opus) at a low speech bitrate."""
    container_format, codec = _CODECS[path.suffix.lower()]
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=SAMPLE_RATE if codec != "libopus" else 48_000)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = None
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def synthesize(turns: Sequence[Turn], path: Path, bitrate: int = BITRATE) -> Rendering:
    """Render turns to an audio file and return the rendering (duration and turn times)."""
    rendering = render_turns(turns)
    encode(rendering.samples, path, bitrate=bitrate)
    return rendering


def audio_duration_s(path: Path) -> float:
    """Decode an audio file's length in seconds (used by tests to check the committed files)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate
