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
