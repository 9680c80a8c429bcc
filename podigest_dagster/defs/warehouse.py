"""The one door to the warehouse: dagster-duckdb's DuckDBResource with writers serialised."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource

from podigest_dagster.warehouse import db


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse. `get_connection()` writes (one writer at a time, schema migrated);
    `read_connection()` reads and never blocks on a run for longer than one short write."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.write_connection(self.database, config=self.connection_config) as conn:
            yield conn

    @contextmanager
    def read_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with db.read_connection(self.database) as conn:
            yield conn
