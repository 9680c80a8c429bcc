"""Warehouse reads and writes of the marts stage: a fingerprint of what dbt reads, and each partition's
last build (that fingerprint and the results dbt reported), so a re-run whose inputs did not change
reports the same results again instead of rebuilding.

The fingerprint covers every row of every source table (a count and two order-free sums of row
hashes), the tables' columns and types, and whatever else the caller adds (the dbt project files,
versions, the partition window, the selection). Columns that only record when a step last ran, and
that no dbt table model or test reads, are left out (BOOKKEEPING_COLUMNS): otherwise every re-run
would look like new data. `feeds.last_polled_at` is the one that a mart shows (dim_podcasts); it is
left out on purpose, so that mart keeps the poll time of its last build (staging.stg_feeds is a view
and always current).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from podigest_dagster.warehouse.db import transaction

BOOKKEEPING_COLUMNS: Mapping[str, frozenset[str]] = {
    "feeds": frozenset({"last_polled_at"}),
    "episodes": frozenset({"updated_at"}),
    "digests": frozenset({"created_at"}),
    "deliveries": frozenset({"updated_at", "attempts"}),
}

COLUMNS_SQL = """
SELECT column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = ? AND table_name = ?
ORDER BY column_index
"""
RELATIONS_SQL = """
SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL
SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
"""
LAST_BUILD_SQL = "SELECT fingerprint, results, built_at FROM dbt_builds WHERE partition_date = ?"
FORGET_BUILD_SQL = "DELETE FROM dbt_builds WHERE partition_date = ?"
SAVE_BUILD_SQL = "INSERT INTO dbt_builds (partition_date, fingerprint, results, built_at) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class Build:
    """A partition's last complete dbt build: what it read and the results it reported."""

    fingerprint: str
    results: list[dict[str, Any]]
    built_at: datetime


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_digest(conn: duckdb.DuckDBPyConnection, schema: str, table: str, skip: Iterable[str] = ()) -> str:
    """One line that changes whenever a row, a column or a type of the table changes (not the skipped
    columns): its columns, row count, and the sum and xor of its rows' hashes."""
    skipped = set(skip)
    columns = [(n, t) for n, t in conn.execute(COLUMNS_SQL, [schema, table]).fetchall() if n not in skipped]
    if not columns:
        return f"{schema}.{table}: missing"
    hashed = ", ".join(_quote(name) for name, _ in columns)
    query = (
        f"SELECT count(*), coalesce(sum(hash({hashed})::HUGEINT), 0), coalesce(bit_xor(hash({hashed})), 0) "  # noqa: S608 - names from the catalog, quoted
        f"FROM {_quote(schema)}.{_quote(table)}"
    )
    count, total, xor = conn.execute(query).fetchone()
    described = ",".join(f"{name} {kind}" for name, kind in columns)
    return f"{schema}.{table}({described}): {count} {total} {xor}"


def fingerprint(
    conn: duckdb.DuckDBPyConnection,
    tables: Iterable[tuple[str, str]],
    extra: Iterable[str] = (),
    skip: Mapping[str, frozenset[str]] = BOOKKEEPING_COLUMNS,
) -> str:
    """A digest of every (schema, table) given, in any order, and of the `extra` lines."""
    lines = [table_digest(conn, schema, table, skip.get(table, ())) for schema, table in sorted(set(tables))]
    lines += list(extra)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def missing_relations(conn: duckdb.DuckDBPyConnection, relations: Iterable[tuple[str, str]]) -> list[str]:
    """The `schema.name` of every relation given that is neither a table nor a view of the warehouse."""
    present = {(schema, name) for schema, name in conn.execute(RELATIONS_SQL).fetchall()}
    return sorted(f"{schema}.{name}" for schema, name in set(relations) if (schema, name) not in present)


def last_build(conn: duckdb.DuckDBPyConnection, partition_date: date | str) -> Build | None:
    """The partition's last complete build, if one is recorded."""
    row = conn.execute(LAST_BUILD_SQL, [partition_date]).fetchone()
    if row is None:
        return None
    results = json.loads(row[1]) if isinstance(row[1], str) else row[1]
    return Build(fingerprint=row[0], results=list(results or []), built_at=row[2])


def forget_build(conn: duckdb.DuckDBPyConnection, partition_date: date | str) -> None:
    """Drop the partition's record before it is rebuilt: a build that fails halfway is never reused."""
    conn.execute(FORGET_BUILD_SQL, [partition_date])


def save_build(
    conn: duckdb.DuckDBPyConnection,
    partition_date: date | str,
    digest: str,
    results: list[dict[str, Any]],
    built_at: datetime,
) -> None:
    """Record a complete build of the partition: the fingerprint it was started with and its results
    (delete then insert in one transaction: no ON CONFLICT, which a DuckLake warehouse has no key for)."""
    with transaction(conn):
        conn.execute(FORGET_BUILD_SQL, [partition_date])
        conn.execute(SAVE_BUILD_SQL, [partition_date, digest, json.dumps(results), built_at])
