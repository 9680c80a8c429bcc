"""dagster-celery's executor with what a Redis outage needs: a run never hangs on Redis, and never goes on
blind when Redis lost what it held.

- At start, the broker and the result backend are each reached once: unreachable is one line naming
  PODIGEST_CELERY_BROKER (or PODIGEST_CELERY_BACKEND), before any step is submitted.
- Redis unreachable mid-run (restarted, or the network): the run waits for it up to
  PODIGEST_CELERY_OUTAGE_S (default 120 s). Submitting a step, a worker storing a step's result and the run
  reading it all retry that long; workers reconnect by themselves. Past that, the steps still waiting fail
  with the reason.
- Redis back without its data (restarted without persistence, or a crash before it wrote): every step's
  task carries a marker key next to the queue, written when it is submitted. A marker gone means the queue
  the task was in is gone. A task no worker had started is lost and its step fails with that reason (never
  left waiting forever); a task a worker is running still stores its result in the new Redis, so the run
  waits for it; a task that finished but whose result went with the data fails its step with that reason
  (its work is stored: the warehouse writes are whole, and a re-run skips what is done).
  With persistence (appendonly yes), a restart loses nothing and the run simply continues.
"""

from __future__ import annotations

import os
import time
import uuid
from urllib.parse import urlsplit

import dagster as dg
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.events import DagsterEventType
from dagster_celery.core_execution_loop import core_celery_execution_loop
from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor, _submit_task

from podigest_dagster.defs.executors import BACKEND_ENV, BROKER_ENV, DEFAULT_OUTAGE_S, OUTAGE_ENV

MARK_PREFIX = "podigest:celery-task:"
CHECK_EVERY_S = 3.0  # how often a waiting step looks for its marker
LOST_GRACE_S = 10.0  # a marker gone this long, and the worker's own events, before a task is called lost
ENDED = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_UP_FOR_RETRY}


class CeleryUnavailable(RuntimeError):
    """Redis cannot be used; one line naming the setting."""


def outage_s() -> int:
    return int(os.environ.get(OUTAGE_ENV) or DEFAULT_OUTAGE_S)


