"""dbt-duckdb plugin for a DuckLake warehouse: LOAD the postgres_scanner and ducklake extensions from their
wheels on every connection dbt opens (dbt-duckdb would INSTALL them from the network otherwise), before the
profile's `attach` of the lake. Named in dbt/profiles.yml, target `lake`."""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from podigest_dagster.warehouse.ducklake import load_extensions


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        load_extensions(conn)
