"""Speech to timestamped text with faster-whisper's batched pipeline, window by window, with hallucination guards.

faster-whisper is imported only when a model is loaded, so reading `Segment` costs nothing.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podigest_dagster.core.text.sentences import split_sentences
from podigest_dagster.core.transcribe.audio import (
    SAMPLE_RATE,
    WINDOW_S,
    AudioChunk,
    AudioError,
    iter_chunks,
    probe_duration,
)
from podigest_dagster.core.transcribe.segments import Segment
from podigest_dagster.core.transcribe.whisper_model import BUNDLED_ALIASES, ModelError, resolve_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -0.5
FILLER_MAX_WORDS = 3
MIN_PHRASE_REPEATS = 3
MAX_PHRASE_WORDS = 12
CLIP_S = 30.0


@dataclass(frozen=True)
class TranscriptResult:
    """A whole episode's transcript and what it cost."""

    language: str | None
    duration_s: float
    elapsed_s: float
    segments: list[Segment]

    @property
    def realtime_factor(self) -> float:
        """How many seconds of audio were transcribed per second of wall time."""
        return self.duration_s / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class WindowProgress:
    """Where one file's transcription stands after a decoded window (windows are about `WINDOW_S` long)."""

    window: int
    windows: int | None
    audio_done_s: float
    audio_total_s: float | None
    elapsed_s: float

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio transcribed per second of wall time so far (0 before any time passed)."""
        return self.audio_done_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        """The rest of the file at the speed so far (None when its length or the speed is unknown)."""
        if self.audio_total_s is None or self.realtime_factor <= 0:
            return None
        return max(self.audio_total_s - self.audio_done_s, 0.0) / self.realtime_factor


Progress = Callable[[WindowProgress], None]
"""Called after each window of a file with where its transcription stands."""


def _declared_length(path: str | Path) -> float | None:
    """The file's declared duration for progress estimates; None when it says nothing or cannot be read
    (decoding then reports the real problem)."""
    try:
        duration = probe_duration(path)
    except (AudioError, OSError):
        return None
    return duration if duration and duration > 0 else None


def _norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


def is_silence_hallucination(
    seg: Segment,
    no_speech_threshold: float = NO_SPEECH_THRESHOLD,
    logprob_threshold: float = LOGPROB_THRESHOLD,
    looped: bool = False,
) -> bool:
    """Text the model made up over silence, noise or music.

    The model leaned towards "no speech" and either was not fairly sure of its words (Whisper's own
    rule, with a stricter log-probability than its -1.0), produced only a few of them (its stock
    fillers over silence and noise: "you", "Thank you."), or looped one phrase (`looped`: most of the
    segment's words were repeats collapsed away, as in "1 cm x 2 cm x 2 cm x 2 cm ..." over noise).
    """
    if seg.no_speech_prob is None or seg.avg_logprob is None or seg.no_speech_prob <= no_speech_threshold:
        return False
    words = [w for w in seg.text.split() if _norm(w)]
    return looped or seg.avg_logprob < logprob_threshold or len(words) <= FILLER_MAX_WORDS


def collapse_repeated_phrases(
    text: str, min_repeats: int = MIN_PHRASE_REPEATS, max_words: int = MAX_PHRASE_WORDS
) -> str:
    """Keep one copy of a phrase said `min_repeats` or more times in a row (Whisper's looping failure)."""
    words = text.split()
    keys = [_norm(w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        best_n, best_k = 0, 1
        for n in range(1, min(max_words, (len(words) - i) // min_repeats) + 1):
            phrase = keys[i : i + n]
            if not any(phrase):
                continue
            k = 1
            while keys[i + k * n : i + (k + 1) * n] == phrase:
                k += 1
            if k >= min_repeats and n * k > best_n * best_k:
                best_n, best_k = n, k
        if best_n:
            out.extend(words[i : i + best_n])
            i += best_n * best_k
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def has_words(text: str) -> bool:
    return any(_norm(w) for w in text.split())


def filter_hallucinations(segments: list[Segment]) -> list[Segment]:
    """Collapse looped phrases inside each segment; drop empty text and text made up over silence."""
    kept = []
    for seg in segments:
        text = collapse_repeated_phrases(seg.text.strip())
        looped = len(text.split()) * 2 < len(seg.text.split())
        if has_words(text) and not is_silence_hallucination(replace(seg, text=text), looped=looped):
            kept.append(replace(seg, text=text))
    return kept


def drop_repeats(segments: list[Segment]) -> list[Segment]:
    """Drop a segment that repeats the previous one word for word (another looping failure)."""
    kept: list[Segment] = []
    previous: list[str] | None = None
    for seg in segments:
        key = [_norm(w) for w in seg.text.split() if _norm(w)]
        if key != previous:
            kept.append(seg)
        previous = key
    return kept


def renumber(segments: list[Segment]) -> list[Segment]:
    return [replace(seg, seq=i) for i, seg in enumerate(segments)]


def apply_guards(segments: list[Segment]) -> list[Segment]:
    """All hallucination guards on a file's windows, one segment per sentence, numbered from 0."""
    return renumber(drop_repeats(split_into_sentences(filter_hallucinations(segments))))


def split_into_sentences(segments: list[Segment]) -> list[Segment]:
    """One segment per sentence; times interpolated by character position within the original segment.

    The batched pipeline decodes ~30 s windows without timestamp tokens (timestamp mode drops text at
    window ends), so sentence times are estimates within their window.
    """
    out = []
    for seg in segments:
        sentences = split_sentences(seg.text, max_words=None)
        total = sum(len(x) for x in sentences) or 1
        span = seg.end_s - seg.start_s
        done = 0
        for sentence in sentences:
            start = seg.start_s + span * done / total
            done += len(sentence)
            end = seg.start_s + span * done / total
            out.append(replace(seg, start_s=round(start, 2), end_s=round(end, 2), text=sentence.strip()))
    return out


def pick_device(device: str) -> str:
    """`auto` becomes cuda when CTranslate2 sees a GPU, else cpu."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def default_compute_type(device: str) -> str:
    return "float16" if device == "cuda" else "int8"


_MODELS: dict[tuple, WhisperModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(model_path: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    """A WhisperModel, loaded once per process for each (model, device, compute type, threads)."""
    key = (model_path, device, compute_type, cpu_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from faster_whisper import WhisperModel

            local = Path(model_path).exists()
            try:
                _MODELS[key] = WhisperModel(
                    model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads
                )
            except Exception as exc:
                where = "the model directory" if local else "the Hugging Face hub (unreachable or offline?)"
                raise ModelError(
                    f"cannot load Whisper model {model_path!r} from {where}: {exc}. "
                    "Use 'base' for the bundled offline model, or a path to a CTranslate2 model directory."
                ) from exc
        return _MODELS[key]


def model_label(model: str) -> str:
    """How a transcript made by `model` is recorded (`whisper:base`, `whisper:large-v3`, `whisper:<dir
    name>`): known without creating a Transcriber, so a day with nothing to transcribe loads nothing."""
    name = (model or "").strip()
    if name.lower() in BUNDLED_ALIASES:
        return "whisper:base"
    return f"whisper:{Path(name).name or name}"


class Transcriber:
    """Transcribes audio files with one faster-whisper model, loaded lazily and shared in the process."""

    def __init__(
        self,
        model: str = "base",
        device: str = "cpu",
        compute_type: str | None = None,
        batch_size: int = 8,
        cpu_threads: int = 0,
        beam_size: int = 5,
        language: str | None = None,
        vad: bool = True,
        models_dir: Path | None = None,
        window_s: float = WINDOW_S,
    ) -> None:
        self.model = model
        self.device = pick_device(device)
        self.compute_type = compute_type or default_compute_type(self.device)
        self.batch_size = batch_size
        self.cpu_threads = cpu_threads or (os.cpu_count() or 1)
        self.beam_size = beam_size
        self.language = None if (language or "auto").lower() == "auto" else language
        self.vad = vad
        self.models_dir = models_dir
        self.window_s = window_s
        self._pipeline: Any = None

    @property
    def model_label(self) -> str:
        """How the transcript source is recorded: `whisper:base`, `whisper:large-v3`, `whisper:<dir name>`."""
        return model_label(self.model)

    def pipeline(self) -> Any:
        """The batched pipeline over the shared model, built on first use."""
        if self._pipeline is None:
            from faster_whisper import BatchedInferencePipeline

            from podigest_dagster import settings

            models_dir = self.models_dir or settings.models_dir()
            path = resolve_model(self.model, models_dir)
            model = load_model(path, self.device, self.compute_type, self.cpu_threads)
            self._pipeline = BatchedInferencePipeline(model=model)
        return self._pipeline

    def decode_options(self) -> dict[str, Any]:
        """The faster-whisper options used for every window (the benchmark reuses them for the bare run)."""
        return {
            "beam_size": self.beam_size,
            "batch_size": self.batch_size,
            "vad_filter": self.vad,
            "condition_on_previous_text": False,
        }

    def _transcribe_chunk(self, chunk: AudioChunk, language: str | None) -> tuple[list[Segment], str | None]:
        options = self.decode_options()
        if not self.vad:
            step = int(CLIP_S * SAMPLE_RATE)
            total = len(chunk.samples)
            options["clip_timestamps"] = [
                {"start": s / SAMPLE_RATE, "end": min(s + step, total) / SAMPLE_RATE}
                for s in range(0, total, step)
            ]
        raw, info = self.pipeline().transcribe(chunk.samples, language=language, **options)
        segments = [
            Segment(
                0, s.start + chunk.offset_s, s.end + chunk.offset_s, s.text, s.avg_logprob, s.no_speech_prob
            )
            for s in raw
        ]
        detected = info.language if info.duration_after_vad else None
        return segments, detected

    def transcribe(self, path: str | Path, progress: Progress | None = None) -> TranscriptResult:
        """Transcribe a file window by window; the language is detected on the first window with speech.

        `progress`, when given, is called after every window with how far the file has come."""
        self.pipeline()
        started = time.perf_counter()
        total_s = _declared_length(path) if progress else None
        windows = max(1, math.ceil(total_s / self.window_s)) if total_s else None
        language = self.language
        samples = 0
        segments: list[Segment] = []
        for index, chunk in enumerate(iter_chunks(path, window_s=self.window_s), start=1):
            samples += len(chunk.samples)
            found, detected = self._transcribe_chunk(chunk, language)
            segments.extend(found)
            language = language or detected
            del chunk
            if progress:
                done_s = samples / SAMPLE_RATE
                progress(
                    WindowProgress(
                        window=index,
                        windows=max(windows, index) if windows else None,
                        audio_done_s=done_s,
                        audio_total_s=max(total_s, done_s) if total_s else None,
                        elapsed_s=time.perf_counter() - started,
                    )
                )
        elapsed = time.perf_counter() - started
        return TranscriptResult(
            language,
            samples / SAMPLE_RATE,
            elapsed,
            apply_guards(segments),
        )


@lru_cache(maxsize=8)
def shared_transcriber(**config: Any) -> Transcriber:
    """One Transcriber per distinct configuration in this process."""
    return Transcriber(**config)
