"""A day through two real Celery workers on a DuckLake warehouse and a PostgreSQL Dagster instance, then one
worker SIGKILLed in the middle of an episode. Run by `make scale-test` (marker scale); prints one line:
`scale: episodes N, workers W, steps per worker {...}, lost 0, duplicated 0`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from podigest_dagster.warehouse.db import read_connection
from podigest_dagster_tests.scale.cluster import (
    DAY_EPISODES,
    NIGHT,
    ROOT,
    TRANSCRIBE_STEP,
    celery_hosts,
    cluster,
    digest_json,
    environment,
    run_day,
    serve_day,
)
from podigest_dagster_tests.support.insight_day import ENERGY

pytestmark = pytest.mark.scale

DAY, KILL_DAY = "2026-11-27", "2026-11-28"
REFERENCE_RUN = """
import sys
import dagster as dg
from podigest_dagster_tests.scale.jobs import scale_day_job
with dg.instance_for_test() as scratch:
    sys.exit(0 if scale_day_job().execute_in_process(partition_key=sys.argv[1], instance=scratch).success else 1)
"""
KILL_EPISODES = [("long-night", "Night Shift", NIGHT), ("long-energy", "Grid Talk", ENERGY)]


def transcript_counts(conn, day: str) -> tuple[dict[str, tuple], int]:
    """episode -> (transcripts rows, status, segment_count, segments stored) for the day; duplicated segments."""
    rows = conn.execute(
        """
        SELECT e.episode_id, count(DISTINCT t.transcribed_at), max(t.status), max(t.segment_count),
               (SELECT count(*) FROM transcript_segments s WHERE s.episode_id = e.episode_id)
        FROM episodes e LEFT JOIN transcripts t ON t.episode_id = e.episode_id
        WHERE e.partition_date = ? GROUP BY e.episode_id
        """,
        [day],
    ).fetchall()
    [(doubled,)] = conn.execute(
        "SELECT count(*) FROM (SELECT episode_id, seq FROM transcript_segments GROUP BY ALL HAVING count(*) > 1)"
    ).fetchall()
    [(rows_per_episode,)] = conn.execute(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM transcripts GROUP BY episode_id)"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}, doubled + max(0, rows_per_episode - 1)


def wait_for_transcription_start(
    instance: dg.DagsterInstance, day: str, timeout_s: float = 600
) -> tuple[str, str, str]:
    """(run id, step key, worker host) of the first transcription step a worker started for `day`."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for run in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": day})):
            for step, hosts in celery_hosts(instance, run.run_id).items():
                if step.startswith(TRANSCRIBE_STEP) and hosts:
                    return run.run_id, step, hosts[0]
        time.sleep(0.5)
    raise AssertionError(f"no transcription step started for {day} in {timeout_s}s")


def test_a_day_fans_out_over_two_celery_workers_and_survives_one_killed_mid_episode(
    tmp_path, http_server, capsys
):
    with cluster(tmp_path / "cluster", threads=1, visibility_s=60) as c:
        home, lake = Path(c.env["PODIGEST_HOME"]), c.env["PODIGEST_WAREHOUSE"]
        serve_day(http_server, home, DAY, DAY_EPISODES)
        for name in ("w1", "w2"):
            c.start_worker(name)
        c.wait_ready()

        with environment(c.env), dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            run_id, ok = run_day(DAY, instance)
            assert ok, "\n".join(c.log_tail(n) for n in c.workers)
            hosts = celery_hosts(instance, run_id)
        transcribed = {step: where for step, where in hosts.items() if step.startswith(TRANSCRIBE_STEP)}
        assert len(transcribed) == len(DAY_EPISODES) and all(len(w) == 1 for w in transcribed.values()), hosts
        per_worker = Counter(where[0].split("@")[0] for where in transcribed.values())
        assert set(per_worker) == {"w1", "w2"}, per_worker
        with environment(c.env), read_connection(lake) as conn:
            counts, duplicated = transcript_counts(conn, DAY)
            on_celery = digest_json(conn, DAY)
        assert duplicated == 0
        assert all(
            n == 1 and status == "ok" and stored == want for n, status, want, stored in counts.values()
        ), counts
        assert on_celery["items"], on_celery

        reference = {
            **c.env,
            "PODIGEST_HOME": str(tmp_path / "in-process"),
            "PODIGEST_WAREHOUSE": str(tmp_path / "in-process" / "warehouse.duckdb"),
            "PODIGEST_EXECUTOR": "in_process",
        }
        # In a process of its own started with these settings, as a worker is: numpy's BLAS fixes its thread
        # count (OMP_NUM_THREADS) when it loads, Whisper's audio features differ in their last bits with it
        # (enough to turn 'Dana Reyes' into 'data rays'), and this pytest process loaded numpy before
        # OMP_NUM_THREADS=1 was set.
        made = subprocess.run(
            [sys.executable, "-c", REFERENCE_RUN, DAY], env=reference, cwd=ROOT, capture_output=True, text=True,
            timeout=900, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        with environment(reference):
            with read_connection(reference["PODIGEST_WAREHOUSE"]) as conn:
                in_process = digest_json(conn, DAY)
        assert on_celery == in_process

        serve_day(http_server, home, KILL_DAY, KILL_EPISODES, repeat=3)
        with environment(c.env), dg.DagsterInstance.get() as instance:
            outcome: dict = {}
            runner = threading.Thread(
                target=lambda: outcome.update(zip(("run", "ok"), run_day(KILL_DAY, instance), strict=True))
            )
            runner.start()
            kill_run, victim_step, victim_host = wait_for_transcription_start(instance, KILL_DAY)
            time.sleep(3)  # well inside Whisper on that episode
            victim = victim_host.split("@")[0]
            c.kill(victim)
            runner.join(timeout=900)
            assert not runner.is_alive() and outcome.get("ok"), outcome
            after = celery_hosts(instance, kill_run)
        survivor = ({"w1", "w2"} - {victim}).pop()
        assert [h.split("@")[0] for h in after[victim_step]] == [victim, survivor], after[victim_step]
        with environment(c.env), read_connection(lake) as conn:
            counts, duplicated_after_kill = transcript_counts(conn, KILL_DAY)
        lost = sum(1 for n, status, _, _ in counts.values() if n != 1 or status != "ok")
        assert len(counts) == len(KILL_EPISODES) and lost == 0 and duplicated_after_kill == 0, counts
        assert all(stored == want for _, _, want, stored in counts.values()), counts

    with capsys.disabled():
        print(
            f"\nscale: episodes {len(DAY_EPISODES) + len(KILL_EPISODES)}, workers 2, "
            f"steps per worker {dict(sorted(per_worker.items()))}, lost {lost}, duplicated {duplicated_after_kill}"
        )
