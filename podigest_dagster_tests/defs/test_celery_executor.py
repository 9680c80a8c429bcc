"""The Celery executor with Redis unreachable at start: one line naming the setting, before any step is
submitted, in a few seconds (no worker or Redis needed)."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from podigest_dagster.defs.celery_executor import CeleryUnavailable, check_reachable, podigest_celery_executor
from podigest_dagster.defs.executors import BROKER_ENV, celery_config
from podigest_dagster_tests.support.services import free_port


@dg.op
def never_runs() -> None:
    raise AssertionError("a step ran although Redis is unreachable")


def celery_job() -> dg.JobDefinition:
    @dg.job(executor_def=podigest_celery_executor.configured({**celery_config(), "retries": {"enabled": {}}}))
    def tiny() -> None:
        never_runs()

    return tiny


@pytest.fixture
def no_redis(monkeypatch) -> str:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv(BROKER_ENV, url)
    monkeypatch.setenv("PODIGEST_CELERY_BACKEND", url.replace("/0", "/1"))
    return url


def test_an_unreachable_broker_is_one_line_naming_the_setting(no_redis):
    with pytest.raises(CeleryUnavailable) as failure:
        check_reachable(no_redis, BROKER_ENV)
    message = str(failure.value)
    assert "\n" not in message and BROKER_ENV in message and "secret" not in message
    assert "127.0.0.1" in message


def test_a_celery_run_with_redis_unreachable_fails_fast_naming_the_setting(no_redis, tmp_path):
    started = time.monotonic()
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        result = dg.execute_job(dg.reconstructable(celery_job), instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.is_run_failure)
        steps_started = [e for e in result.all_events if e.is_step_start]
    assert time.monotonic() - started < 20
    assert not steps_started
    error = failure.event_specific_data.error
    first_line = f"{error.cls_name}: {error.message}".strip()
    assert "\n" not in first_line and BROKER_ENV in first_line and "secret" not in first_line, first_line
