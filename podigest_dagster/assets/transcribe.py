"""The `transcripts` asset: each episode of the day as timestamped text, from the publisher or from Whisper.

Heavy work (fetching, decoding, Whisper) happens with no warehouse connection open; each episode is
then written in one short write transaction, so a crash keeps every finished episode and a re-run
does only the rest. No `from __future__ import annotations`: Dagster reads the annotations at runtime.
"""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd

from podigest_dagster import settings
from podigest_dagster.core.audio import AudioError
from podigest_dagster.core.publisher_transcripts import TranscriptError, choose_transcript, fetch_transcript
from podigest_dagster.core.transcribe import Segment, Transcriber
from podigest_dagster.partitions import daily_partitions
from podigest_dagster.resources.transcriber import TranscriberResource
from podigest_dagster.resources.warehouse import WarehouseResource

PUBLISHER = "publisher"
FAILURE_CHECK = "transcripts_failure_share"
TRANSCRIPT_MAX_BYTES = 20 * 1024 * 1024
TRANSCRIPT_DEADLINE_S = 120.0

_WORK_SQL = """
SELECT e.episode_id, e.transcript_urls, e.duration_s,
       a.status, a.path, a.sha256, a.error,
       t.status, t.source, t.audio_sha256
FROM episodes e
LEFT JOIN episode_audio a ON a.episode_id = e.episode_id
LEFT JOIN transcripts t ON t.episode_id = e.episode_id
WHERE e.partition_date = ?
ORDER BY e.published_at, e.episode_id
"""


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

    def offered_transcript(self) -> dict | None:
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


def _from_publisher(work: EpisodeWork, offered: dict) -> Outcome:
    started = time.perf_counter()
    segments = fetch_transcript(
        offered,
        max_bytes=TRANSCRIPT_MAX_BYTES,
        deadline_s=TRANSCRIPT_DEADLINE_S,
        allow_private=settings.allow_private_network(),
    )
    duration = work.declared_duration_s or max((s.end_s for s in segments), default=0.0) or None
    return Outcome(
        "ok", PUBLISHER, work.audio_sha256, None, duration, time.perf_counter() - started, segments
    )


def _from_audio(work: EpisodeWork, transcriber: Transcriber) -> Outcome:
    if work.audio_status != "ok" or not work.audio_path:
        reason = work.audio_error or work.audio_status or "not downloaded"
        raise AudioError(f"no audio to transcribe ({reason})")
    result = transcriber.transcribe(work.audio_path)
    return Outcome(
        "ok",
        transcriber.model_label,
        work.audio_sha256,
        result.language,
        result.duration_s,
        result.elapsed_s,
        result.segments,
    )


def transcribe_episode(work: EpisodeWork, transcriber: Transcriber) -> Outcome:
    """The publisher's transcript when it offers a usable one, else Whisper on the downloaded audio."""
    offered = work.offered_transcript()
    publisher_error = None
    if offered:
        try:
            return _from_publisher(work, offered)
        except TranscriptError as exc:
            publisher_error = str(exc)
    try:
        return _from_audio(work, transcriber)
    except AudioError as exc:
        error = f"{publisher_error}; {exc}" if publisher_error else str(exc)
        return Outcome("failed", transcriber.model_label, work.audio_sha256, error=error)


