"""`podigest warehouse migrate-to-ducklake`: move an existing DuckDB-file warehouse into a DuckLake
(registered on the parser by cli.build_parser)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podigest_dagster import settings
from podigest_dagster.cli import CLIError


def cmd_migrate_to_ducklake(args: argparse.Namespace) -> None:
    from podigest_dagster.warehouse import ducklake
    from podigest_dagster.warehouse.to_ducklake import MigrationRefused, migrate_to_ducklake

    source = Path(args.source) if args.source else settings.warehouse_path()
    if ducklake.is_lake(source):
        raise CLIError("--from must be a DuckDB file (PODIGEST_WAREHOUSE already names a DuckLake)")
    data_path = args.data_path or os.environ.get(ducklake.DATA_PATH_ENV)
    try:
        lake = ducklake.Lake.from_target(args.to, data_path)
        copied = migrate_to_ducklake(source, lake)
    except (MigrationRefused, ducklake.LakeUnavailable) as exc:
        raise CLIError(str(exc)) from None
    rows = sum(copied.values())
    print(f"podigest: copied {rows} rows in {len(copied)} tables from {source} into {lake.describe()}")
    print(
        f"podigest: now set PODIGEST_WAREHOUSE={args.to!r}"
        + (f" and {ducklake.DATA_PATH_ENV}={lake.data_path}" if lake.data_path else "")
        + "; the next run's dbt build makes the marts on the lake"
    )


def add_commands(sub: Any, command: Callable[..., argparse.ArgumentParser] | None = None) -> None:
    """Add `warehouse migrate-to-ducklake` to the `podigest` sub-commands (`command` makes one with -q/-v)."""
    warehouse = (command or sub.add_parser)("warehouse", help="manage the warehouse (move it into a DuckLake)")
    actions = warehouse.add_subparsers(dest="warehouse_command", required=True, metavar="ACTION")
    move = actions.add_parser(
        "migrate-to-ducklake",
        help="copy the DuckDB warehouse into an empty DuckLake (stop runs first)",
        description="Copy every table of the DuckDB-file warehouse into a new, empty DuckLake on PostgreSQL, "
        "in one transaction, and check the row counts. The file is left as it is.",
    )
    move.add_argument("--to", required=True, help="the lake: ducklake:postgres:dbname=... host=... user=...")
    move.add_argument(
        "--data-path", help=f"where the lake's data files go (default: {'PODIGEST_DUCKLAKE_DATA_PATH'})"
    )
    move.add_argument(
        "--from",
        dest="source",
        help="the DuckDB file (default: PODIGEST_WAREHOUSE or PODIGEST_HOME/warehouse.duckdb)",
    )
    move.set_defaults(func=cmd_migrate_to_ducklake)
