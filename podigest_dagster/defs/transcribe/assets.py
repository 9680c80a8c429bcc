"""The `transcripts` asset: each episode of the day as timestamped text, from the publisher or from Whisper.

Heavy work (fetching, decoding, Whisper) happens with no warehouse connection open, in one step per
episode; each episode is then written in one short write transaction, so a crash keeps every finished
episode and a re-run does only the rest. No `from __future__ import annotations`: Dagster reads the annotations at runtime.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import dagster as dg

from podigest_dagster.core.ingest.audio_fetch import ALREADY_PRESENT, DOWNLOADED, fetch_again
from podigest_dagster.core.transcribe import store as transcript_store
from podigest_dagster.core.transcribe.audio import AudioError
from podigest_dagster.core.transcribe.engine import Progress, WindowProgress
from podigest_dagster.core.transcribe.whisper_model import ModelError
from podigest_dagster.core.transcribe.work import (
    EpisodeWork,
    Outcome,
    Tally,
    day_position,
    describe,
    progress_line,
    start_line,
    transcribe_episode,
)
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.fanout import CELERY_QUEUE_TAG, EPISODE_RETRY, TRANSCRIBE_QUEUE, mapping_keys
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.publisher import transcript_limits
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource

FAILURE_CHECK = "transcripts_failure_share"


def tally_metadata(tally: Tally) -> dict[str, Any]:
    """The materialization's metadata: counts per outcome, audio hours and Whisper's speed."""
    return {
        "episodes": tally.total,
        "transcribed": tally.transcribed,
        "from_publisher": tally.from_publisher,
        "skipped": tally.skipped,
        "failed": tally.failed,
        "audio_hours": round(tally.audio_s / 3600, 3),
        "realtime_factor": dg.MetadataValue.float(round(tally.realtime_factor, 2)),
    }


def failure_check(tally: Tally, max_failed_share: float) -> dg.AssetCheckResult:
    """Passes while the share of failed episodes stays within `max_failed_share`."""
    share = tally.failed_share
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


def progress_logger(
    context: dg.OpExecutionContext, episode_id: str, position: int, total: int, later_audio_s: float
) -> Progress:
    """The transcription engine's progress callback as one log line per decoded window."""

    def report(progress: WindowProgress) -> None:
        context.log.info(progress_line(episode_id, position, total, progress, later_audio_s))

    return report


@dg.op(
    ins={"episode_audio": dg.In(dg.Nothing)},
    out={"pending": dg.DynamicOut(EpisodeWork), "skipped": dg.Out(int), "from_publisher": dg.Out(int)},
)
def plan_transcripts(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, transcriber: TranscriberResource
):
    """The day's episodes not yet transcribed, one dynamic output each (in publication order); the rest
    counted: the publisher transcripts this run stored (checked before the audio), and those done before.
    No Transcriber is created here: a day with nothing to do loads no model."""
    source = transcriber.source_label()
    with warehouse.read_connection() as conn:
        work_list = transcript_store.load_work(conn, context.partition_key)
        from_publisher = transcript_store.count_publisher_used(conn, context.partition_key, context.run_id)
    pending = [work for work in work_list if not work.is_done(source)]
    for key, work in zip(mapping_keys([w.episode_id for w in pending]), pending, strict=True):
        yield dg.DynamicOutput(work, mapping_key=key, output_name="pending")
    yield dg.Output(len(work_list) - len(pending) - from_publisher, output_name="skipped")
    yield dg.Output(from_publisher, output_name="from_publisher")


def audio_refetch(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings
) -> Callable[[EpisodeWork], EpisodeWork]:
    """How a step gets audio deleted from the cache since its download (a transcript to redo): fetched
    again and recorded as the audio step would, then the episode read again."""

    def refetch(work: EpisodeWork) -> EpisodeWork:
        why = "pruned from the cache" if work.audio_status == "pruned" else "not on disk"
        context.log.info(f"{work.episode_id}: audio {why}; fetching it again to transcribe")
        outcome = fetch_again(
            warehouse.get_connection, warehouse.read_connection, work.episode_id, context.partition_key,
            ingest.download_limits(),
        )  # fmt: skip
        if outcome.status not in (DOWNLOADED, ALREADY_PRESENT):
            raise AudioError(f"no audio to transcribe ({outcome.error or outcome.status})")
        with warehouse.read_connection() as conn:
            return transcript_store.load_episode_work(conn, work.episode_id) or work

    return refetch


