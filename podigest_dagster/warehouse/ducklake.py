"""The warehouse as a DuckLake: a catalog on PostgreSQL and Parquet data files on shared storage, for many
writers on many machines.

`PODIGEST_WAREHOUSE=ducklake:postgres:dbname=D host=H port=P user=U` names the catalog and
`PODIGEST_DUCKLAKE_DATA_PATH` the data files (a folder every worker mounts at the same path, or s3://...).
DuckLake has no primary keys and commits optimistically, so:
- the migrations are applied in a DuckLake flavour (`lake_schema_sql`: constraints dropped, FLOAT[n] -> FLOAT[]);
- every write transaction first takes a PostgreSQL advisory lock per table it writes (`TableLocks`), so
  writers of one table queue across machines like the file lock queues them on one; without that, two
  first writes of one partition both commit (a DELETE that matches nothing records no conflict) and rows
  are doubled;
- a commit conflict (a writer that took no lock) is retried whole, a bounded number of times (db.py).
Extensions come from the duckdb-extension-* wheels (DuckDB cannot download them here) and are loaded by path.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

PREFIX = "ducklake:"
CATALOG_PREFIX = "postgres:"
WAREHOUSE_ENV = "PODIGEST_WAREHOUSE"
DATA_PATH_ENV = "PODIGEST_DUCKLAKE_DATA_PATH"
ALIAS = "lake"
EXTENSIONS = ("postgres_scanner", "ducklake")
ATTACH_ATTEMPTS = 5
LOCK_TIMEOUT_S = 600
CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock(int4, int4): this class id ('pdig') keeps podigest's locks apart from any other's.
LOCK_CLASS = 0x70646967


class LakeUnavailable(RuntimeError):
    """The DuckLake named by the settings cannot be used; the message is one line naming the setting."""


def is_lake(target: str | Path) -> bool:
    """Whether a PODIGEST_WAREHOUSE value names a DuckLake (else it is a DuckDB file)."""
    return str(target).startswith(PREFIX)


def redact(dsn: str) -> str:
    """A libpq connection string with its password hidden, fit for an error message."""
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake lives: its PostgreSQL catalog (libpq keywords) and its data path."""

    dsn: str
    data_path: str | None = None

    @classmethod
    def from_target(cls, target: str | Path, data_path: str | None = None) -> Lake:
        """Parse `ducklake:postgres:<libpq keywords>`; only a PostgreSQL catalog takes many writers."""
        text = str(target)
        if not is_lake(text):
            raise LakeUnavailable(f"{WAREHOUSE_ENV} {text!r} is not a DuckLake (ducklake:postgres:...)")
        catalog = text[len(PREFIX) :]
        if not catalog.startswith(CATALOG_PREFIX) or not catalog[len(CATALOG_PREFIX) :].strip():
            raise LakeUnavailable(
                f"{WAREHOUSE_ENV} must name a DuckLake catalog on PostgreSQL "
                "(ducklake:postgres:dbname=... host=... user=...); other catalogs are not safe with many writers"
            )
        path = (data_path or "").strip() or None
        if path and "://" not in path:
            path = str(Path(path).expanduser().resolve())
        return cls(dsn=catalog[len(CATALOG_PREFIX) :].strip(), data_path=path)

    @property
    def target(self) -> str:
        return f"{PREFIX}{CATALOG_PREFIX}{self.dsn}"

    def describe(self) -> str:
        """The catalog as a message may show it (no password)."""
        return f"{PREFIX}{CATALOG_PREFIX}{redact(self.dsn)}"


# --- extensions ------------------------------------------------------------------------------------------


def extension_path(name: str) -> Path:
    """The .duckdb_extension file the duckdb-extension-<name> wheel ships for this DuckDB version."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    wheel = f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}"
    if spec is None or not spec.submodule_search_locations:
        raise LakeUnavailable(f"the DuckDB extension {name} is not installed: pip install {wheel}")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not found.is_file():
        raise LakeUnavailable(f"{found} is missing: reinstall {wheel}")
    return found


def load_extensions(conn: duckdb.DuckDBPyConnection) -> None:
    """LOAD postgres_scanner then ducklake from their wheels (never INSTALL: no download)."""
    for name in EXTENSIONS:
        conn.execute(f"LOAD '{extension_path(name)}'")


# --- connections ------------------------------------------------------------------------------------------


def _attach_sql(lake: Lake, read_only: bool) -> str:
    options = []
    if lake.data_path:
        options.append(f"DATA_PATH '{_quote(lake.data_path)}'")
    if read_only:
        options.append("READ_ONLY")
    suffix = f" ({', '.join(options)})" if options else ""
    return f"ATTACH '{_quote(lake.target)}' AS {ALIAS}{suffix}"


def _quote(text: str) -> str:
    return text.replace("'", "''")


_shared: dict[tuple[int, Lake, bool], duckdb.DuckDBPyConnection] = {}


def connect(lake: Lake, read_only: bool = False, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as `lake` and in use; LakeUnavailable if it cannot be.

    Loading the extensions costs about half a second, so without `config` each process keeps one
    in-memory DuckDB per lake (keyed by pid too: a forked worker never reuses its parent's) and hands out
    a cursor of it: its own transactions, the extensions and the attachment shared.
    """
    if config:
        return _open(lake, read_only, config)
    key = (os.getpid(), lake, read_only)
    if key not in _shared:
        _shared[key] = _open(lake, read_only, None)
    cursor = _shared[key].cursor()
    cursor.execute(f"USE {ALIAS}")
    return cursor