def describe(url: str) -> str:
    """host:port/db of a Redis URL, without user or password."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 6379}{parts.path or '/0'}"


def _connection_errors() -> tuple[type[BaseException], ...]:
    import redis
    from kombu.exceptions import OperationalError

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError, OSError)


def _client(url: str, timeout_s: float):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)


def check_reachable(url: str, setting: str, timeout_s: float = 3.0) -> None:
    """PING the Redis `url` once; CeleryUnavailable naming `setting` if it does not answer."""
    import redis

    if urlsplit(url).scheme not in ("redis", "rediss"):
        return  # another broker (amqp://...): Celery's own errors say it
    try:
        client = _client(url, timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise CeleryUnavailable(
            f"cannot reach the Redis named by {setting} ({describe(url)}): {reason}"
        ) from None


class _WatchedResult:
    """A submitted step's celery AsyncResult, as the execution loop polls it (ready/get/revoke), that gives up
    with a reason instead of waiting forever (see the module docstring)."""

    def __init__(self, inner, step_key: str, watch: _Watch, mark: str | None, starts_before: int):
        self.inner, self.step_key, self.watch, self.mark = inner, step_key, watch, mark
        self.starts_before = starts_before
        self.error: CeleryUnavailable | None = None
        self.unreachable_since: float | None = None
        self.mark_gone_since: float | None = None
        self.ended_seen_since: float | None = None
        self.next_check = time.monotonic() + CHECK_EVERY_S

    def ready(self) -> bool:
        if self.error is not None:
            return True
        try:
            if self.inner.ready():
                return True
            self.unreachable_since = None
            self._look_for_loss()
        except self.watch.errors as exc:
            now = time.monotonic()
            self.unreachable_since = self.unreachable_since or now
            if now - self.unreachable_since > self.watch.outage_s:
                reason = " ".join(str(exc).split())[:160]
                self.error = CeleryUnavailable(
                    f"step {self.step_key}: Redis ({BROKER_ENV}/{BACKEND_ENV}, {describe(self.watch.backend)}) "
                    f"unreachable for more than {self.watch.outage_s} s ({OUTAGE_ENV}): {reason}"
                )
        return self.error is not None

    def get(self):
        if self.error is not None:
            raise self.error
        events = self.inner.get()
        if self.mark:
            try:
                self.watch.broker_client.delete(self.mark)
            except self.watch.errors:
                pass
        return events

    def revoke(self):
        try:
            self.inner.revoke()
        except self.watch.errors:
            pass

    def _look_for_loss(self) -> None:
        now = time.monotonic()
        if self.mark is None or now < self.next_check:
            return
        self.next_check = now + CHECK_EVERY_S
        if self.watch.broker_client.exists(self.mark):
            self.mark_gone_since = None
            return
        self.mark_gone_since = self.mark_gone_since or now
        if now - self.mark_gone_since < LOST_GRACE_S:
            return
        starts, ended = self.watch.progress(self.step_key)
        where = f"Redis ({BROKER_ENV}, {describe(self.watch.broker)}) restarted without its data"
        if starts <= self.starts_before:
            self.error = CeleryUnavailable(
                f"step {self.step_key}: its Celery task was lost before a worker took it: {where}; "
                "run the day again (done work is kept), and give Redis persistence (appendonly yes)"
            )
        elif ended:  # a worker stores the result just after the step's last event: give it time
            self.ended_seen_since = self.ended_seen_since or now
            if now - self.ended_seen_since < LOST_GRACE_S:
                return
            self.error = CeleryUnavailable(
                f"step {self.step_key}: it finished on a worker but its result was lost: {where}; "
                "run the day again (its work is stored and is skipped), and give Redis persistence (appendonly yes)"
            )
        # else a worker is running it: it stores its result in Redis as it is now


class _Watch:
    """What the results of one run share: the Redis clients, the bound, the run's event log."""

    def __init__(self, plan_context, broker: str, backend: str):
        self.broker, self.backend = broker, backend
        self.outage_s = outage_s()
        self.errors = _connection_errors()
        self.broker_client = _client(broker, 5.0) if urlsplit(broker).scheme in ("redis", "rediss") else None
        self.instance = plan_context.instance
        self.run_id = plan_context.dagster_run.run_id

    def progress(self, step_key: str) -> tuple[int, bool]:
        """(how many times a worker started step_key in this run, whether its last start has ended)."""
        starts, last_start, last_end = 0, -1.0, -1.0
        for record in self.instance.all_logs(self.run_id):
            event = record.dagster_event
            if event is None or event.step_key != step_key:
                continue
            if event.event_type == DagsterEventType.ENGINE_EVENT:
                data = event.engine_event_data
                if data and data.metadata and "Celery worker" in data.metadata:
                    starts, last_start = starts + 1, record.timestamp
            elif event.event_type in ENDED:
                last_end = record.timestamp
        return starts, last_end >= last_start >= 0

    def submit(self, app, plan_context, step, queue, priority, known_state) -> _WatchedResult:
        mark = None
        starts_before = 0
        if self.broker_client is not None:
            starts_before = self.progress(step.key)[0]
            mark = f"{MARK_PREFIX}{self.run_id}:{step.key}:{uuid.uuid4().hex[:8]}"
            self._retrying(lambda: self.broker_client.set(mark, "1", ex=7 * 24 * 3600))
        result = _submit_task(app, plan_context, step, queue, priority, known_state)
        return _WatchedResult(result, step.key, self, mark, starts_before)

    def _retrying(self, call):
        end = time.monotonic() + self.outage_s
        while True:
            try:
                return call()
            except self.errors:
                if time.monotonic() > end:
                    raise
                time.sleep(1.0)


class PodigestCeleryExecutor(CeleryExecutor):
    def execute(self, plan_context, execution_plan):
        check_reachable(self.broker, BROKER_ENV)
        if self.backend != self.broker:
            check_reachable(self.backend, BACKEND_ENV)
        watch = _Watch(plan_context, self.broker, self.backend)
        return core_celery_execution_loop(plan_context, execution_plan, step_execution_fn=watch.submit)


@dg.executor(
    name="celery", config_schema=CELERY_CONFIG, requirements=multiple_process_executor_requirements()
)
def podigest_celery_executor(init_context):
    """dagster-celery's `celery` executor (same config), watched for Redis outages as above."""
    from dagster._core.execution.retries import RetryMode

    config = init_context.executor_config
    return PodigestCeleryExecutor(
        broker=config.get("broker"),
        backend=config.get("backend"),
        config_source=config.get("config_source"),
        include=config.get("include"),
        retries=RetryMode.from_config(config["retries"]),
    )
