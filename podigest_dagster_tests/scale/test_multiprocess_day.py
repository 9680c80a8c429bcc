"""A day through the multiprocess executor (PODIGEST_EXECUTOR=multiprocess): every step, each episode's
transcription included, in its own process, writers queueing on the DuckDB file's lock."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from podigest_dagster import settings
from podigest_dagster_tests.scale.cluster import DAY_EPISODES, TRANSCRIBE_STEP, serve_day

pytestmark = pytest.mark.scale

DAY = "2026-11-27"


def test_a_day_runs_with_one_process_per_step(podigest_home, http_server, monkeypatch, tmp_path):
    from podigest_dagster_tests.scale.jobs import multiprocess_day_job

    serve_day(http_server, podigest_home, DAY, DAY_EPISODES[:2])
    monkeypatch.setenv("PODIGEST_FEEDS", str(podigest_home / "feeds.yaml"))
    monkeypatch.setenv("PODIGEST_EXECUTOR", "multiprocess")
    monkeypatch.setenv("PODIGEST_WHISPER_THREADS", "1")
    (tmp_path / "dagster").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster")) as instance:
        with dg.execute_job(
            dg.reconstructable(multiprocess_day_job), instance=instance, tags={"dagster/partition": DAY}
        ) as result:
            assert result.success
            pids = {
                event.step_key: event.pid
                for event in result.all_events
                if event.is_step_start and event.step_key.startswith(TRANSCRIBE_STEP)
            }
    assert len(pids) == 2 and len(set(pids.values())) == 2, pids
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        assert conn.execute("SELECT count(*), min(status) FROM transcripts").fetchone() == (2, "ok")
        assert conn.execute("SELECT count(*) FROM digests WHERE partition_date = ?", [DAY]).fetchone() == (1,)