@dg.op(tags={CELERY_QUEUE_TAG: TRANSCRIBE_QUEUE}, retry_policy=EPISODE_RETRY)
def transcribe_one_episode(
    context: dg.OpExecutionContext,
    warehouse: WarehouseResource,
    transcriber: TranscriberResource,
    ingest: IngestSettings,
    work: EpisodeWork,
) -> Outcome | None:
    """One episode: transcribed and committed in one short write; None when it was done meanwhile.

    The warehouse is read again first, so a step run twice (a lost worker's task delivered again, two
    runs of one day) never transcribes an episode that is already done. Progress is logged per ~10-minute
    window of audio: the episode's place in the day, the speed and the time left. Audio pruned from the
    cache since (a transcript to redo with another model) is fetched again first.
    """
    source = transcriber.source_label()
    with warehouse.read_connection() as conn:
        now = transcript_store.load_episode_work(conn, work.episode_id)
        day = transcript_store.load_work(conn, context.partition_key)
    if now is not None and now.is_done(source):
        context.log.info(f"{work.episode_id}: already transcribed, skipped")
        return None
    engine = transcriber.get_transcriber()
    position, total, later_s = day_position(day, work.episode_id, source)
    context.log.info(start_line(now or work, position, total))
    try:
        outcome = transcribe_episode(
            now or work,
            engine,
            progress_logger(context, work.episode_id, position, total, later_s),
            refetch=audio_refetch(context, warehouse, ingest),
            limits=transcript_limits(ingest),
        )
    except ModelError as exc:
        raise dg.Failure(description=f"Whisper model unavailable: {exc}", allow_retries=False) from exc
    with warehouse.get_connection() as conn:
        transcript_store.store_outcome(conn, context.partition_key, work.episode_id, outcome)
    line = describe(work.episode_id, outcome)
    context.log.info(f"episode {position}/{total} {line}" if position else line)
    return replace(outcome, segments=[])


@dg.op(out={"result": dg.Out(dg.Nothing), "check": dg.Out(dg.Nothing)})
def collect_transcripts(
    context: dg.OpExecutionContext,
    transcriber: TranscriberResource,
    outcomes: list,
    skipped: int,
    from_publisher: int,
):
    """The day's tally as the materialization's metadata, and the failure-share check."""
    tally = Tally(skipped=skipped, from_publisher=from_publisher)
    for outcome in outcomes:
        if outcome is None:
            tally.skipped += 1
        else:
            tally.add(outcome)
    yield dg.Output(None, output_name="result", metadata=tally_metadata(tally))
    yield failure_check(tally, transcriber.max_failed_share)


@dg.graph_asset(
    partitions_def=daily_partitions,
    ins={"episode_audio": dg.AssetIn(dagster_type=dg.Nothing)},
    group_name="transcribe",
    kinds={"duckdb", "python"},
    check_specs=[
        dg.AssetCheckSpec(
            FAILURE_CHECK,
            asset="transcripts",
            blocking=True,
            description="fails the partition (and stops what depends on it) when more than max_failed_share "
            "of the day's episodes could not be transcribed; the episodes that succeeded stay stored",
        )
    ],
)
def transcripts(episode_audio):
    """Timestamped transcript segments per episode of the day: the publisher's (stored by
    `publisher_transcripts` before any audio was downloaded), else Whisper on the audio.

    One step per episode still to do (tagged for the `transcribe` Celery queue), so executors spread them
    over workers; each commits its episode at once, so a crash keeps every finished one.
    """
    pending, skipped, from_publisher = plan_transcripts(episode_audio)
    outcomes = pending.map(transcribe_one_episode).collect()
    return collect_transcripts(outcomes, skipped, from_publisher)
