"""Short-lived DuckDB connections with one writer at a time, and idempotent versioned migrations.

DuckDB lets one process write a database file. Every writer here takes a file lock beside the
database first, so parallel steps (multiprocess executor, backfills, dbt) queue instead of failing,
and a connection is opened only for the few statements that need it.

`PODIGEST_WAREHOUSE` may instead name a DuckLake (`ducklake:postgres:...`, see ducklake.py): the same
functions then open the lake, and writers queue on an advisory lock in its PostgreSQL catalog instead of
the file lock, so they can run on many machines.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib import resources
from pathlib import Path

import duckdb
from filelock import FileLock

from podigest_dagster.warehouse import ducklake

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 600.0

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
"""Opens a short warehouse connection (a writer's, under the lock): what core code that writes takes."""
OPEN_RETRY_S = 60.0
CONFLICT_ATTEMPTS = 8
WRITER_LOCK = "warehouse"
"""The one advisory lock every DuckLake write connection (and dbt) holds: writers queue as on the file."""
MIGRATIONS_TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
    "applied_at TIMESTAMPTZ DEFAULT current_timestamp)"
)
_lake_connections: set[int] = set()
_lake_locks_held = threading.local()


class WriteConflict(RuntimeError):
    """A DuckLake commit kept conflicting with other writers after every retry; one line with the reason."""


def _lake(db_path: str | Path, data_path: str | None = None) -> ducklake.Lake:
    return ducklake.Lake.from_target(db_path, data_path or os.environ.get(ducklake.DATA_PATH_ENV))


def is_lake_connection(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether `conn` was opened on a DuckLake by this module (its SQL must then be portable)."""
    return id(conn) in _lake_connections


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def writer_lock(db_path: str | Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the warehouse's writer lock (also used by dbt runs): the file lock, or on a DuckLake the
    catalog's advisory lock, which writers on every machine share."""
    if ducklake.is_lake(db_path):
        locks = ducklake.TableLocks(_lake(db_path), timeout_s=timeout_s)
        try:
            with locks.hold([WRITER_LOCK]):
                yield
        finally:
            locks.close()
        return
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
    if ducklake.is_lake(db_path):
        with _lake_write_connection(_lake(db_path), config) as conn:
            yield conn
        return
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
def _lake_write_connection(lake: ducklake.Lake, config: dict | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The lake attached read-write, holding the writer lock from before the first read to after the close
    (a write connection opened inside another one in the same thread shares its lock)."""
    holders = _lake_locks_held.__dict__.setdefault("by_lake", {})
    held = holders.get(lake)
    locks = held or ducklake.TableLocks(lake)
    holders[lake] = locks
    try:
        with locks.hold([WRITER_LOCK]):
            conn = ducklake.connect(lake, config=config)
            _lake_connections.add(id(conn))
            try:
                migrate(conn)
                yield conn
            finally:
                _lake_connections.discard(id(conn))
                conn.close()
    finally:
        if held is None:
            holders.pop(lake, None)
            locks.close()


@contextmanager
def read_connection(db_path: str | Path, config: dict | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; works while runs write, between their short write connections."""
    if ducklake.is_lake(db_path):
        conn = ducklake.connect(_lake(db_path), read_only=True, config=config)
        _lake_connections.add(id(conn))
        try:
            yield conn
        finally:
            _lake_connections.discard(id(conn))
            conn.close()
        return
    if not Path(db_path).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `podigest run` or `podigest demo` first")
    conn = _connect(db_path, read_only=True, config=config)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, rolled back on any error (also an interrupt), so a write is all or nothing.

    A DuckLake commit that conflicts has already ended its transaction: the error is raised as it is
    (`retry_conflicts` runs the whole write again), never hidden by the failing ROLLBACK.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        conn.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def is_conflict(exc: BaseException) -> bool:
    """A DuckLake commit refused because another writer changed the same table first."""
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def retry_conflicts(write: Callable) -> Callable:
    """Run a write (a function whose first argument is the connection) again when its commit conflicts,
    up to CONFLICT_ATTEMPTS times with jittered backoff; then raise WriteConflict with the reason."""

    @functools.wraps(write)
    def retried(*args, **kwargs):
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return write(*args, **kwargs)
            except duckdb.TransactionException as exc:
                if not is_conflict(exc):
                    raise
                if attempt == CONFLICT_ATTEMPTS:
                    reason = " ".join(str(exc).split())[:300]
                    raise WriteConflict(
                        f"{write.__name__}: the warehouse commit still conflicted after {attempt} attempts "
                        f"(another writer kept changing the same table): {reason}"
                    ) from exc
                log.warning("%s: commit conflict, retrying (attempt %s)", write.__name__, attempt)
                time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    return retried


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
    flavour = ducklake.lake_schema_sql if is_lake_connection(conn) else str
    conn.execute(flavour(MIGRATIONS_TABLE_SQL))
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        with transaction(conn):
            conn.execute(flavour(sql))
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
        log.info("warehouse migrated to version %s (%s)", version, name)
        applied.append(name)
    return applied
