"""Which executor runs a day's steps, chosen by one setting: PODIGEST_EXECUTOR.

- `in_process` (default): every step in the run's own process, one after another (the demo, the tests).
- `multiprocess`: one process per step on this machine (PODIGEST_MAX_CONCURRENT at once, default: cores).
- `celery`: steps are Celery tasks on a Redis broker (PODIGEST_CELERY_BROKER, PODIGEST_CELERY_BACKEND);
  transcription steps go to queue `transcribe` (GPU workers in production), the others to `dagster`.
  Tasks are acknowledged late and requeued when their worker dies, so a lost worker's step runs again on
  another one; Dagster's op retry policy covers a step that fails. Redis unreachable at start is one line
  naming the setting; restarted mid-run, the run waits for it or fails the steps it lost with the reason
  (celery_executor.py).
- `k8s`: dagster-k8s's k8s_job_executor, one Kubernetes Job per step (PODIGEST_K8S_* settings, see README).
The run config's `execution` section still overrides any of these for one run.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV = "PODIGEST_EXECUTOR"
EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")
BROKER_ENV, BACKEND_ENV = "PODIGEST_CELERY_BROKER", "PODIGEST_CELERY_BACKEND"
VISIBILITY_ENV = "PODIGEST_CELERY_VISIBILITY_TIMEOUT_S"
OUTAGE_ENV = "PODIGEST_CELERY_OUTAGE_S"  # how long a run waits for an unreachable Redis
DEFAULT_OUTAGE_S = 120
DEFAULT_BROKER = "redis://localhost:6379/0"
DEFAULT_BACKEND = "redis://localhost:6379/1"
# A task not acknowledged this long after its delivery is given to another worker: longer than the
# longest step (a 3-hour episode on one CPU core), else a slow step runs twice.
DEFAULT_VISIBILITY_S = 6 * 3600


class ExecutorConfigError(ValueError):
    """A bad executor setting, named in a one-line message."""


def executor_name() -> str:
    name = (os.environ.get(EXECUTOR_ENV) or "in_process").strip().lower().replace("-", "_")
    if name not in EXECUTORS:
        raise ExecutorConfigError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, got {name!r}")
    return name


def celery_config() -> dict:
    """The celery_executor's config (and, under `execution.config`, the workers' celery.yaml)."""
    visibility = int(os.environ.get(VISIBILITY_ENV) or DEFAULT_VISIBILITY_S)
    transport = {"visibility_timeout": visibility}
    if visibility < 600:  # a short timeout (tests): look for abandoned tasks often
        transport |= {"unacked_restore_interval": 2, "unacked_restore_throttle": 1}
    outage = int(os.environ.get(OUTAGE_ENV) or DEFAULT_OUTAGE_S)
    return {
        "broker": os.environ.get(BROKER_ENV) or DEFAULT_BROKER,
        "backend": os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND,
        "config_source": {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_transport_options": transport,
            # A Redis restart: a worker storing a result, and the run submitting a step, wait for it up
            # to PODIGEST_CELERY_OUTAGE_S (see celery_executor.py for the run's side).
            "result_backend_transport_options": {
                "retry_policy": {"max_retries": outage, "interval_max": 1, "timeout": float(outage)}
            },
            "task_publish_retry_policy": {
                "max_retries": outage // 2 + 1,
                "interval_start": 0,
                "interval_step": 1,
                "interval_max": 2,
            },
            "broker_connection_retry_on_startup": True,
        },
    }


def k8s_config() -> dict:
    """The k8s_job_executor's config: image, namespace, and a GPU for transcription steps."""
    config = {
        "job_namespace": os.environ.get("PODIGEST_K8S_NAMESPACE") or "podigest",
        "image_pull_policy": "IfNotPresent",
        "env_config_maps": ["podigest-env"],
        "env_secrets": ["podigest-secrets"],
        "max_concurrent": int(os.environ.get("PODIGEST_MAX_CONCURRENT") or 16),
        "step_k8s_config": {
            "container_config": {"resources": {"requests": {"cpu": "1", "memory": "2Gi"}}},
        },
        "per_step_k8s_config": {
            "transcribe_one_episode": {
                "container_config": {
                    "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "6Gi"}},
                },
                "pod_spec_config": {"node_selector": {"podigest/pool": "gpu"}},
            }
        },
    }
    if os.environ.get("PODIGEST_K8S_IMAGE"):
        config["job_image"] = os.environ["PODIGEST_K8S_IMAGE"]
    return config


def executor_from_env(name: str | None = None) -> dg.ExecutorDefinition:
    """The executor PODIGEST_EXECUTOR (or `name`) names, configured from the environment."""
    name = name or executor_name()
    if name == "multiprocess":
        limit = os.environ.get("PODIGEST_MAX_CONCURRENT")
        # Each step process forks from a server that has already imported the job's module (Dagster,
        # podigest, dbt's manifest loader) instead of starting an interpreter that imports them again.
        return dg.multiprocess_executor.configured(
            {
                "max_concurrent": int(limit) if limit else None,
                "retries": {"enabled": {}},
                "start_method": {"forkserver": {}},
            }
        )
    if name == "celery":
        from podigest_dagster.defs.celery_executor import podigest_celery_executor

        return podigest_celery_executor.configured({**celery_config(), "retries": {"enabled": {}}})
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor.configured(k8s_config())
    return dg.in_process_executor
