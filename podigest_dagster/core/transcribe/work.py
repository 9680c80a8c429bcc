"""One episode's transcription: the publisher's transcript when usable, else Whisper; skip rule and tally."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from podigest_dagster import settings
from podigest_dagster.core.net.limits import MAX_TRANSCRIPT_BYTES
from podigest_dagster.core.net.untrusted import display_url
from podigest_dagster.core.transcribe.audio import AudioError
from podigest_dagster.core.transcribe.coverage import clock, coverage_problem
from podigest_dagster.core.transcribe.engine import Progress, Segment, Transcriber, WindowProgress
from podigest_dagster.core.transcribe.publisher import TranscriptError, choose_transcript, get_transcript
from podigest_dagster.core.transcribe.whisper_model import ModelError

PUBLISHER = "publisher"
UNUSABLE = "unusable"
TRANSCRIPT_DEADLINE_S = 120.0
# Audio statuses a transcription step may fetch again: downloaded but since deleted from the cache
# (`pruned`), or a file gone from disk; never one whose download failed (the audio step just tried).
REFETCHABLE = (None, "ok", "pruned")


@dataclass(frozen=True)
class TranscriptLimits:
    """The limits a fetch of a publisher transcript obeys (size-capped like audio, time-limited)."""

    max_bytes: int = MAX_TRANSCRIPT_BYTES
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    deadline_s: float = TRANSCRIPT_DEADLINE_S
    retries: int = 0
    backoff_s: float = 2.0
    allow_private: bool | None = None


@dataclass(frozen=True)
class EpisodeWork:
    """What the warehouse knows about one episode before transcription."""

    episode_id: str
    transcript_urls: str | None
    declared_duration_s: float | None
    audio_status: str | None
    audio_path: str | None
    audio_sha256: str | None
    audio_error: str | None
    done_status: str | None
    done_source: str | None
    done_sha256: str | None
    publisher_status: str | None = None
    publisher_error: str | None = None

    def offered_transcript(self) -> dict | None:
        """The best publisher transcript entry offered by the feed, if any parses."""
        try:
            offered = json.loads(self.transcript_urls or "[]")
        except ValueError:
            return None
        return choose_transcript(offered if isinstance(offered, list) else [])

    def is_done(self, whisper_source: str) -> bool:
        """Already transcribed: from the publisher, or by this model from this very audio."""
        if self.done_status != "ok":
            return False
        if self.done_source == PUBLISHER:
            return True
        same_audio = self.audio_sha256 is not None and self.done_sha256 == self.audio_sha256
        return self.done_source == whisper_source and same_audio

    def publisher_unusable(self) -> str | None:
        """Why the publisher's transcript was found unusable when it was checked first, or None."""
        return (self.publisher_error or "publisher transcript unusable") if self.publisher_status == UNUSABLE else None

    def audio_to_fetch(self) -> bool:
        """Whisper would need audio that is not on disk but may be fetched again (deleted from the cache)."""
        on_disk = bool(self.audio_path) and Path(self.audio_path).is_file()
        return not on_disk and self.audio_status in REFETCHABLE


@dataclass
class Outcome:
    """The result of transcribing one episode, ready to store."""

    status: str
    source: str | None
    audio_sha256: str | None
    language: str | None = None
    audio_duration_s: float | None = None
    transcribe_s: float | None = None
    segments: list[Segment] = field(default_factory=list)
    error: str | None = None


def publisher_outcome(work: EpisodeWork, offered: dict, limits: TranscriptLimits) -> tuple[Outcome, int]:
    """The publisher's transcript as the outcome to store, and the bytes it took; TranscriptError when it
    cannot be fetched, does not parse, is empty, or does not fit the declared duration."""
    started = time.perf_counter()
    fetched = get_transcript(offered, **asdict(limits))
    problem = coverage_problem(fetched.segments, work.declared_duration_s)
    if problem:
        raise TranscriptError(f"the transcript at {display_url(str(offered['url']))} does not fit: {problem}")
    segments = fetched.segments
    duration = work.declared_duration_s or max((s.end_s for s in segments), default=0.0) or None
    outcome = Outcome(
        "ok", PUBLISHER, work.audio_sha256, None, duration, time.perf_counter() - started, segments
    )
    return outcome, fetched.bytes


def _from_audio(work: EpisodeWork, transcriber: Transcriber, progress: Progress | None = None) -> Outcome:
    if work.audio_status != "ok" or not work.audio_path:
        reason = work.audio_error or work.audio_status or "not downloaded"
        raise AudioError(f"no audio to transcribe ({reason})")
    result = transcriber.transcribe(work.audio_path, progress=progress)
    return Outcome(
        "ok",
        transcriber.model_label,
        work.audio_sha256,
        result.language,
        result.duration_s,
        result.elapsed_s,
        result.segments,
    )


AudioRefetch = Callable[[EpisodeWork], EpisodeWork]


