"""`podigest demo`, the README's first command, end to end: real feeds, Whisper, embeddings, dbt, digest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest

from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.demo import DEMO_DATE, DEMO_PREVIOUS_DATE
from podigest_dagster.demo.scripts import DEMO_DAY

COUNTED = ("episodes", "episode_audio", "transcripts", "transcript_segments", "insight_candidates", "top_insights",
           "digest_items", "deliveries")


def podigest(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIGEST_", "DAGSTER_"))}
    env["PODIGEST_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "podigest_dagster.cli", *args], env=env, capture_output=True, text=True, timeout=1200
    )


def counts(home: Path) -> dict[str, int]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}  # noqa: S608


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("demo-home")
    return home, podigest(home, "demo")


def test_demo_prints_the_digest_and_where_it_is(demo_home):
    home, result = demo_home
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"top insights for {DEMO_DATE}" in result.stdout
    assert "podigest ui" in result.stdout
    for suffix in ("md", "html", "json", "txt"):
        assert (home / "digests" / f"{DEMO_DATE}.{suffix}").stat().st_size > 0
    assert (home / "digests" / "digests.xml").exists()


def test_demo_runs_are_recorded_for_the_dagster_ui(demo_home):
    home, _ = demo_home
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_runs()
        assert sorted(run.tags.get("dagster/partition") for run in runs) == [DEMO_PREVIOUS_DATE, DEMO_DATE]
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)


def test_demo_digest_has_the_cross_show_insights_and_no_repeat_or_ad(demo_home):
    home, _ = demo_home
    result = podigest(home, "digest", "--date", DEMO_DATE, "--format", "json")
    assert result.returncode == 0, result.stderr
    digest = json.loads(result.stdout)
    assert digest["date"] == DEMO_DATE
    items = digest["items"]
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    assert 3 <= len(items) <= 5
    for item in items:
        assert set(item) >= {"rank", "insight", "support", "sources"}
        assert item["sources"] and all({"podcast", "episode", "url", "start_s"} <= set(s) for s in item["sources"])
        assert not any(word in item["insight"].lower() for word in ("promo code", "subscribe", "welcome back"))

    embedder = Embedder()
    got = embedder.embed([item["insight"] for item in items])
    expected = [p for p in DEMO_DAY.expected_top()]
    repeated = [p for p in DEMO_DAY.planted if p.repeated]
    similarity = got @ embedder.embed([p.text for p in expected + repeated]).T
    found = {expected[j].key for j in range(len(expected)) if np.max(similarity[:, j]) >= 0.6}
    assert len(found) >= 3, (found, [item["insight"] for item in items])
    assert np.all(similarity[:, len(expected):] < 0.6), "yesterday's insight came back"


def test_rerunning_the_demo_day_adds_no_rows_and_redoes_no_transcription(demo_home):
    home, _ = demo_home
    before = counts(home)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        stamps = conn.execute("SELECT episode_id, transcribed_at FROM transcripts ORDER BY 1").fetchall()
    result = podigest(home, "run", "--date", DEMO_DATE, "--feeds", str(home / "demo-feeds.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert counts(home) == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT episode_id, transcribed_at FROM transcripts ORDER BY 1").fetchall() == stamps
