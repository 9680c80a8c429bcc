"""Shared fixtures: a private PODIGEST_HOME per test, and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import os

import pytest

from podigest_dagster import settings

# Under pytest-xdist each worker gets its share of the cores for torch's and OpenMP's thread pools (two
# workers on two cores: one thread each), instead of every worker spinning a pool the size of the machine.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ.setdefault("OMP_NUM_THREADS", str(_share))
    os.environ.setdefault("MKL_NUM_THREADS", str(_share))

settings.use_offline_environment()

from podigest_dagster_tests.support.http_server import TestHTTPServer, serve  # noqa: E402


@pytest.fixture
def podigest_home(tmp_path, monkeypatch):
    """An empty PODIGEST_HOME for one test; loopback enclosures allowed (the test server is local)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PODIGEST_HOME", str(home))
    monkeypatch.delenv("PODIGEST_WAREHOUSE", raising=False)
    monkeypatch.delenv("PODIGEST_FEEDS", raising=False)
    monkeypatch.setenv("PODIGEST_ALLOW_PRIVATE_NETWORK", "1")
    return home


@pytest.fixture
def http_server() -> TestHTTPServer:
    yield from serve()


# `make test` runs `--dist loadfile`: a module's tests stay on one xdist worker, so an expensive module-scoped
# fixture (the demo run, the dbt warehouse, synthesised speech, the browser) is built once, not once per worker.
# The longest tests and groups start first, so neither worker is left with a long one at the end.
LONG_FIRST = (
    "test_demo.py",
    "defs/test_daily_job.py",
    "defs/marts/test_dbt_skip.py",
    "defs/test_parallel_writers.py",
    "defs/marts/test_dbt_project.py",
    "reliability/test_concurrency.py",
    "reliability/test_crash_recovery.py",
)


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0].removeprefix("podigest_dagster_tests/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        module = _module_of(item)
        return LONG_FIRST.index(module) if module in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)