def transcribe_episode(
    work: EpisodeWork,
    transcriber: Transcriber,
    progress: Progress | None = None,
    refetch: AudioRefetch | None = None,
    limits: TranscriptLimits | None = None,
) -> Outcome:
    """The publisher's transcript when it offers a usable one, else Whisper on the downloaded audio
    (`progress` is called after each window it decodes).

    A publisher transcript already found unusable (the `publisher_transcripts` step checks them before any
    audio is downloaded) is not fetched again. Audio deleted from the cache since (a transcript that must be
    redone, with another model) is fetched again by `refetch`, which returns the episode as it is then.
    Anything one episode's transcript or audio does is that episode's failure; only a model that cannot
    load at all (ModelError) is raised, since every other episode would fail the same way.
    """
    offered = work.offered_transcript()
    publisher_error = work.publisher_unusable()
    if offered and publisher_error is None:
        try:
            return publisher_outcome(work, offered, limits or default_limits())[0]
        except TranscriptError as exc:
            publisher_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - an unforeseen transcript falls back to Whisper
            publisher_error = f"publisher transcript unusable: {_reason(exc)}"
    try:
        if refetch is not None and work.audio_to_fetch():
            work = refetch(work)
        return _from_audio(work, transcriber, progress)
    except ModelError:
        raise
    except AudioError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - odd audio fails its episode, not the day
        error = f"transcription failed: {_reason(exc)}"
    error = f"{publisher_error}; {error}" if publisher_error else error
    return Outcome("failed", transcriber.model_label, work.audio_sha256, error=error)


def default_limits() -> TranscriptLimits:
    return TranscriptLimits(allow_private=settings.allow_private_network())


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def describe(episode_id: str, outcome: Outcome) -> str:
    """The one log line for an episode: segments, source and speed, or the failure."""
    if outcome.status != "ok":
        return f"{episode_id}: failed: {outcome.error}"
    duration = outcome.audio_duration_s or 0.0
    wall = outcome.transcribe_s or 0.0
    done = f"{episode_id}: {len(outcome.segments)} segments from {outcome.source}"
    if outcome.source == PUBLISHER:
        return f"{done}, fetched in {wall:.1f}s"
    speed = duration / wall if wall else 0.0
    return f"{done}, audio {duration:.0f}s, wall {wall:.1f}s, {speed:.1f}x real time"


def _time_left(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(int(round(seconds)), 1)} s left"
    return f"about {int(round(seconds / 60))} min left"


def progress_line(
    episode_id: str, position: int, total: int, progress: WindowProgress, later_audio_s: float = 0.0
) -> str:
    """The progress line after one window of episode `position` of `total`: the window, how much audio,
    the speed, and the time left for this episode and the `later_audio_s` seconds still to come after it."""
    window = f"window {progress.window}/{progress.windows}" if progress.windows else f"window {progress.window}"
    audio = clock(progress.audio_done_s)
    if progress.audio_total_s:
        audio += f" of {clock(progress.audio_total_s)}"
    where = f"episode {position}/{total}" if position else "episode"
    line = f"{where} {episode_id}: {window}, {audio} audio"
    speed = progress.realtime_factor
    if speed > 0:
        line += f", {speed:.1f}x real time"
        left = (progress.seconds_left or 0.0) + later_audio_s / speed
        line += f", {_time_left(left)}" if left > 0 else ", done"
    return line


def day_position(day: list[EpisodeWork], episode_id: str, whisper_source: str) -> tuple[int, int, float]:
    """Where an episode stands in its day, for progress lines: its position (1-based, 0 when absent) among
    the day's episodes, how many there are, and the declared audio of the later ones still to transcribe."""
    ids = [w.episode_id for w in day]
    if episode_id not in ids:
        return 0, len(day), 0.0
    index = ids.index(episode_id)
    later = sum(
        w.declared_duration_s or 0.0
        for w in day[index + 1 :]
        if not w.is_done(whisper_source) and w.offered_transcript() is None
    )
    return index + 1, len(day), later


def start_line(work: EpisodeWork, position: int, total: int) -> str:
    """The line before an episode is transcribed: its place in the day and its declared length."""
    length = f" ({clock(work.declared_duration_s)} of audio declared)" if work.declared_duration_s else ""
    where = f"episode {position}/{total}" if position else "episode"
    return f"{where} {work.episode_id}: starting{length}"


@dataclass
class Tally:
    """Counts and totals over a partition's episodes, for metadata and the failure check."""

    transcribed: int = 0
    from_publisher: int = 0
    skipped: int = 0
    failed: int = 0
    audio_s: float = 0.0
    whisper_wall_s: float = 0.0

    @property
    def total(self) -> int:
        """Every episode seen, whatever happened to it."""
        return self.transcribed + self.from_publisher + self.skipped + self.failed

    @property
    def failed_share(self) -> float:
        """Failed episodes over all episodes (0 for an empty day)."""
        return self.failed / self.total if self.total else 0.0

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio Whisper transcribed per second of wall time (0 when it did none)."""
        return self.audio_s / self.whisper_wall_s if self.whisper_wall_s else 0.0

    def add(self, outcome: Outcome) -> None:
        """Count one stored outcome."""
        if outcome.status != "ok":
            self.failed += 1
        elif outcome.source == PUBLISHER:
            self.from_publisher += 1
        else:
            self.transcribed += 1
            self.audio_s += outcome.audio_duration_s or 0.0
            self.whisper_wall_s += outcome.transcribe_s or 0.0
