"""The job the scale test and bench/scale.py run: the Python chain of one day (feeds to daily_digest), on
the executor PODIGEST_EXECUTOR names, Whisper limited to PODIGEST_WHISPER_THREADS threads per worker.

Celery workers rebuild it from this module (`dg.reconstructable(scale_day_job)`), so it takes everything
from the environment, as the run's own process does.
"""

from __future__ import annotations

import os

import dagster as dg

from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.executors import executor_from_env
from podigest_dagster.defs.transcribe.resources import TranscriberResource

JOB_NAME = "scale_day"
THREADS_ENV = "PODIGEST_WHISPER_THREADS"


def scale_day_job() -> dg.JobDefinition:
    """The day on the executor PODIGEST_EXECUTOR names."""
    return _day_job(None)


def multiprocess_day_job() -> dg.JobDefinition:
    """The day on the multiprocess executor whatever the environment says. A job of its own because Dagster
    caches a reconstructable job by its function within a process: after the Celery test has run
    `scale_day_job` in this pytest process, the same pointer would hand back the Celery job."""
    return _day_job(executor_from_env("multiprocess"))


def redis_restart_day_job() -> dg.JobDefinition:
    """scale_day_job for test_celery_redis_restart, a function of its own for the same reason: the job a
    reconstructable pointer cached holds its executor's config, so the Celery test run after it in this
    process would submit to the broker of the restart test's cluster, long stopped."""
    return _day_job(None)


def _day_job(executor: dg.ExecutorDefinition | None) -> dg.JobDefinition:
    from podigest_dagster.definitions import build_definitions

    base = build_definitions()
    threads = int(os.environ.get(THREADS_ENV) or 0)
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    resources = {**base.resources, "transcriber": TranscriberResource(cpu_threads=threads)}
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.assets("daily_digest").upstream(),
        partitions_def=daily_partitions,
    )
    defs = dg.Definitions(
        assets=list(base.assets or []),
        asset_checks=list(base.asset_checks or []),
        jobs=[job],
        resources=resources,
        executor=executor or base.executor,
    )
    return defs.resolve_job_def(JOB_NAME)
