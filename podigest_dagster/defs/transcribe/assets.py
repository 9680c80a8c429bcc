"""The `transcripts` asset: each episode of the day as timestamped text, from the publisher or from Whisper.

Heavy work (fetching, decoding, Whisper) happens with no warehouse connection open; each episode is
then written in one short write transaction, so a crash keeps every finished episode and a re-run
does only the rest. No `from __future__ import annotations`: Dagster reads the annotations at runtime.
"""

from typing import Any

import dagster as dg

from podigest_dagster.core.transcribe import store as transcript_store
from podigest_dagster.core.transcribe.work import Tally, describe, transcribe_episode
from podigest_dagster.defs.daily import daily_partitions
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


@dg.asset(
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("episode_audio")],
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
def transcripts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, transcriber: TranscriberResource
) -> dg.MaterializeResult:
    """Timestamped transcript segments per episode of the day: publisher transcripts first, else Whisper."""
    partition_date = context.partition_key
    engine = transcriber.get_transcriber()
    with warehouse.read_connection() as conn:
        work_list = transcript_store.load_work(conn, partition_date)
    tally = Tally()
    for work in work_list:
        if work.is_done(engine.model_label):
            tally.skipped += 1
            continue
        outcome = transcribe_episode(work, engine)
        with warehouse.get_connection() as conn:
            transcript_store.store_outcome(conn, partition_date, work.episode_id, outcome)
        tally.add(outcome)
        context.log.info(describe(work.episode_id, outcome))
    return dg.MaterializeResult(
        metadata=tally_metadata(tally),
        check_results=[failure_check(tally, transcriber.max_failed_share)],
    )
