"""Executors by configuration: PODIGEST_EXECUTOR builds the daily job for in-process, multiprocess, Celery
or Kubernetes; the Kubernetes job is built and its run config validated (no cluster needed)."""

from __future__ import annotations

import dagster as dg
import pytest

from podigest_dagster.defs.daily import DAILY_JOB_NAME
from podigest_dagster.defs.executors import EXECUTOR_ENV, ExecutorConfigError, executor_from_env, k8s_config
from podigest_dagster.defs.fanout import CELERY_QUEUE_TAG, TRANSCRIBE_QUEUE


def daily_job(monkeypatch, executor: str | None) -> dg.JobDefinition:
    if executor is None:
        monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    else:
        monkeypatch.setenv(EXECUTOR_ENV, executor)
    from podigest_dagster.definitions import build_definitions

    return build_definitions().resolve_job_def(DAILY_JOB_NAME)


def test_the_default_executor_runs_every_step_in_process(podigest_home, monkeypatch):
    assert daily_job(monkeypatch, None).executor_def.name == "in_process"


@pytest.mark.parametrize("name, executor", [("multiprocess", "multiprocess"), ("celery", "celery")])
def test_one_setting_chooses_the_executor_and_its_config_is_valid(podigest_home, monkeypatch, name, executor):
    job = daily_job(monkeypatch, name)
    assert job.executor_def.name == executor
    assert dg.validate_run_config(job, {})


def test_the_daily_job_builds_and_validates_with_the_kubernetes_job_executor(podigest_home, monkeypatch):
    monkeypatch.setenv("PODIGEST_K8S_IMAGE", "registry.example.org/podigest:1.0")
    job = daily_job(monkeypatch, "k8s")
    assert job.executor_def.name == "k8s"
    config = dg.validate_run_config(job, {})
    executor_config = config["execution"]["k8s"]
    assert executor_config["job_image"] == "registry.example.org/podigest:1.0"
    gpu = executor_config["per_step_k8s_config"]["transcribe_one_episode"]
    assert gpu["container_config"]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "transcribe_one_episode" in {node.name for node in job.graph.iterate_op_defs()}
    from dagster_k8s import k8s_job_executor

    raw = job.with_executor_def(k8s_job_executor)
    assert dg.validate_run_config(raw, {"execution": {"config": k8s_config()}})
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(raw, {"execution": {"config": {**k8s_config(), "job_namespace": 3}}})


def test_transcription_steps_are_routed_to_their_own_celery_queue(podigest_home, monkeypatch):
    job = daily_job(monkeypatch, "celery")
    [op] = [o for o in job.graph.iterate_op_defs() if o.name == "transcribe_one_episode"]
    assert op.tags[CELERY_QUEUE_TAG] == TRANSCRIBE_QUEUE
    assert op.retry_policy is not None and op.retry_policy.max_retries >= 1


def test_an_unknown_executor_is_refused_in_one_line_naming_the_setting(monkeypatch):
    monkeypatch.setenv(EXECUTOR_ENV, "threads")
    with pytest.raises(ExecutorConfigError, match=EXECUTOR_ENV):
        executor_from_env()
