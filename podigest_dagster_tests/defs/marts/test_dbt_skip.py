"""A partition whose dbt inputs did not change is not rebuilt: the dbt asset reports its last build's
materializations and check results again without running dbt; a changed row rebuilds it."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from podigest_dagster.defs.marts.assets import (
    BUILD_NOTE,
    dbt_resource,
    podigest_dbt_assets,
    prepare_dbt_manifest,
)
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import write_connection
from podigest_dagster_tests.defs.marts.test_dbt_project import DAY_1, FEED_A, fill_warehouse


def materialise(db_path, instance) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [podigest_dbt_assets],
        resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(database=str(db_path))},
        partition_key=DAY_1,
        instance=instance,
    )
    assert result.success
    return result


def outcome(result: dg.ExecuteInProcessResult) -> tuple[set, set]:
    assets = {event.asset_key for event in result.get_asset_materialization_events()}
    checks = {(c.asset_key, c.check_name, c.passed) for c in result.get_asset_check_evaluations()}
    return assets, checks


def notes(result: dg.ExecuteInProcessResult) -> set:
    return {
        BUILD_NOTE in event.materialization.metadata for event in result.get_asset_materialization_events()
    }


def audio_hours(db_path) -> float:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        query = "SELECT audio_hours_transcribed FROM marts.dim_podcasts WHERE feed_url = ?"
        return conn.execute(query, [FEED_A]).fetchone()[0]


def test_dbt_is_skipped_while_its_inputs_are_unchanged_and_rebuilt_when_a_row_changes(tmp_path, monkeypatch):
    db_path = tmp_path / "warehouse.duckdb"
    fill_warehouse(db_path)
    prepare_dbt_manifest()
    real_cli = DbtCliResource.cli
    with dg.instance_for_test() as instance:
        built = materialise(db_path, instance)
        assert notes(built) == {False}
        assets, checks = outcome(built)
        assert len(assets) >= 4 and len(checks) >= 10

        monkeypatch.setattr(DbtCliResource, "cli", lambda *args, **kwargs: pytest.fail("dbt ran on unchanged inputs"))
        with write_connection(db_path) as conn:  # when a step last ran is not an input
            conn.execute("UPDATE feeds SET last_polled_at = now()")
            conn.execute("UPDATE episodes SET updated_at = now()")
        skipped = materialise(db_path, instance)
        assert outcome(skipped) == (assets, checks)
        assert notes(skipped) == {True}
        logs = [e.user_message for e in instance.all_logs(skipped.run_id)]
        assert any("dbt: unchanged since the build of" in m for m in logs)

        monkeypatch.setattr(DbtCliResource, "cli", real_cli)
        assert audio_hours(db_path) == pytest.approx((1800 + 1200) / 3600)
        with write_connection(db_path) as conn:
            conn.execute("UPDATE transcripts SET audio_duration_s = 5400 WHERE episode_id = 'ep-a1'")
        rebuilt = materialise(db_path, instance)
        assert notes(rebuilt) == {False}
        assert outcome(rebuilt)[0] == assets
        assert audio_hours(db_path) == pytest.approx((5400 + 1200) / 3600)
        logs = [e.user_message for e in instance.all_logs(rebuilt.run_id)]
        assert any(m.startswith("dbt: ") and " passed, 0 failed in " in m for m in logs)
