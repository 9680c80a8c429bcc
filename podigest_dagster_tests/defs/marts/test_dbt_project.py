"""The dbt project builds and tests green on a filled warehouse, and runs as partitioned Dagster assets."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from podigest_dagster.defs.marts import assets as dbt_assets_module
from podigest_dagster.defs.marts.assets import (
    WAREHOUSE_ENV,
    dbt_project,
    dbt_resource,
    manifest_is_stale,
    partition_vars,
    podigest_dbt_assets,
    prepare_dbt_manifest,
)
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import write_connection
from podigest_dagster.warehouse.sql_console import run_query

FEED_A = "https://alpha.example/feed.xml"
FEED_B = "https://beta.example/rss"
DAY_1 = "2024-05-01"
DAY_2 = "2024-05-02"
DOCS = Path(__file__).resolve().parents[3] / "README.md"

MART_NAMES = ["fct_daily_digest", "dim_podcasts", "fct_podcast_daily", "fct_insight_trends"]


def _embedding(angle: float) -> list[float]:
    """A unit FLOAT[384] vector in the plane of the first two axes; close angles mean similar ideas."""
    return [math.cos(angle), math.sin(angle)] + [0.0] * 382


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EPISODES = [
    # episode_id, feed, podcast, title, published, partition_date, date_status, duration_s
    ("ep-a1", FEED_A, "Alpha Talks", "Sleep and memory", "2024-05-01T08:00:00", DAY_1, "ok", 1800.0),
    ("ep-b1", FEED_B, None, "Learning fast", "2024-05-01T15:00:00", DAY_1, "ok", 2400.0),
    ("ep-a2", FEED_A, "Alpha Talks", "Rest revisited", "2024-05-02T09:00:00", DAY_2, "ok", 1200.0),
    ("ep-b0", FEED_B, None, "Trailer", None, None, "missing", 60.0),
]
CANDIDATES = [
    # candidate_id, day, episode, text, score
    ("c-a1-1", DAY_1, "ep-a1", "Sleep consolidates what you learned during the day.", 0.9),
    ("c-a1-2", DAY_1, "ep-a1", "Spaced repetition beats cramming for long-term recall.", 0.7),
    ("c-b1-1", DAY_1, "ep-b1", "A night of sleep locks in the day's learning.", 0.8),
    ("c-b1-2", DAY_1, "ep-b1", "Teaching a topic is the fastest way to find gaps.", 0.6),
    ("c-a2-1", DAY_2, "ep-a2", "Sleeping after study consolidates memory.", 0.85),
]
CLUSTERS = [
    # day, cluster_id, candidate, is_representative, support
    (DAY_1, 0, "c-a1-1", True, 2),
    (DAY_1, 0, "c-b1-1", False, 2),
    (DAY_1, 1, "c-a1-2", True, 1),
    (DAY_1, 2, "c-b1-2", True, 1),
    (DAY_2, 0, "c-a2-1", True, 1),
]
TOP = [
    # day, rank, cluster, candidate, support, score, source episodes, embedding angle
    (DAY_1, 1, 0, "c-a1-1", 2, 0.95, ["ep-a1", "ep-b1"], 0.0),
    (DAY_1, 2, 1, "c-a1-2", 1, 0.70, ["ep-a1"], 1.2),
    (DAY_1, 3, 2, "c-b1-2", 1, 0.60, ["ep-b1"], 2.4),
    (DAY_2, 1, 0, "c-a2-1", 1, 0.85, ["ep-a2"], 0.1),
]


def fill_warehouse(db_path: Path) -> None:
    """A small consistent chain: 2 feeds, 3 dated episodes on 2 days (+1 undated), digests and deliveries."""
    episodes = {row[0]: row for row in EPISODES}
    candidates = {row[0]: row for row in CANDIDATES}
    with write_connection(db_path) as conn:
        conn.executemany(
            "INSERT INTO feeds (feed_url, name, title, last_status, last_http_status, last_polled_at) "
            "VALUES (?, ?, ?, 'ok', 200, ?)",
            [(FEED_A, "Alpha Talks", "Alpha Talks Podcast", _ts("2024-05-03T06:00:00")),
             (FEED_B, None, "Beta Show", _ts("2024-05-03T06:00:00"))],
        )
        for ep_id, feed, podcast, title, published, day, status, duration in EPISODES:
            conn.execute(
                "INSERT INTO episodes (episode_id, feed_url, podcast, guid, title, published_at, partition_date, "
                "date_status, enclosure_url, duration_s, link, first_seen_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ep_id, feed, podcast, ep_id, title, _ts(published) if published else None, day, status,
                 f"{feed}/{ep_id}.mp3", duration, f"{feed}/{ep_id}", _ts("2024-05-03T06:00:00"),
                 _ts("2024-05-03T06:00:00")],
            )
            if day is None:
                continue
            conn.execute(
                "INSERT INTO episode_audio (episode_id, partition_date, source_url, status, sha256, bytes, attempts) "
                "VALUES (?, ?, ?, 'ok', ?, 1000, 1)",
                [ep_id, day, f"{feed}/{ep_id}.mp3", f"sha-{ep_id}"],
            )
            conn.execute(
                "INSERT INTO transcripts (episode_id, partition_date, status, source, language, audio_duration_s, "
                "transcribe_s, segment_count) VALUES (?, ?, 'ok', 'whisper:base', 'en', ?, 30.0, 3)",
                [ep_id, day, duration],
            )
            conn.executemany(
                "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source) "
                "VALUES (?, ?, ?, ?, ?, 'whisper:base')",
                [(ep_id, seq, seq * 10.0, seq * 10.0 + 9.5, f"segment {seq} of {title}") for seq in range(3)],
            )
        for cand_id, day, ep_id, text, score in CANDIDATES:
            conn.execute(
                "INSERT INTO insight_candidates (candidate_id, partition_date, episode_id, seq_start, seq_end, "
                "start_s, end_s, raw_text, text, score) VALUES (?, ?, ?, 0, 1, 0.0, 19.5, ?, ?, ?)",
                [cand_id, day, ep_id, text.lower(), text, score],
            )
        conn.executemany(
            "INSERT INTO insight_clusters (partition_date, cluster_id, candidate_id, is_representative, support) "
            "VALUES (?, ?, ?, ?, ?)",
            CLUSTERS,
        )
        for day, rank, cluster, cand_id, support, score, source_eps, angle in TOP:
            text = candidates[cand_id][3]
            top_sources = [
                {"podcast": episodes[e][2] or "Beta Show", "episode": episodes[e][3], "episode_id": e,
                 "url": f"{episodes[e][1]}/{e}", "start_s": 0.0, "end_s": 19.5}
                for e in source_eps
            ]
            conn.execute(
                "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
                "support, score, sources, rewrite_status, embedding) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'extractive', CAST(? AS FLOAT[384]))",
                [day, rank, cluster, cand_id, text, text, support, score, json.dumps(top_sources), _embedding(angle)],
            )
            digest_sources = [{k: s[k] for k in ("podcast", "episode", "url", "start_s")} for s in top_sources]
            conn.execute(
                "INSERT INTO digest_items (partition_date, rank, insight, support, sources) VALUES (?, ?, ?, ?, ?)",
                [day, rank, text, support, json.dumps(digest_sources)],
            )
        for day in (DAY_1, DAY_2):
            conn.execute(
                "INSERT INTO digests VALUES (?, 3, '# digest', '<h1>digest</h1>', 'digest', '{}', ?)",
                [day, _ts("2024-05-03T07:00:00")],
            )
        conn.executemany(
            "INSERT INTO deliveries (partition_date, channel, recipient, status, attempts, updated_at) "
            "VALUES (?, 'email', 'reader@example.com', ?, 1, ?)",
            [(DAY_1, "sent", _ts("2024-05-02T07:00:00")), (DAY_2, "failed", _ts("2024-05-03T07:00:00"))],
        )


def _rows(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory) -> Path:
    """A filled warehouse on which a full-history `dbt build` (models and tests) has passed."""
    db_path = tmp_path_factory.mktemp("dbt") / "warehouse.duckdb"
    fill_warehouse(db_path)
    prepare_dbt_manifest()
    with dbt_assets_module._environ(WAREHOUSE_ENV, str(db_path)):
        invocation = dbt_resource().cli(["build"], raise_on_error=False)
        invocation.wait()
    results = json.loads(invocation.target_path.joinpath("run_results.json").read_text())["results"]
    failures = [(r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] not in {"success", "pass"}]
    assert invocation.is_successful(), failures
    assert not failures
    return db_path


def test_dbt_build_passes_every_test_on_a_filled_warehouse(built_warehouse):
    counts = dict(_rows(built_warehouse, "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'marts'"))
    assert set(MART_NAMES) <= set(counts)
    assert _rows(built_warehouse, "SELECT count(*) FROM marts.fct_daily_digest") == [(5,)]


def test_daily_digest_unnests_each_items_sources_with_their_episode(built_warehouse):
    rows = _rows(
        built_warehouse,
        "SELECT rank, source_index, podcast, episode_id, feed_url, delivered_recipients "
        "FROM marts.fct_daily_digest WHERE partition_date = ? ORDER BY rank, source_index",
        [DAY_1],
    )
    assert rows == [
        (1, 0, "Alpha Talks", "ep-a1", FEED_A, 1),
        (1, 1, "Beta Show", "ep-b1", FEED_B, 1),
        (2, 0, "Alpha Talks", "ep-a1", FEED_A, 1),
        (3, 0, "Beta Show", "ep-b1", FEED_B, 1),
    ]


def test_dim_podcasts_sums_episodes_audio_hours_and_insights(built_warehouse):
    rows = _rows(
        built_warehouse,
        "SELECT podcast, episodes, transcribed_episodes, round(audio_hours_transcribed, 4), insight_candidates, "
        "insights_in_digest, strftime(last_published_at AT TIME ZONE 'UTC', '%Y-%m-%d') "
        "FROM marts.dim_podcasts ORDER BY podcast",
    )
    assert rows == [
        ("Alpha Talks", 2, 2, round(3000 / 3600, 4), 3, 3, DAY_2),
        ("Beta Show", 2, 1, round(2400 / 3600, 4), 2, 2, DAY_1),
    ]


def test_podcast_daily_counts_episodes_minutes_candidates_and_digest_items(built_warehouse):
    rows = _rows(
        built_warehouse,
        "SELECT feed_url, strftime(partition_date, '%Y-%m-%d'), episodes, transcribed_minutes, insight_candidates, "
        "insights_in_digest FROM marts.fct_podcast_daily ORDER BY partition_date, feed_url",
    )
    assert rows == [
        (FEED_A, DAY_1, 1, 30.0, 2, 2),
        (FEED_B, DAY_1, 1, 40.0, 2, 2),
        (FEED_A, DAY_2, 1, 20.0, 1, 1),
    ]


def test_insight_trends_link_a_paraphrase_on_a_later_day_to_its_first_appearance(built_warehouse):
    rows = _rows(
        built_warehouse,
        "SELECT strftime(partition_date, '%Y-%m-%d'), rank, is_recurring, days_seen, cumulative_support, "
        "strftime(first_seen_date, '%Y-%m-%d'), cluster_candidates, cluster_podcasts "
        "FROM marts.fct_insight_trends ORDER BY partition_date, rank",
    )
    assert rows == [
        (DAY_1, 1, False, 1, 2, DAY_1, 2, 2),
        (DAY_1, 2, False, 1, 1, DAY_1, 1, 1),
        (DAY_1, 3, False, 1, 1, DAY_1, 1, 1),
        (DAY_2, 1, True, 2, 3, DAY_1, 1, 1),
    ]


def test_every_model_and_column_is_documented(built_warehouse):
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert {m["name"] for m in models} >= set(MART_NAMES)
    for model in models:
        assert model["description"].strip(), model["name"]
        documented = {name for name, column in model["columns"].items() if column["description"].strip()}
        actual = {
            row[0]
            for row in _rows(
                built_warehouse,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                [model["schema"], model["name"]],
            )
        }
        assert actual and actual == documented, (model["name"], actual ^ documented)


def test_every_analyst_query_in_the_docs_runs_on_the_marts(built_warehouse):
    queries = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(queries) >= 5
    for sql in queries:
        output = run_query(built_warehouse, sql, fmt="json")
        assert json.loads(output), sql


def test_sources_map_to_the_python_assets_and_models_group_as_marts():
    specs = {spec.key: spec for spec in podigest_dbt_assets.specs}
    deps = {dep.asset_key for spec in specs.values() for dep in spec.deps}
    python_keys = {
        dg.AssetKey(name)
        for name in ["episodes", "episode_audio", "transcripts", "insight_candidates", "insight_clusters",
                     "top_insights", "daily_digest", "digest_delivery"]
    }
    assert python_keys <= deps
    assert {spec.group_name for spec in specs.values()} == {"marts"}
    mart_keys = {dg.AssetKey(["marts", name]) for name in MART_NAMES}
    assert mart_keys <= set(specs)
    checked = {check.asset_key for check in podigest_dbt_assets.check_specs}
    assert mart_keys <= checked


def test_partition_window_becomes_dbt_vars():
    window = dg.TimeWindow(_ts("2024-05-01T00:00:00"), _ts("2024-05-04T00:00:00"))
    assert partition_vars(window) == {"min_date": "2024-05-01", "max_date": "2024-05-04"}


def test_preparing_a_fresh_manifest_does_not_parse_again():
    manifest = prepare_dbt_manifest()
    assert not manifest_is_stale(manifest)
    built = manifest.stat().st_mtime_ns
    assert prepare_dbt_manifest() == manifest == dbt_project.manifest_path
    assert manifest.stat().st_mtime_ns == built


def test_materialising_a_partition_replaces_its_rows_and_passes_the_asset_checks(built_warehouse):
    before = _rows(built_warehouse, "SELECT * FROM marts.fct_podcast_daily ORDER BY podcast_day_id")
    with write_connection(built_warehouse) as conn:
        conn.execute("DELETE FROM digest_items WHERE partition_date = ? AND rank = 3", [DAY_1])

    result = dg.materialize(
        [podigest_dbt_assets],
        resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(database=str(built_warehouse))},
        partition_key=DAY_1,
    )

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["marts", name]) for name in MART_NAMES} <= materialized
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    assert {check.asset_key for check in checks} >= {dg.AssetKey(["marts", name]) for name in MART_NAMES}
    per_day = "SELECT count(*) FROM marts.fct_daily_digest WHERE partition_date = ?"
    assert _rows(built_warehouse, per_day, [DAY_1]) == [(3,)]
    assert _rows(built_warehouse, per_day, [DAY_2]) == [(1,)]
    after = _rows(built_warehouse, "SELECT * FROM marts.fct_podcast_daily ORDER BY podcast_day_id")
    assert len(after) == len(before) == 3
    beta_day_1 = [row for row in after if row[1] == FEED_B and str(row[3]) == DAY_1]
    assert beta_day_1[0][-1] == 1
