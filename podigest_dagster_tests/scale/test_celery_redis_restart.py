"""Redis restarted in the middle of a Celery run (one worker, two episodes: one being transcribed, one
waiting in the queue). Run by `make scale-test` (marker scale).

1. Restarted with its data (appendonly): the worker reconnects, the queued task is still there, the run
   succeeds and every episode is transcribed exactly once.
2. Restarted without its data: the queued task is gone. The run must not wait for it forever: the step
   fails with the reason (podigest_dagster/defs/celery_executor.py); the episode being transcribed is
   stored whole, the other not at all.
3. The same day again: the lost episode is transcribed, the stored one is not redone.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from podigest_dagster.defs.executors import BROKER_ENV
from podigest_dagster.warehouse.db import read_connection
from podigest_dagster_tests.scale.cluster import Cluster, cluster, environment, run_day, serve_day
from podigest_dagster_tests.scale.jobs import redis_restart_day_job
from podigest_dagster_tests.scale.test_celery_scale import transcript_counts, wait_for_transcription_start
from podigest_dagster_tests.support.insight_day import CITIES, ENERGY, HEALTH, MONEY

pytestmark = pytest.mark.scale

KEPT_DAY, LOST_DAY = "2026-11-29", "2026-11-30"
RUN_TIMEOUT_S = 480


def run_with_restart(c: Cluster, instance: dg.DagsterInstance, day: str, keep_data: bool) -> tuple[str, bool]:
    """The day's run in a thread; Redis restarted (3 s down) 2 s into the first transcription step."""
    outcome: dict = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            zip(("run", "ok"), run_day(day, instance, redis_restart_day_job), strict=True)
        ),
        daemon=True,
    )
    runner.start()
    wait_for_transcription_start(instance, day, timeout_s=300)
    time.sleep(2)
    assert c.redis is not None
    c.redis.restart(down_s=3, keep_data=keep_data)
    runner.join(timeout=RUN_TIMEOUT_S)
    assert not runner.is_alive(), f"the run on {day} still waits {RUN_TIMEOUT_S} s after Redis restarted"
    return outcome["run"], outcome["ok"]


def run_failure(instance: dg.DagsterInstance, run_id: str) -> str:
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.is_run_failure and event.event_specific_data.error:
            return event.event_specific_data.error.to_string()
    return ""


def test_redis_restarted_mid_run_half_writes_nothing_and_never_hangs(tmp_path, http_server, capsys):
    with cluster(tmp_path / "cluster", threads=1, visibility_s=60, redis_persist=True) as c:
        home, lake = Path(c.env["PODIGEST_HOME"]), c.env["PODIGEST_WAREHOUSE"]
        serve_day(http_server, home, KEPT_DAY, [("kept-health", "Body and Mind", HEALTH),
                                                ("kept-energy", "Grid Talk", ENERGY)], repeat=2)  # fmt: skip
        serve_day(http_server, home, LOST_DAY, [("lost-money", "Money Matters", MONEY),
                                                ("lost-cities", "City Lab Talk", CITIES)], repeat=2)  # fmt: skip
        c.start_worker("w1")
        c.wait_ready()

        with environment(c.env), dg.DagsterInstance.get() as instance:
            kept_run, kept_ok = run_with_restart(c, instance, KEPT_DAY, keep_data=True)
            assert kept_ok, run_failure(instance, kept_run) + c.log_tail("w1")
            lost_run, lost_ok = run_with_restart(c, instance, LOST_DAY, keep_data=False)
            reason = run_failure(instance, lost_run)
        with environment(c.env), read_connection(lake) as conn:
            kept, kept_doubled = transcript_counts(conn, KEPT_DAY)
            lost, lost_doubled = transcript_counts(conn, LOST_DAY)
            [(first_times,)] = conn.execute(
                "SELECT list(t.transcribed_at ORDER BY t.episode_id) FROM transcripts t "
                "JOIN episodes e USING (episode_id) WHERE e.partition_date = ?",
                [LOST_DAY],
            ).fetchall()

        # 1. with its data: every episode once, whole
        assert len(kept) == 2 and kept_doubled == 0, kept
        assert all(
            n == 1 and status == "ok" and stored == want for n, status, want, stored in kept.values()
        ), kept
        # 2. without: the run ended, failed with the reason; each episode whole or not there at all
        assert not lost_ok and "restarted without its data" in reason and BROKER_ENV in reason, reason
        assert len(lost) == 2 and lost_doubled == 0, lost
        whole = [v for v in lost.values() if v[0] == 1 and v[1] == "ok" and v[2] == v[3]]
        absent = [v for v in lost.values() if v[0] == 0 and v[3] == 0]
        assert len(whole) + len(absent) == 2 and absent, lost

        # 3. the day again: what was lost is done now, what was stored is not redone
        with environment(c.env), dg.DagsterInstance.get() as instance:
            again_run, again_ok = run_day(LOST_DAY, instance, redis_restart_day_job)
            assert again_ok, run_failure(instance, again_run)
        with environment(c.env), read_connection(lake) as conn:
            after, doubled_after = transcript_counts(conn, LOST_DAY)
            [(times_after,)] = conn.execute(
                "SELECT list(t.transcribed_at ORDER BY t.episode_id) FROM transcripts t "
                "JOIN episodes e USING (episode_id) WHERE e.partition_date = ?",
                [LOST_DAY],
            ).fetchall()
        assert doubled_after == 0 and all(n == 1 and status == "ok" for n, status, _, _ in after.values()), (
            after
        )
        assert set(first_times or []) <= set(times_after), (first_times, times_after)

    said = re.search(r"(its Celery task was lost[^;]*|it finished on a worker[^;]*)", reason)
    with capsys.disabled():
        print(
            f"\nredis restart: with its data run ok, 2 episodes once; without it the run failed in time "
            f"({len(whole)} stored whole, {len(absent)} not at all: {said.group(0) if said else '?'}); re-run ok, duplicated 0"
        )
