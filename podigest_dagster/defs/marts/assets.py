"""dbt marts as Dagster assets: sources are the Python assets' tables, so the UI shows one lineage graph.

The manifest is prepared once, before runs, by `prepare_dbt_manifest()` (the CLI/setup calls it); run
workers only load it, so parallel backfills never race on `dbt parse` (dagster issue #33993).
`dbt build` runs under the warehouse's writer lock, so it never collides with the Python writers.
No `from __future__ import annotations` here: Dagster reads the asset function's annotations at runtime.
"""

import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from filelock import FileLock

from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import writer_lock

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt"
WAREHOUSE_ENV = "PODIGEST_WAREHOUSE"
MARTS_GROUP = "marts"
PARSE_TARGET = Path("target") / "parse"
PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this Python (a virtualenv's bin is often not on PATH), else dbt on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


def _project_files() -> Iterator[Path]:
    """Every file whose change can change the manifest."""
    root = dbt_project.project_dir
    yield root / "dbt_project.yml"
    yield root / "profiles.yml"
    for folder in ("models", "macros", "tests", "seeds", "snapshots", "analyses"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.suffix in PROJECT_FILE_SUFFIXES:
                yield path


def manifest_is_stale(manifest_path: Path | None = None) -> bool:
    """True when the manifest is missing or older than any project file."""
    manifest_path = manifest_path or dbt_project.manifest_path
    if not manifest_path.exists():
        return True
    built = manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _project_files() if path.exists())


def _parse_manifest() -> None:
    """Run `dbt parse` into a private target folder, then swap the manifest in atomically."""
    invocation = dbt_resource().cli(["parse", "--quiet"], target_path=PARSE_TARGET)
    invocation.wait()
    parsed = dbt_project.project_dir / PARSE_TARGET / "manifest.json"
    os.replace(parsed, dbt_project.manifest_path)


def prepare_dbt_manifest() -> Path:
    """Parse the dbt project once, under a file lock, only when the manifest is missing or stale."""
    manifest_path = dbt_project.manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(manifest_path.with_name("manifest.json.lock"))):
        if manifest_is_stale(manifest_path):
            _parse_manifest()
    return manifest_path


def _load_manifest_path() -> Path:
    """The existing manifest; prepared (once, under the lock) only if it is missing."""
    if dbt_project.manifest_path.exists():
        return dbt_project.manifest_path
    return prepare_dbt_manifest()


class PodigestDbtTranslator(DagsterDbtTranslator):
    """dbt sources become the Python assets that write them; every dbt model lands in group "marts"."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            meta = dbt_resource_props.get("meta") or {}
            asset_key = (meta.get("dagster") or {}).get("asset_key")
            if not asset_key:
                raise ValueError(
                    f"dbt source {dbt_resource_props['unique_id']} has no meta.dagster.asset_key: "
                    "map it to the Python asset that writes the table"
                )
            return dg.AssetKey(asset_key)
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return MARTS_GROUP


translator = PodigestDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_duplicate_source_asset_keys=True)
)


def partition_vars(window: dg.TimeWindow) -> dict[str, str]:
    """dbt --vars for the partition window [min_date, max_date) the incremental marts rebuild."""
    return {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}


@contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    """Set one environment variable for the dbt subprocess started inside the block."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def dbt_resource() -> DbtCliResource:
    """The DbtCliResource for resource key "dbt"."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


@dbt_assets(
    manifest=_load_manifest_path(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    partitions_def=daily_partitions,
    name="podigest_dbt_assets",
)
def podigest_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt build` (models and tests) for the partition window, holding the warehouse writer lock."""
    db_path = str(warehouse.database)
    with warehouse.get_connection():
        pass
    dbt_vars = json.dumps(partition_vars(context.partition_time_window))
    with writer_lock(db_path):
        with _environ(WAREHOUSE_ENV, db_path):
            invocation = dbt.cli(["build", "--vars", dbt_vars], context=context)
        yield from invocation.stream()
