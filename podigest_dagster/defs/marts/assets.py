"""dbt marts as Dagster assets: sources are the Python assets' tables, so the UI shows one lineage graph.

The manifest is prepared once, before runs, by `prepare_dbt_manifest()` (the CLI/setup calls it); run
workers only load it, so parallel backfills never race on `dbt parse` (dagster issue #33993).
`dbt build` runs under the warehouse's writer lock, so it never collides with the Python writers.
A partition whose dbt inputs are unchanged since its last complete build (fingerprint in
`core/marts/store.py`) is not rebuilt: the asset reports that build's results again, unchanged.
No `from __future__ import annotations` here: Dagster reads the asset function's annotations at runtime.
"""

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata as package_metadata
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

from podigest_dagster.core.marts import store as marts_store
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import writer_lock

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt"
WAREHOUSE_ENV = "PODIGEST_WAREHOUSE"
MARTS_GROUP = "marts"
PARSE_TARGET = Path("target") / "parse"
PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv"}
BUILD_NOTE = "dbt_build"
"""Metadata key on results reported again from the last build (its value says when that build ran)."""

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


def project_digest() -> list[str]:
    """Lines that change when the dbt project or the dbt that runs it changes."""
    root = dbt_project.project_dir
    lines = [f"dbt-core {_version('dbt-core')}", f"dbt-duckdb {_version('dbt-duckdb')}"]
    for path in sorted(set(_project_files())):
        if path.exists():
            lines.append(f"{path.relative_to(root)} {hashlib.sha256(path.read_bytes()).hexdigest()}")
    return lines


def _version(package: str) -> str:
    try:
        return package_metadata.version(package)
    except package_metadata.PackageNotFoundError:
        return "?"


@lru_cache(maxsize=4)
def _manifest_relations(manifest_path: Path, mtime: float) -> tuple[tuple, tuple]:
    """(sources, models) of the manifest as (schema, name) pairs: what dbt reads and what it builds."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    sources = tuple(
        (node["schema"], node.get("identifier") or node["name"]) for node in manifest.get("sources", {}).values()
    )
    models = tuple(
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in {"model", "seed", "snapshot"}
    )
    return sources, models


def manifest_relations() -> tuple[tuple, tuple]:
    path = _load_manifest_path()
    return _manifest_relations(path, path.stat().st_mtime)


def _plain(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata values that survive a JSON round trip (text, numbers, booleans)."""
    plain = {}
    for key, value in metadata.items():
        raw = getattr(value, "value", value)
        if raw is None or isinstance(raw, str | int | float | bool):
            plain[key] = raw
    return plain


def record_result(context: AssetExecutionContext, event: Any) -> dict[str, Any] | None:
    """A dbt event as a JSON-able result to report again when the next build is skipped."""
    if isinstance(event, dg.Output):
        key = context.asset_key_for_output(event.output_name)
        return {"kind": "asset", "asset_key": key.path, "metadata": _plain(event.metadata or {})}
    if isinstance(event, dg.AssetCheckResult) and event.asset_key is not None:
        return {
            "kind": "check",
            "asset_key": event.asset_key.path,
            "check_name": event.check_name,
            "passed": event.passed,
            "severity": event.severity.value,
            "metadata": _plain(event.metadata or {}),
        }
    return None


def replay(context: AssetExecutionContext, build: marts_store.Build) -> list[Any] | None:
    """The last build's results for everything selected now, in the order dbt reported them (Dagster
    wants a multi-asset's outputs in dependency order), or None when it did not report them all."""
    note = f"unchanged since the build of {build.built_at.isoformat(timespec='seconds')}, skipped"
    wanted_assets = {tuple(k.path): k for k in context.selected_asset_keys}
    wanted_checks = {(tuple(k.asset_key.path), k.name): k for k in context.selected_asset_check_keys}
    events: list[Any] = []
    for result in build.results:
        key = tuple(result["asset_key"])
        metadata = {**result["metadata"], BUILD_NOTE: note}
        if result["kind"] == "asset" and wanted_assets.pop(key, None) is not None:
            events.append(dg.MaterializeResult(asset_key=dg.AssetKey(list(key)), metadata=metadata))
        elif result["kind"] == "check" and wanted_checks.pop((key, result["check_name"]), None) is not None:
            events.append(
                dg.AssetCheckResult(
                    asset_key=dg.AssetKey(list(key)),
                    check_name=result["check_name"],
                    passed=result["passed"],
                    severity=dg.AssetCheckSeverity(result["severity"]),
                    metadata=metadata,
                )
            )
    return None if wanted_assets or wanted_checks else events


def summary(results: list[dict[str, Any]], seconds: float) -> str:
    """`dbt: 104 passed, 0 failed in 7.1s`: models built and tests passed, against tests failed."""
    failed = sum(1 for r in results if r["kind"] == "check" and not r["passed"])
    return f"dbt: {len(results) - failed} passed, {failed} failed in {seconds:.1f}s"


def _inputs_fingerprint(conn: Any, context: AssetExecutionContext, dbt_vars: str) -> str:
    sources, _ = manifest_relations()
    selection = sorted("/".join(k.path) for k in context.selected_asset_keys)
    selection += sorted(f"{'/'.join(k.asset_key.path)}:{k.name}" for k in context.selected_asset_check_keys)
    extra = [*project_digest(), f"vars {dbt_vars}", *(f"selected {s}" for s in selection)]
    return marts_store.fingerprint(conn, sources, extra)


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
    """`dbt build` (models and tests) for the partition window, holding the warehouse writer lock; skipped,
    with the last build's results reported again, when nothing dbt reads has changed since that build."""
    db_path = str(warehouse.database)
    partition = context.partition_key
    dbt_vars = json.dumps(partition_vars(context.partition_time_window))
    _, models = manifest_relations()
    events = None
    with warehouse.get_connection() as conn:
        digest = _inputs_fingerprint(conn, context, dbt_vars)
        last = marts_store.last_build(conn, partition)
        if last is not None and last.fingerprint == digest and not marts_store.missing_relations(conn, models):
            events = replay(context, last)
        if events is None:
            marts_store.forget_build(conn, partition)
    if events is not None:
        context.log.info(
            f"dbt: unchanged since the build of {last.built_at.isoformat(timespec='seconds')}, "
            f"skipped ({len(events)} results reported again)"
        )
        yield from events
        return
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with writer_lock(db_path):
        with _environ(WAREHOUSE_ENV, db_path):
            invocation = dbt.cli(["build", "--vars", dbt_vars], context=context)
        for event in invocation.stream():
            recorded = record_result(context, event)
            if recorded is not None:
                results.append(recorded)
            yield event
    with warehouse.get_connection() as conn:
        marts_store.save_build(conn, partition, digest, results, datetime.now(UTC))
    context.log.info(summary(results, time.perf_counter() - started))
