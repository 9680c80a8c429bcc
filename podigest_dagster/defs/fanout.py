"""Per-episode steps: the mapping keys of a day's dynamic outputs, and the retry policy of an episode's step.

Download and transcription of a day are graph-backed assets: a planning op emits one dynamic output per
episode that still needs work, one step per episode runs it (so an executor can put it on any worker),
and a collecting op turns the outcomes into the asset's materialization.
"""

from __future__ import annotations

import re

import dagster as dg

CELERY_QUEUE_TAG = "dagster-celery/queue"
TRANSCRIBE_QUEUE = "transcribe"
# A step lost with its worker, a warehouse connection dropped, a commit conflict that outlived its own
# retries: worth another go, on any worker. Errors an episode owns are stored as its outcome instead,
# and a model that cannot load is raised with allow_retries=False.
EPISODE_RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
MAX_KEY = 64


def mapping_keys(ids: list[str]) -> list[str]:
    """One distinct, Dagster-safe mapping key per id (letters, digits and _), readable where the id is."""
    keys: list[str] = []
    seen: set[str] = set()
    for value in ids:
        key = _UNSAFE.sub("_", value)[:MAX_KEY] or "episode"
        base, n = key, 1
        while key in seen:
            n += 1
            key = f"{base}_{n}"
        seen.add(key)
        keys.append(key)
    return keys
