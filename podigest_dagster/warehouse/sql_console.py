"""Analyst queries on the warehouse: read-only, printed as an aligned table, CSV or JSON.

The marts and staging models are found without their schema prefix (`SELECT * FROM dim_podcasts`), and
at most `max_rows` rows are fetched, so a careless `SELECT *` on a big table prints a page, not hours.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from podigest_dagster.warehouse.db import read_connection

FORMATS = ("table", "csv", "json")
MAX_CELL_WIDTH = 60
NULL_TEXT = "NULL"
SANDBOX = {"enable_external_access": False}
SEARCH_SCHEMAS = ("main", "marts", "staging")
DEFAULT_MAX_ROWS = 1000


class QueryError(Exception):
    """A query the warehouse refused, with a one-line reason fit for a terminal."""


class NoWarehouseError(QueryError):
    """There is no warehouse file yet: nothing to query."""


@dataclass(frozen=True)
class QueryOutput:
    """A formatted result, how many rows it shows, and whether more rows were left out."""

    text: str
    rows: int
    truncated: bool


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _reason(exc: duckdb.Error) -> str:
    message = _one_line(exc)
    if "read-only" in message.lower():
        return f"the warehouse is opened read-only, so only queries that read are allowed ({message})"
    if "disabled by configuration" in message:
        return f"the SQL console reads only the warehouse, never other files or extensions ({message})"
    return message


def _search_existing_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    """Let unqualified names find the raw tables, then the marts, then the staging views (only the
    schemas that exist: before the first dbt build there are no marts)."""
    present = {
        row[0]
        for row in conn.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
        ).fetchall()
    }
    path = ",".join(name for name in SEARCH_SCHEMAS if name in present)
    if path:
        conn.execute(f"SET search_path = '{path}'")


def fetch(
    db_path: str | Path, sql: str, max_rows: int | None = None
) -> tuple[list[str], list[tuple], bool]:
    """Run one query on a read-only connection with no file or network access (DuckDB lets a read-only
    connection COPY TO or read any file otherwise): column names, at most `max_rows` rows (None or 0: all)
    and whether more were left out; or QueryError."""
    try:
        with read_connection(db_path, config=SANDBOX) as conn:
            _search_existing_schemas(conn)
            cursor = conn.execute(sql)
            if cursor.description is None:
                return [], [], False
            columns = [column[0] for column in cursor.description]
            if not max_rows:
                return columns, cursor.fetchall(), False
            rows = cursor.fetchmany(max_rows + 1)
            return columns, rows[:max_rows], len(rows) > max_rows
    except FileNotFoundError as exc:
        raise NoWarehouseError(_one_line(exc)) from exc
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {_reason(exc)}") from exc


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return value


def _text(value: Any) -> str:
    if value is None:
        return NULL_TEXT
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    text = " ".join(_text(value).split())
    return text if len(text) <= MAX_CELL_WIDTH else text[: MAX_CELL_WIDTH - 1] + "…"


def format_table(columns: Sequence[str], rows: Sequence[tuple], truncated: bool = False) -> str:
    """Columns padded to their widest cell (long cells cut), with a row count footer (which says so
    when more rows were left out)."""
    if not columns:
        return "OK"
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(columns)]
    lines = [
        " | ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)),
        "-+-".join("-" * width for width in widths),
    ]
    lines += [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    count = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
    lines.append(f"(first {count}; more not shown)" if truncated else f"({count})")
    return "\n".join(line.rstrip() for line in lines)


def format_csv(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if value is None else _text(value) for value in row] for row in rows])
    return out.getvalue()


def format_json(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    """A JSON list with one object per row, keyed by column name."""
    records = [{name: _json_value(value) for name, value in zip(columns, row, strict=True)} for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=2)


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}


def execute(db_path: str | Path, sql: str, fmt: str = "table", max_rows: int | None = None) -> QueryOutput:
    """Run an analyst's query read-only (works while a run writes), keep at most `max_rows` rows (None or
    0: all) and format them."""
    if fmt not in FORMATTERS:
        raise QueryError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if not sql.strip():
        raise QueryError("empty query")
    if max_rows is not None and max_rows < 0:
        raise QueryError(f"max rows must be 0 (all) or more, got {max_rows}")
    columns, rows, truncated = fetch(db_path, sql, max_rows)
    text = format_table(columns, rows, truncated) if fmt == "table" else FORMATTERS[fmt](columns, rows)
    return QueryOutput(text, len(rows), truncated)


def run_query(db_path: str | Path, sql: str, fmt: str = "table", max_rows: int | None = None) -> str:
    """The formatted result of `execute`."""
    return execute(db_path, sql, fmt, max_rows).text
