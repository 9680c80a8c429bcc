"""The `publisher_transcripts` asset: transcript first. Each episode of the day that links a publisher
transcript has it fetched, parsed and checked before any audio is downloaded; a usable one is stored as the
episode's transcript (so `episode_audio` downloads nothing for it), an unusable one is recorded with why (so
the episode's audio is downloaded and transcribed instead, and the transcript is not fetched again).
"""

import dagster as dg

from podigest_dagster.core.transcribe import publisher_first
from podigest_dagster.core.transcribe import store as transcript_store
from podigest_dagster.core.transcribe.work import TRANSCRIPT_DEADLINE_S, TranscriptLimits
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource


def transcript_limits(ingest: IngestSettings) -> TranscriptLimits:
    """A transcript fetch obeys the ingest limits: size cap, timeouts, retries of transient errors."""
    return TranscriptLimits(
        max_bytes=ingest.max_transcript_bytes,
        connect_timeout_s=ingest.connect_timeout_s,
        read_timeout_s=ingest.read_timeout_s,
        deadline_s=TRANSCRIPT_DEADLINE_S,
        retries=ingest.retries,
        backoff_s=ingest.backoff_s,
        allow_private=ingest.allow_private(),
    )


@dg.asset(partitions_def=daily_partitions, group_name="transcribe", deps=["episodes"], kinds={"duckdb"})
def publisher_transcripts(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    ingest: IngestSettings,
    transcriber: TranscriberResource,
) -> dg.MaterializeResult:
    """The publishers' own transcripts of the day, checked before any audio is downloaded: stored when usable
    (fetched, parsed, not empty, fitting the declared duration), else recorded as unusable with the reason.

    Episodes already transcribed are not fetched again; a few fetches run at once, each verdict is written
    at once (a crash keeps the finished ones).
    """
    day = context.partition_key
    with warehouse.read_connection() as conn:
        work_list = transcript_store.load_work(conn, day)
    pending, tally = publisher_first.plan(work_list, transcriber.source_label())
    checks = publisher_first.check_all(pending, transcript_limits(ingest))
    for index, checked in enumerate(checks, start=1):
        with warehouse.get_connection() as conn:
            transcript_store.store_publisher_check(conn, day, checked, context.run_id)
        tally.add(checked)
        context.log.info(f"transcript {index}/{len(pending)} {publisher_first.describe(checked)}")
    return dg.MaterializeResult(
        metadata={
            "episodes": len(work_list),
            "used": tally.used,
            "unusable": tally.unusable,
            "not_linked": tally.not_linked,
            "already_done": tally.already_done,
            "bytes_fetched": tally.bytes_fetched,
            "unusable_reasons": dg.MetadataValue.json(tally.unusable_reasons),
        }
    )
