"""Transcript first: every episode of the day whose feed links a publisher transcript has it fetched, parsed
and checked before any audio is downloaded, so audio is fetched only for episodes with no usable one.

A transcript is unusable when none is linked, the fetch fails (after retries of transient errors), it does
not parse, it holds no text, it is an HTML page where the feed promised VTT, SRT or JSON, or it does not fit
the declared duration (coverage.py). Fetches run a few at a time (they wait on the network, not the CPU);
each verdict is then written at once, so a crash keeps every finished one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from podigest_dagster.core.transcribe.publisher import TranscriptError
from podigest_dagster.core.transcribe.work import (
    PUBLISHER,
    UNUSABLE,
    EpisodeWork,
    Outcome,
    TranscriptLimits,
    publisher_outcome,
)

USED = "ok"
PARALLEL_FETCHES = 4


@dataclass(frozen=True)
class PublisherCheck:
    """One episode's publisher transcript as checked: `ok` with the outcome to store, or `unusable` and why."""

    episode_id: str
    url: str
    status: str
    error: str | None = None
    bytes: int = 0
    seconds: float = 0.0
    outcome: Outcome | None = None


def to_check(day: list[EpisodeWork], whisper_source: str) -> list[EpisodeWork]:
    """The day's episodes that link a publisher transcript and have no current transcript yet."""
    return [w for w in day if w.offered_transcript() is not None and not w.is_done(whisper_source)]


def check(work: EpisodeWork, limits: TranscriptLimits) -> PublisherCheck:
    """Fetch, parse and check one episode's publisher transcript; never raises for what the transcript is."""
    offered = work.offered_transcript() or {}
    url = str(offered.get("url") or "")
    started = time.perf_counter()
    try:
        outcome, size = publisher_outcome(work, offered, limits)
    except TranscriptError as exc:
        return PublisherCheck(work.episode_id, url, UNUSABLE, str(exc), 0, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - whatever a stranger's file does, the audio is the way out
        reason = f"publisher transcript unusable: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        return PublisherCheck(work.episode_id, url, UNUSABLE, reason, 0, time.perf_counter() - started)
    return PublisherCheck(work.episode_id, url, USED, None, size, time.perf_counter() - started, outcome)


def check_all(
    works: Iterable[EpisodeWork], limits: TranscriptLimits, parallel: int = PARALLEL_FETCHES
) -> Iterator[PublisherCheck]:
    """Each episode's check, in the order given (publication order), `parallel` fetches at a time."""
    works = list(works)
    if not works:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(works)))) as pool:
        yield from pool.map(lambda work: check(work, limits), works)


@dataclass
class PublisherTally:
    """The day's publisher transcripts: used, unusable (with why), not linked, already transcribed."""

    used: int = 0
    unusable: int = 0
    not_linked: int = 0
    already_done: int = 0
    bytes_fetched: int = 0
    unusable_reasons: dict[str, str] = field(default_factory=dict)

    def add(self, checked: PublisherCheck) -> None:
        if checked.status == USED:
            self.used += 1
            self.bytes_fetched += checked.bytes
        else:
            self.unusable += 1
            self.unusable_reasons[checked.episode_id] = checked.error or "unusable"


def plan(day: list[EpisodeWork], whisper_source: str) -> tuple[list[EpisodeWork], PublisherTally]:
    """The episodes to check, and the tally with the others counted (none linked, or already transcribed)."""
    pending = to_check(day, whisper_source)
    tally = PublisherTally()
    for work in day:
        if work.offered_transcript() is None:
            tally.not_linked += 1
        elif work not in pending:
            tally.already_done += 1
    return pending, tally


def describe(checked: PublisherCheck) -> str:
    """One log line for a checked transcript: used (segments, size, time) or unusable and why."""
    if checked.status == USED and checked.outcome is not None:
        return (
            f"{checked.episode_id}: {len(checked.outcome.segments)} segments from the {PUBLISHER}'s transcript "
            f"({checked.bytes / 1000:.0f} kB in {checked.seconds:.1f}s): no Whisper needed"
        )
    return f"{checked.episode_id}: publisher transcript unusable, the audio will be transcribed: {checked.error}"
