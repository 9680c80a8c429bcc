"""search_index materialised for real: built once from every stored day, then kept up to date day by day."""

from __future__ import annotations

import dagster as dg
import duckdb
import numpy as np

from podigest_dagster import settings
from podigest_dagster.core.search.query import open_index, search
from podigest_dagster.defs.search.assets import search_index
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import derived_write_connection, read_connection, write_connection
from podigest_dagster_tests.support.archive import add_episode, add_passage


def _materialize(db: str, day: str) -> dict:
    result = dg.materialize(
        [search_index], partition_key=day, resources={"warehouse": WarehouseResource(database=db)}
    )
    assert result.success
    return {
        k: getattr(v, "value", v)
        for k, v in result.asset_materializations_for_node("search_index")[0].metadata.items()
    }


def test_the_index_is_built_once_then_each_new_or_re_run_day_only_replaces_its_own_rows(podigest_home):
    db = str(settings.warehouse_path())
    vector = np.eye(1, 384, 0, dtype=np.float32)[0]
    with write_connection(db) as conn:
        add_episode(conn, "a-1", "2024-03-04", "Show A", ["heat pumps in the cold", "thanks for listening"])
        add_passage(conn, "pa", "a-1", "2024-03-04", 0.0, "heat pumps in the cold", vector)
    first = _materialize(db, "2024-03-04")
    assert first["action"] == "built from every stored day" and first["index_segments"] == 2
    with write_connection(db) as conn:
        add_episode(conn, "b-1", "2024-03-05", "Show B", ["parking is never free", "see you next week"])
    with read_connection(settings.search_index_path()) as conn:
        day_one = _indexed(conn, "2024-03-04")
    second = _materialize(db, "2024-03-05")
    assert second["action"] == "day replaced" and second["segments_added"] == 2
    assert second["segments_removed"] == 0
    with read_connection(settings.search_index_path()) as conn:
        assert _indexed(conn, "2024-03-04") == day_one  # the old day was not indexed again
    again = _materialize(db, "2024-03-05")
    assert (again["segments_removed"], again["segments_added"], again["index_segments"]) == (2, 2, 4)
    with open_index(settings.search_index_path()) as conn:
        assert [h.podcast for h in search(conn, "parking", mode="words")] == ["Show B"]
        assert [h.podcast for h in search(conn, "heat", mode="words")] == ["Show A"]


def _indexed(conn, day: str) -> tuple:
    """When the day was indexed and its segments' BM25 documents (ids, lengths): a re-index changes both."""
    (when,) = conn.execute("SELECT indexed_at FROM indexed_days WHERE partition_date = ?", [day]).fetchone()
    docs = conn.execute(
        "SELECT d.docid, d.name, d.len FROM fts_main_segments.docs d JOIN segments s ON s.doc_id = d.name "
        "WHERE s.partition_date = ? ORDER BY d.docid",
        [day],
    ).fetchall()
    assert docs
    return when, docs


def test_an_index_from_before_speakers_is_built_again_and_then_names_them(podigest_home):
    db = str(settings.warehouse_path())
    with write_connection(db) as conn:
        add_episode(
            conn, "a-1", "2024-03-04", "Show A", ["heat pumps in the cold"], speakers=["Ada Lovelace"]
        )
        add_passage(
            conn,
            "pa",
            "a-1",
            "2024-03-04",
            0.0,
            "heat pumps in the cold",
            np.eye(1, 384, 0, dtype=np.float32)[0],
        )
    assert _materialize(db, "2024-03-04")["action"] == "built from every stored day"
    with derived_write_connection(
        settings.search_index_path()
    ) as index:  # the index as the last layout left it
        index.execute("ALTER TABLE segments DROP COLUMN speaker")
        index.execute("ALTER TABLE passages DROP COLUMN speaker")
        index.execute(
            "UPDATE meta SET value = ? WHERE key = 'layout'", [f"search-1/duckdb-{duckdb.__version__}"]
        )
    with write_connection(db) as conn:
        add_episode(conn, "b-1", "2024-03-05", "Show B", ["parking is never free"], speakers=["Speaker 1"])
    assert _materialize(db, "2024-03-05")["action"] == "built from every stored day"
    with open_index(settings.search_index_path()) as conn:
        assert [(h.podcast, h.speaker) for h in search(conn, "heat", mode="words")] == [
            ("Show A", "Ada Lovelace")
        ]
        assert [(h.podcast, h.speaker) for h in search(conn, "parking", mode="words")] == [("Show B", "")]
