"""Each reader's digest of the day (readers.yaml): chosen after the general digest, stored for delivery.
No `from __future__ import annotations`: Dagster reads the annotations at runtime."""

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.digest import ledger
from podigest_dagster.core.digest.delivery import EMAIL
from podigest_dagster.core.digest.reader_digests import digest_for, load_pool, stored_row
from podigest_dagster.core.digest.readers import ReadersConfigError, ReadersList, load_readers
from podigest_dagster.core.digest.store import load_stored_digest, save_reader_digests
from podigest_dagster.core.text.display import md_cell
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.insights.resources import EmbedderResource
from podigest_dagster.defs.warehouse import WarehouseResource


def readers_or_fail(context: dg.AssetExecutionContext) -> ReadersList:
    """readers.yaml, each skipped entry logged as a warning with its line; a file that is not YAML fails the step."""
    try:
        found = load_readers(settings.readers_file())
    except ReadersConfigError as exc:
        raise dg.Failure(f"readers file: {exc}") from None
    for problem in found.problems:
        context.log.warning(problem)
    return found


@dg.asset(
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("daily_digest")],
    group_name="digest",
    kinds={"duckdb", "python"},
)
def reader_digests(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """Every reader's top items of the day: the day's quality-passing ideas re-ranked by their interests,
    muted shows and topics left out (the general digest for readers with neither). A reader already
    emailed for the day keeps what they were sent; the model is loaded only when someone has interests."""
    date = context.partition_key
    found = readers_or_fail(context)
    with warehouse.read_connection() as conn:
        general = load_stored_digest(conn, date)
        if general is None:
            raise dg.Failure(f"no digest stored for {date}: materialise daily_digest first")
        sent = {key for key, row in ledger.load(conn, date, EMAIL).items() if row.status != ledger.FAILED}
        todo = [r for r in found.readers if r.key not in sent]
        personal = [r for r in todo if r.personal]
        pool = load_pool(conn, date, personal) if personal else None
    chosen = [digest_for(reader, general, pool, embedder.embed) for reader in todo]
    with warehouse.get_connection() as conn:
        save_reader_digests(conn, date, [stored_row(c) for c in chosen], keep=sent)
    lines = ["| reader | digest | items | why |", "|---|---|---|---|"]
    for c in chosen:
        why = "; ".join(f"{i.rank}: {w}" for i, w in zip(c.digest.items, c.reasons, strict=False))
        lines.append(
            f"| {md_cell(c.reader.key, 60)} | {c.kind} | {len(c.digest.items)} | {md_cell(why, 300)} |"
        )
    return dg.MaterializeResult(
        metadata={
            "readers": len(found.readers),
            "personal": sum(1 for c in chosen if not c.general),
            "kept_as_sent": len([r for r in found.readers if r.key in sent]),
            "entries_skipped": len(found.problems),
            "skipped": dg.MetadataValue.json(found.problems),
            "preview": dg.MetadataValue.md("\n".join(lines)),
        }
    )
