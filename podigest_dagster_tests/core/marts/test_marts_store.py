"""The fingerprint of what dbt reads: any row, column or type change moves it, bookkeeping columns do
not; a partition's last build is stored with its results and forgotten before a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podigest_dagster.core.marts import store
from podigest_dagster.warehouse.db import read_connection, write_connection

SOURCES = [("main", "feeds"), ("main", "episodes")]


@pytest.fixture
def warehouse(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    with write_connection(db_path) as conn:
        conn.execute("INSERT INTO feeds (feed_url, name, last_polled_at) VALUES ('https://a.example/f', 'A', now())")
        conn.execute(
            "INSERT INTO episodes (episode_id, feed_url, title, partition_date, date_status, first_seen_at, updated_at) "
            "VALUES ('e1', 'https://a.example/f', 'One', DATE '2024-05-01', 'ok', now(), now())"
        )
    return db_path


def fingerprint(db_path, extra=()):
    with read_connection(db_path) as conn:
        return store.fingerprint(conn, SOURCES, extra)


def test_a_changed_row_moves_the_fingerprint_and_bookkeeping_does_not(warehouse):
    first = fingerprint(warehouse)
    assert fingerprint(warehouse) == first
    with write_connection(warehouse) as conn:
        conn.execute("UPDATE feeds SET last_polled_at = now() + INTERVAL 1 HOUR")
        conn.execute("UPDATE episodes SET updated_at = now() + INTERVAL 1 HOUR")
    assert fingerprint(warehouse) == first
    with write_connection(warehouse) as conn:
        conn.execute("UPDATE episodes SET title = 'One, revised'")
    changed = fingerprint(warehouse)
    assert changed != first
    with write_connection(warehouse) as conn:
        conn.execute(
            "INSERT INTO episodes (episode_id, feed_url, title, partition_date, date_status, first_seen_at, updated_at) "
            "VALUES ('e2', 'https://a.example/f', 'Two', DATE '2024-05-02', 'ok', now(), now())"
        )
    assert fingerprint(warehouse) not in {first, changed}
    assert fingerprint(warehouse, ["vars {}"]) != fingerprint(warehouse, ["vars {'x': 1}"])


def test_the_same_rows_in_another_order_give_the_same_fingerprint(tmp_path):
    prints = []
    for order in (["a", "b", "c"], ["c", "a", "b"]):
        db_path = tmp_path / f"{''.join(order)}.duckdb"
        with write_connection(db_path) as conn:
            for url in order:
                conn.execute(
                    "INSERT INTO feeds (feed_url, added_at) VALUES (?, TIMESTAMPTZ '2024-05-01 06:00:00+00')",
                    [f"https://{url}.example/f"],
                )
        prints.append(fingerprint(db_path))
    assert prints[0] == prints[1]


def test_a_missing_table_or_relation_is_named(warehouse):
    with read_connection(warehouse) as conn:
        assert store.table_digest(conn, "main", "no_such_table") == "main.no_such_table: missing"
        assert store.missing_relations(conn, [("main", "feeds"), ("marts", "dim_podcasts")]) == ["marts.dim_podcasts"]


def test_a_build_is_stored_with_its_results_and_forgotten_before_a_rebuild(warehouse):
    results = [{"kind": "asset", "asset_key": ["marts", "dim_podcasts"], "metadata": {"rows": 3}}]
    built = datetime(2024, 5, 3, 7, 0, tzinfo=UTC)
    with write_connection(warehouse) as conn:
        assert store.last_build(conn, "2024-05-01") is None
        store.save_build(conn, "2024-05-01", "abc", results, built)
        store.save_build(conn, "2024-05-01", "def", results, built)
        last = store.last_build(conn, "2024-05-01")
        assert (last.fingerprint, last.results, last.built_at) == ("def", results, built)
        store.forget_build(conn, "2024-05-01")
        assert store.last_build(conn, "2024-05-01") is None