def store_outcome(conn: Any, partition_date: str, episode_id: str, outcome: Outcome) -> None:
    """Replace the episode's segments and upsert its transcripts row, in one transaction."""
    rows = pd.DataFrame(
        {
            "episode_id": [episode_id] * len(outcome.segments),
            "seq": [s.seq for s in outcome.segments],
            "start_s": [float(s.start_s) for s in outcome.segments],
            "end_s": [float(s.end_s) for s in outcome.segments],
            "text": [s.text for s in outcome.segments],
            "source": [outcome.source] * len(outcome.segments),
            "avg_logprob": pd.array([s.avg_logprob for s in outcome.segments], dtype="Float64"),
            "no_speech_prob": pd.array([s.no_speech_prob for s in outcome.segments], dtype="Float64"),
        }
    )
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM transcript_segments WHERE episode_id = ?", [episode_id])
        if len(rows):
            conn.register("new_segments", rows)
            conn.execute(
                "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source, "
                "avg_logprob, no_speech_prob) SELECT episode_id, seq, start_s, end_s, text, source, "
                "avg_logprob, no_speech_prob FROM new_segments"
            )
            conn.unregister("new_segments")
        conn.execute(
            """
            INSERT INTO transcripts (episode_id, partition_date, status, source, audio_sha256, language,
                audio_duration_s, transcribe_s, segment_count, error, transcribed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)
            ON CONFLICT (episode_id) DO UPDATE SET
                partition_date = excluded.partition_date, status = excluded.status, source = excluded.source,
                audio_sha256 = excluded.audio_sha256, language = excluded.language,
                audio_duration_s = excluded.audio_duration_s, transcribe_s = excluded.transcribe_s,
                segment_count = excluded.segment_count, error = excluded.error,
                transcribed_at = excluded.transcribed_at
            """,
            [
                episode_id,
                partition_date,
                outcome.status,
                outcome.source,
                outcome.audio_sha256,
                outcome.language,
                outcome.audio_duration_s,
                outcome.transcribe_s,
                len(outcome.segments),
                outcome.error,
            ],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


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
        return self.transcribed + self.from_publisher + self.skipped + self.failed

    def add(self, outcome: Outcome) -> None:
        if outcome.status != "ok":
            self.failed += 1
        elif outcome.source == PUBLISHER:
            self.from_publisher += 1
        else:
            self.transcribed += 1
            self.audio_s += outcome.audio_duration_s or 0.0
            self.whisper_wall_s += outcome.transcribe_s or 0.0

    def metadata(self) -> dict[str, Any]:
        speed = self.audio_s / self.whisper_wall_s if self.whisper_wall_s else 0.0
        return {
            "episodes": self.total,
            "transcribed": self.transcribed,
            "from_publisher": self.from_publisher,
            "skipped": self.skipped,
            "failed": self.failed,
            "audio_hours": round(self.audio_s / 3600, 3),
            "realtime_factor": dg.MetadataValue.float(round(speed, 2)),
        }


def load_work(warehouse: WarehouseResource, partition_date: str) -> list[EpisodeWork]:
    with warehouse.read_connection() as conn:
        return [EpisodeWork(*row) for row in conn.execute(_WORK_SQL, [partition_date]).fetchall()]


def _describe(episode_id: str, outcome: Outcome) -> str:
    if outcome.status != "ok":
        return f"{episode_id}: failed: {outcome.error}"
    duration = outcome.audio_duration_s or 0.0
    wall = outcome.transcribe_s or 0.0
    done = f"{episode_id}: {len(outcome.segments)} segments from {outcome.source}"
    if outcome.source == PUBLISHER:
        return f"{done}, fetched in {wall:.1f}s"
    speed = duration / wall if wall else 0.0
    return f"{done}, audio {duration:.0f}s, wall {wall:.1f}s, {speed:.1f}x real time"


def failure_check(tally: Tally, max_failed_share: float) -> dg.AssetCheckResult:
    share = tally.failed / tally.total if tally.total else 0.0
    return dg.AssetCheckResult(
        check_name=FAILURE_CHECK,
        passed=share <= max_failed_share,
        metadata={
            "failed": tally.failed,
            "episodes": tally.total,
            "failed_share": round(share, 3),
            "max_failed_share": max_failed_share,
        },
    )


@dg.asset(
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("episode_audio")],
    group_name="transcribe",
    kinds={"duckdb", "python"},
    check_specs=[
        dg.AssetCheckSpec(
            FAILURE_CHECK,
            asset="transcripts",
            blocking=False,
            description="fails when more than max_failed_share of the day's episodes could not be transcribed",
        )
    ],
)
def transcripts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, transcriber: TranscriberResource
) -> dg.MaterializeResult:
    """Timestamped transcript segments per episode of the day: publisher transcripts first, else Whisper."""
    partition_date = context.partition_key
    engine = transcriber.get_transcriber()
    tally = Tally()
    for work in load_work(warehouse, partition_date):
        if work.is_done(engine.model_label):
            tally.skipped += 1
            continue
        outcome = transcribe_episode(work, engine)
        with warehouse.get_connection() as conn:
            store_outcome(conn, partition_date, work.episode_id, outcome)
        tally.add(outcome)
        context.log.info(_describe(work.episode_id, outcome))
    return dg.MaterializeResult(
        metadata=tally.metadata(),
        check_results=[failure_check(tally, transcriber.max_failed_share)],
    )
