"""The `audio_cache` asset: after the day's transcripts, the audio cache pruned to its retention period and
size cap (PODIGEST_AUDIO_RETENTION_DAYS, PODIGEST_AUDIO_MAX_GB), so it does not grow forever."""

from typing import Any

import dagster as dg

from podigest_dagster.core.ingest.audio_cache import PruneReport, prune
from podigest_dagster.core.text.display import byte_size
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.warehouse import WarehouseResource

ORPHAN_GRACE_S = 600.0  # past the download deadline: a file no row points at is no download in progress


@dg.asset(partitions_def=daily_partitions, group_name="ingest", deps=["transcripts"], kinds={"python"})
def audio_cache(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings
) -> dg.MaterializeResult:
    """Transcribed audio deleted once past the retention period (0 days: at once), then oldest first while
    the cache is over its size cap; audio still to be transcribed, or played by the web archive from its
    local copy (no web URL), is never deleted. The whole cache, not only this day's audio."""
    retention, cap = ingest.retention_days(), ingest.max_cache_bytes()
    report = prune(
        warehouse.get_connection,
        ingest.audio_path(),
        retention,
        cap,
        orphan_grace_s=ingest.download_deadline_s + ORPHAN_GRACE_S,
    )
    context.log.info(summary(report))
    if report.over_cap_bytes:
        context.log.warning(
            f"the audio cache is {byte_size(report.over_cap_bytes)} over PODIGEST_AUDIO_MAX_GB: what is left is "
            f"audio still to transcribe ({report.pending_files} files) or played by the archive from here"
        )
    for path, error in report.delete_errors.items():
        context.log.warning(f"could not delete {path}: {error}")
    return dg.MaterializeResult(metadata=_metadata(report))


def summary(report: PruneReport) -> str:
    """`7 files pruned (1.2 GB), 3 kept (310 MB, 1 still to transcribe)`."""
    line = f"{report.files_pruned} files pruned ({byte_size(report.bytes_pruned)}), "
    line += f"{report.files_kept} kept ({byte_size(report.bytes_kept)}"
    if report.pending_files:
        line += f", {report.pending_files} still to transcribe"
    if report.archive_files:
        line += f", {report.archive_files} for the web archive: no web URL"
    return line + ")"


def _metadata(report: PruneReport) -> dict[str, Any]:
    return {
        "files_pruned": report.files_pruned,
        "bytes_pruned": report.bytes_pruned,
        "orphans_pruned": report.orphans_pruned,
        "files_kept": report.files_kept,
        "bytes_kept": report.bytes_kept,
        "pending_files": report.pending_files,
        "pending_bytes": report.pending_bytes,
        "archive_files": report.archive_files,
        "retention_days": dg.MetadataValue.float(float(report.retention_days)),
        **({"max_bytes": report.max_bytes} if report.max_bytes is not None else {}),
        "over_cap_bytes": report.over_cap_bytes,
        "delete_errors": dg.MetadataValue.json(report.delete_errors),
    }
