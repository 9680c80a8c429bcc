"""The web archive asset: the static site rebuilt from every stored digest once the day's digest is in.
No `from __future__ import annotations`: Dagster reads the annotations at runtime."""

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.digest.site import build_site, load_archive
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.warehouse import WarehouseResource


@dg.asset(
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("daily_digest")],
    group_name="digest",
    kinds={"html"},
)
def digest_site(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The web archive (PODIGEST_HOME/site): the latest digest and every day, a page per day and per
    show, players that start at the cited second, the RSS feed; serve it with `podigest site serve`."""
    try:
        public_url = settings.public_url()
    except ValueError as exc:
        raise dg.Failure(str(exc)) from None
    with warehouse.read_connection() as conn:
        archive = load_archive(conn, settings.audio_dir(), public_url)
    report = build_site(archive, settings.site_dir())
    context.log.info(f"web archive for {context.partition_key}: {report.as_dict()}")
    return dg.MaterializeResult(
        metadata={**report.as_dict(), "index": dg.MetadataValue.path(str(settings.site_dir() / "index.html"))}
    )
