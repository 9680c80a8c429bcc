"""Analyst queries run read-only on the warehouse and print as table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from podigest_dagster.warehouse.db import write_connection, writer_lock
from podigest_dagster.warehouse.sql_console import DEFAULT_MAX_ROWS, QueryError, execute, run_query

QUERY = "SELECT feed_url, name, last_http_status, last_polled_at FROM feeds ORDER BY feed_url"


@pytest.fixture
def warehouse(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    polled = datetime(2024, 5, 3, 6, 0, tzinfo=UTC)
    with write_connection(db_path) as conn:
        conn.executemany(
            "INSERT INTO feeds (feed_url, name, last_http_status, last_polled_at) VALUES (?, ?, ?, ?)",
            [("https://a.example/feed", "Alpha, \"the\" show", 200, polled),
             ("https://b.example/feed", None, None, polled)],
        )
    return db_path


def test_table_output_aligns_columns_and_counts_rows(warehouse):
    lines = run_query(warehouse, QUERY).splitlines()
    assert lines[0].split(" | ")[0].strip() == "feed_url"
    assert [part.strip() for part in lines[0].split(" | ")] == ["feed_url", "name", "last_http_status", "last_polled_at"]
    assert set(lines[1]) <= {"-", "+"}
    assert len({lines[0].index(" | "), lines[1].index("-+-"), lines[2].index(" | "), lines[3].index(" | ")}) == 1
    assert "NULL" in lines[3]
    assert lines[-1] == "(2 rows)"


def test_csv_output_quotes_values_and_leaves_nulls_empty(warehouse):
    rows = list(csv.reader(io.StringIO(run_query(warehouse, QUERY, fmt="csv"))))
    assert rows[0] == ["feed_url", "name", "last_http_status", "last_polled_at"]
    assert rows[1][:3] == ["https://a.example/feed", 'Alpha, "the" show', "200"]
    assert rows[2][1:3] == ["", ""]
    assert rows[1][3].startswith("2024-05-03")


def test_json_output_is_a_list_of_objects_with_native_types(warehouse):
    records = json.loads(run_query(warehouse, QUERY, fmt="json"))
    assert records[0]["name"] == 'Alpha, "the" show'
    assert records[0]["last_http_status"] == 200
    assert records[1]["name"] is None
    assert datetime.fromisoformat(records[0]["last_polled_at"]) == datetime(2024, 5, 3, 6, 0, tzinfo=UTC)


def test_a_bad_query_raises_a_one_line_reason(warehouse):
    with pytest.raises(QueryError) as bad_syntax:
        run_query(warehouse, "SELEC 1")
    with pytest.raises(QueryError) as missing_table:
        run_query(warehouse, "SELECT * FROM no_such_table")
    for error in (bad_syntax.value, missing_table.value):
        assert "\n" not in str(error)
        assert str(error).startswith("query failed: ")
    assert "no_such_table" in str(missing_table.value)


def test_a_write_statement_is_refused_and_changes_nothing(warehouse):
    with pytest.raises(QueryError, match="read-only"):
        run_query(warehouse, "DELETE FROM feeds")
    with pytest.raises(QueryError, match="read-only"):
        run_query(warehouse, "CREATE TABLE sneaky AS SELECT 1")
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM feeds", fmt="json")) == [{"n": 2}]


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM feeds) TO '{out}'",
        "COPY feeds TO '{out}' (FORMAT csv)",
        "EXPORT DATABASE '{dir}'",
        "ATTACH '{db}' AS other",
        "SELECT * FROM read_csv('{secret}')",
    ],
)
def test_file_access_is_refused_and_no_file_appears(warehouse, tmp_path, sql):
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n", encoding="utf-8")
    out, folder, other = tmp_path / "x.csv", tmp_path / "export", tmp_path / "other.duckdb"
    query = sql.format(out=out, dir=folder, db=other, secret=secret)
    with pytest.raises(QueryError, match="never other files") as refused:
        run_query(warehouse, query)
    assert "hunter2" not in str(refused.value) and "\n" not in str(refused.value)
    assert not out.exists() and not folder.exists() and not other.exists()
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM feeds", fmt="json")) == [{"n": 2}]


def test_queries_do_not_wait_for_the_writer_lock(warehouse):
    with writer_lock(warehouse):
        assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM feeds", fmt="json")) == [{"n": 2}]


def test_a_missing_warehouse_or_unknown_format_is_a_clear_error(tmp_path, warehouse):
    with pytest.raises(QueryError, match="no warehouse at"):
        run_query(tmp_path / "absent.duckdb", "SELECT 1")
    with pytest.raises(QueryError, match="unknown format 'xml'"):
        run_query(warehouse, "SELECT 1", fmt="xml")


def test_marts_and_staging_are_found_without_their_schema(warehouse):
    with write_connection(warehouse) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute("CREATE TABLE marts.dim_podcasts AS SELECT feed_url, name AS podcast FROM feeds")
        conn.execute("CREATE SCHEMA staging")
        conn.execute("CREATE VIEW staging.stg_feeds AS SELECT feed_url FROM main.feeds")
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM dim_podcasts", fmt="json")) == [{"n": 2}]
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM stg_feeds", fmt="json")) == [{"n": 2}]
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM marts.dim_podcasts", fmt="json")) == [{"n": 2}]
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM feeds", fmt="json")) == [{"n": 2}]


def test_a_warehouse_without_marts_yet_still_answers(warehouse):
    assert json.loads(run_query(warehouse, "SELECT count(*) AS n FROM feeds", fmt="json")) == [{"n": 2}]
    with pytest.raises(QueryError, match="dim_podcasts"):
        run_query(warehouse, "SELECT * FROM dim_podcasts")


def test_at_most_max_rows_are_fetched_and_the_cut_is_said(warehouse):
    cut = execute(warehouse, "SELECT range AS n FROM range(5)", max_rows=3)
    assert (cut.rows, cut.truncated) == (3, True)
    assert cut.text.splitlines()[-1] == "(first 3 rows; more not shown)"
    assert [line.strip() for line in cut.text.splitlines()[2:5]] == ["0", "1", "2"]
    whole = execute(warehouse, "SELECT range AS n FROM range(5)", max_rows=5)
    assert (whole.rows, whole.truncated) == (5, False) and whole.text.splitlines()[-1] == "(5 rows)"
    assert execute(warehouse, "SELECT range AS n FROM range(5)", max_rows=None).rows == 5
    records = json.loads(execute(warehouse, "SELECT range AS n FROM range(5)", fmt="json", max_rows=2).text)
    assert records == [{"n": 0}, {"n": 1}]
    assert execute(warehouse, "SELECT 1 AS x").rows == 1
    assert DEFAULT_MAX_ROWS == 1000
