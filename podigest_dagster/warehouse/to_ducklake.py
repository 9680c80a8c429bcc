"""`podigest warehouse migrate-to-ducklake`: copy an existing DuckDB-file warehouse into a new DuckLake.

The source file is migrated to the current schema first, then every table podigest writes is copied by
column name in one transaction (all or nothing), and the row counts are compared. The dbt marts and
staging views are not copied: the next run's dbt build makes them on the lake.
"""

from __future__ import annotations

from pathlib import Path

from podigest_dagster.warehouse import db, ducklake

SKIPPED = {"schema_migrations"}
# Table names below come from the source's own catalogue (duckdb_tables()), never from user input.


class MigrationRefused(RuntimeError):
    """The copy cannot start or did not match; one line saying why."""


def source_tables(source: Path) -> list[str]:
    with db.read_connection(source) as conn:
        rows = conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' ORDER BY table_name"
        ).fetchall()
    return [name for (name,) in rows if name not in SKIPPED]


def migrate_to_ducklake(source: Path, lake: ducklake.Lake) -> dict[str, int]:
    """Copy the file's tables into the (empty) lake; rows copied per table."""
    if not source.is_file():
        raise MigrationRefused(f"no DuckDB warehouse at {source}")
    with db.write_connection(source):
        pass  # the file at the current schema version, like the lake
    tables = source_tables(source)
    copied: dict[str, int] = {}
    with db.write_connection(lake.target) as conn:
        present = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'"
            ).fetchall()
        }
        missing = [t for t in tables if t not in present]
        if missing:
            raise MigrationRefused(
                f"the lake has no table {', '.join(missing)}: is {source} from a newer podigest?"
            )
        busy = [t for t in tables if conn.execute(f"SELECT count(*) FROM lake.main.{t}").fetchone()[0]]  # noqa: S608
        if busy:
            raise MigrationRefused(
                f"the DuckLake {lake.describe()} already has rows in {', '.join(busy)}: copy into an empty one"
            )
        conn.execute(f"ATTACH '{str(source).replace(chr(39), chr(39) * 2)}' AS podigest_source (READ_ONLY)")
        try:
            with db.transaction(conn):
                for table in tables:
                    copy = f"INSERT INTO lake.main.{table} BY NAME SELECT * FROM podigest_source.main.{table}"  # noqa: S608
                    conn.execute(copy)
            for table in tables:
                want = conn.execute(f"SELECT count(*) FROM podigest_source.main.{table}").fetchone()[0]  # noqa: S608
                got = conn.execute(f"SELECT count(*) FROM lake.main.{table}").fetchone()[0]  # noqa: S608
                if want != got:
                    raise MigrationRefused(f"{table}: {got} rows in the lake, {want} in {source}")
                copied[table] = got
        finally:
            conn.execute("DETACH podigest_source")
    return copied