def _open(lake: Lake, read_only: bool, config: dict | None) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the extensions loaded and the lake attached.

    Several processes attaching a brand-new catalog at once race to create its tables: the losers retry.
    """
    settings = {"autoinstall_known_extensions": False, "autoload_known_extensions": False, **(config or {})}
    sandbox = settings.pop("enable_external_access", True) is False
    conn = duckdb.connect(":memory:", config=settings)
    try:
        load_extensions(conn)
        _attach(conn, lake, read_only)
        conn.execute(f"USE {ALIAS}")
        if sandbox:
            _sandbox(conn, lake)
        return conn
    except BaseException:
        conn.close()
        raise


def _attach(conn: duckdb.DuckDBPyConnection, lake: Lake, read_only: bool) -> None:
    for attempt in range(1, ATTACH_ATTEMPTS + 1):
        try:
            conn.execute(_attach_sql(lake, read_only))
            return
        except duckdb.Error as exc:
            message = " ".join(str(exc).split())
            if "already exists" in message and attempt < ATTACH_ATTEMPTS:
                time.sleep(0.2 * attempt)  # another process is creating the catalog right now
                continue
            raise LakeUnavailable(
                f"cannot open the DuckLake {lake.describe()} named by {WAREHOUSE_ENV}"
                f"{' (data path ' + lake.data_path + ')' if lake.data_path else ''}: {_first_sentence(message)}"
            ) from None


def _sandbox(conn: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """No file or network access beyond the lake itself (the SQL console's rule on a DuckDB file too)."""
    data = conn.execute("SELECT value FROM lake.options() WHERE option_name = 'data_path'").fetchone()
    if data and data[0] and "://" not in data[0]:
        conn.execute(f"SET allowed_directories = ['{_quote(data[0])}']")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")


def _first_sentence(message: str) -> str:
    return redact(message)[:300]


# --- write locks --------------------------------------------------------------------------------------


def lock_key(table: str) -> int:
    """A stable signed 32-bit key per table name."""
    value = zlib.crc32(f"podigest:{table}".encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class TableLocks:
    """PostgreSQL advisory locks on the lake's catalog, one per table, held from before a write
    transaction begins until after it commits (so its first read already sees every earlier writer's rows).

    Locks are transaction-scoped in a session of their own: a process that dies releases them with its
    connection. Nested holds share the outer one; tables are locked in sorted order (no deadlock).
    """

    def __init__(self, lake: Lake, timeout_s: float = LOCK_TIMEOUT_S) -> None:
        self.lake = lake
        self.timeout_s = timeout_s
        self._conn: Any = None
        self._held: set[str] = set()
        self._depth = 0

    def _session(self) -> Any:
        if self._conn is None:
            import psycopg2

            try:
                self._conn = psycopg2.connect(self.lake.dsn, connect_timeout=CONNECT_TIMEOUT_S)
            except psycopg2.Error as exc:
                raise LakeUnavailable(
                    f"cannot reach the DuckLake catalog {self.lake.describe()} named by {WAREHOUSE_ENV}: "
                    f"{_first_sentence(' '.join(str(exc).split()))}"
                ) from None
            with self._conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = '{int(self.timeout_s * 1000)}ms'")
            self._conn.commit()
        return self._conn

    @contextmanager
    def hold(self, tables: tuple[str, ...] | list[str]):
        wanted = sorted(set(tables) - self._held)
        conn = self._session() if wanted or self._depth == 0 else self._conn
        self._depth += 1
        try:
            if wanted:
                self._lock(conn, wanted)
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and conn is not None:
                self._held.clear()
                try:
                    conn.rollback()  # ends the lock transaction: releases every lock
                except Exception:  # noqa: BLE001 - a dead session has released its locks already
                    self.close()

    def _lock(self, conn: Any, tables: list[str]) -> None:
        import psycopg2

        try:
            with conn.cursor() as cur:
                for table in tables:
                    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, lock_key(table)])
        except psycopg2.errors.LockNotAvailable:
            raise TimeoutError(
                f"another writer held the DuckLake write lock ({', '.join(tables)}) for over {self.timeout_s:.0f} s"
            ) from None
        except psycopg2.Error as exc:
            raise LakeUnavailable(
                f"lost the DuckLake catalog {self.lake.describe()} named by {WAREHOUSE_ENV}: "
                f"{_first_sentence(' '.join(str(exc).split()))}"
            ) from None
        self._held.update(tables)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


# --- schema ------------------------------------------------------------------------------------------------

_TABLE_KEY = re.compile(r",(\s*(?:--[^\n]*)?\s*)\n\s*(?:PRIMARY KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(?:PRIMARY KEY|UNIQUE)\b", re.IGNORECASE)
_FIXED_ARRAY = re.compile(r"\b(FLOAT|DOUBLE|INTEGER|BIGINT|VARCHAR)\[\d+\]", re.IGNORECASE)


def lake_schema_sql(sql: str) -> str:
    """A migration written for the DuckDB file, as DuckLake takes it: no PRIMARY KEY or UNIQUE constraints
    (the stores never rely on them: they write delete-then-insert or MERGE), and lists instead of fixed-size
    arrays (FLOAT[384] -> FLOAT[]; readers cast back where an array function needs one)."""
    sql = _TABLE_KEY.sub(r"\1", sql)
    sql = _COLUMN_KEY.sub("", sql)
    return _FIXED_ARRAY.sub(r"\1[]", sql)
