"""The one Definitions object loads cleanly and forms one partitioned lineage graph."""

from __future__ import annotations

import warnings

import dagster as dg

from podigest_dagster.defs.daily import daily_partitions

PYTHON_CHAIN = [
    "episodes",
    "publisher_transcripts",
    "episode_audio",
    "transcripts",
    "insight_candidates",
    "insight_embeddings",
    "insight_clusters",
    "top_insights",
    "daily_digest",
    "digest_delivery",
]


def load():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        from podigest_dagster.definitions import build_definitions

        defs = build_definitions()
        graph = defs.resolve_asset_graph()
        defs.resolve_job_def("daily_digest_job")
        defs.resolve_schedule_def("daily_digest_schedule")
    return defs, graph


def test_definitions_load_without_warnings_with_every_stage(podigest_home):
    _, graph = load()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert set(PYTHON_CHAIN) <= keys
    assert {"marts/fct_daily_digest", "marts/dim_podcasts", "marts/fct_podcast_daily", "marts/fct_insight_trends"} <= keys


def test_every_asset_is_partitioned_by_utc_day(podigest_home):
    _, graph = load()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def == daily_partitions, key


def test_the_python_chain_is_one_lineage_and_dbt_reads_from_it(podigest_home):
    _, graph = load()
    for upstream, downstream in zip(PYTHON_CHAIN, PYTHON_CHAIN[1:], strict=False):
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(downstream)).parent_keys}
        assert upstream in parents, (downstream, parents)
    staging_parents = {
        parent.to_user_string()
        for key in graph.get_all_asset_keys()
        if key.path[0] == "staging"
        for parent in graph.get(key).parent_keys
    }
    assert {"episodes", "transcripts", "insight_candidates", "daily_digest"} <= staging_parents


def test_digest_checks_and_dbt_tests_are_asset_checks(podigest_home):
    _, graph = load()
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert any(asset == "daily_digest" for asset, _ in checks)
    assert any(asset == "transcripts" for asset, _ in checks)
    assert sum(1 for asset, _ in checks if asset.startswith("marts/")) >= 10


# The asset keys and groups as they were before the layout by stage: moving files must not change them
# (run history and backfills are keyed by them).
ASSET_GROUPS_BEFORE_THE_LAYOUT_MOVE = {
    "episodes": "ingest",
    "episode_audio": "ingest",
    "transcripts": "transcribe",
    "insight_candidates": "insights",
    "insight_embeddings": "insights",
    "insight_clusters": "insights",
    "top_insights": "insights",
    "daily_digest": "digest",
    "digest_delivery": "digest",
    **{
        f"staging/{name}": "marts"
        for name in [
            "stg_feeds",
            "stg_episodes",
            "stg_transcript_segments",
            "stg_insights",
            "stg_top_insights",
            "stg_digest_items",
            "stg_deliveries",
        ]
    },
    **{
        f"marts/{name}": "marts"
        for name in ["fct_daily_digest", "dim_podcasts", "fct_podcast_daily", "fct_insight_trends"]
    },
}


# Assets added since (new keys only: the ones above keep their keys and groups).
ASSET_GROUPS_ADDED_SINCE = {
    "search_index": "search",
    "reader_digests": "digest",
    "digest_site": "digest",
    "publisher_transcripts": "transcribe",
    "audio_cache": "ingest",
}


def test_asset_keys_and_groups_are_the_same_set_as_before_the_layout_move(podigest_home):
    _, graph = load()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {**ASSET_GROUPS_BEFORE_THE_LAYOUT_MOVE, **ASSET_GROUPS_ADDED_SINCE}


def test_transcripts_are_checked_before_any_audio_and_the_cache_is_pruned_after_them(podigest_home):
    _, graph = load()
    parents = {k: {p.to_user_string() for p in graph.get(dg.AssetKey(k)).parent_keys} for k in ("episode_audio", "audio_cache")}
    assert {"episodes", "publisher_transcripts"} <= parents["episode_audio"]
    assert "transcripts" in parents["audio_cache"]
