"""Short-lived DuckDB connections with one writer at a time, and idempotent versioned migrations.

DuckDB lets one process write a database file. Every writer here takes a file lock beside the
database first, so parallel steps (multiprocess executor, backfills, dbt) queue instead of failing,
and a connection is opened only for the few statements that need it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib import resources
from pathlib import Path

import duckdb
from filelock import FileLock

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 600.0

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
"""Opens a short warehouse connection (a writer's, under the lock): what core code that writes takes."""
OPEN_RETRY_S = 60.0


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def writer_lock(db_path: str | Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the warehouse's writer lock (also used by dbt runs)."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(db_path)), timeout=timeout_s):
        yield


def _connect(db_path: str | Path, read_only: bool, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process (a reader or a writer) holds DuckDB's own lock."""
    deadline = time.monotonic() + OPEN_RETRY_S
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(db_path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@contextmanager
def write_connection(db_path: str | Path, config: dict | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection under the writer lock, with the schema migrated. Keep it short."""
    with writer_lock(db_path):
        conn = _connect(db_path, read_only=False, config=config)
        try:
            migrate(conn)
            yield conn
        finally:
            conn.close()


@contextmanager
def derived_write_connection(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, under its own writer lock, to a DuckDB file derived from the warehouse
    (the search index): no warehouse schema is migrated into it. Keep it short, like a warehouse write."""
    with writer_lock(db_path):
        conn = _connect(db_path, read_only=False)
        try:
            yield conn
        finally:
            conn.close()


@contextmanager
def read_connection(db_path: str | Path, config: dict | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; works while runs write, between their short write connections."""
    if not Path(db_path).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `podigest run` or `podigest demo` first")
    conn = _connect(db_path, read_only=True, config=config)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, rolled back on any error (also an interrupt), so a write is all or nothing."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped in the package, in order."""
    folder = resources.files("podigest_dagster.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this database has not seen yet, each in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
        "applied_at TIMESTAMPTZ DEFAULT current_timestamp)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        with transaction(conn):
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
        log.info("warehouse migrated to version %s (%s)", version, name)
        applied.append(name)
    return applied
