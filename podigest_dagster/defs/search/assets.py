"""The search stage: keep the index of everything said (search.duckdb) up to date as days are added.
No `from __future__ import annotations`: Dagster reads the annotations at runtime."""

from collections.abc import Iterator
from datetime import date

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.search import store as search_store
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import derived_write_connection


@dg.asset(
    partitions_def=daily_partitions,
    group_name="search",
    deps=[dg.AssetKey("insight_embeddings")],
    kinds={"duckdb"},
)
def search_index(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """The day's transcript segments (BM25) and embedded insight passages (meaning) in the search index,
    replacing what an earlier run of the day indexed; the index is never rebuilt for a new day, only
    built once from every stored day when it is missing or from another version."""
    day = date.fromisoformat(context.partition_key)
    path = settings.search_index_path()
    with warehouse.read_connection() as conn:
        rows = search_store.load_day(conn, day)
    with derived_write_connection(path) as index:
        search_store.prepare(index)
        if search_store.is_current(index):
            outcome = {"action": "day replaced", **search_store.replace_day(index, rows)}
        else:
            outcome = {
                "action": "built from every stored day",
                **search_store.rebuild(index, _every_day(warehouse)),
            }
        summary = search_store.index_summary(index)
    context.log.info(f"search index for {day}: {outcome}; the index now holds {summary}")
    return dg.MaterializeResult(
        metadata={
            **outcome,
            **{f"index_{key}": value for key, value in summary.items()},
            "path": dg.MetadataValue.path(str(path)),
        }
    )


def _every_day(warehouse: WarehouseResource) -> Iterator[search_store.DayRows]:
    """Each stored day's rows, read on its own short connection (a long read would hold off writers)."""
    with warehouse.read_connection() as conn:
        days = search_store.warehouse_days(conn)
    for day in days:
        with warehouse.read_connection() as conn:
            yield search_store.load_day(conn, day)
