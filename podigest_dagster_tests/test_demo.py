"""`podigest demo`, the README's first command, end to end: real feeds, Whisper, embeddings, dbt, digest; and
`podigest run` again on the done demo day: quiet, forced, with no model loaded and dbt skipped."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest

from podigest_dagster.cli import main
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
    assert "site serve` and open http://127.0.0.1:8000/" in result.stdout and 'search "heat pumps"' in result.stdout
    assert f"digest --reader you@example.com --date {DEMO_DATE}" in result.stdout
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
    result = podigest(home, "-v", "run", "--force", "--date", DEMO_DATE, "--feeds", str(home / "demo-feeds.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "STEP_SUCCESS" in result.stderr and "RUN_SUCCESS" in result.stderr
    assert "dbt: unchanged since the build of" in result.stderr
    assert "transcripts: 0 by Whisper, 0 from the publisher, 4 already done, 0 failed" in result.stdout
    assert "embeddings: 0 new" in result.stdout
    assert re.search(r"^dbt: unchanged, skipped \(\d+ results from the last build\)", result.stdout, re.M)
    assert counts(home) == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT episode_id, transcribed_at FROM transcripts ORDER BY 1").fetchall() == stamps


ANSI = re.compile(r"\x1b\[")


def test_demo_prints_one_line_per_step_with_counts_and_the_transcription_progress(demo_home):
    _, result = demo_home
    out = result.stdout
    lines = out.splitlines()
    for start in ("episodes: ", "audio: ", "transcripts: 3 by Whisper, 1 from the publisher, 0 already done, 0 failed",
                  "candidates: ", "embeddings: ", "clusters: ", "top insights: ", "digest: ", "delivery: "):
        assert any(line.startswith(start) for line in lines), (start, out)
    assert len(re.findall(r"^dbt: \d+ passed, 0 failed \(", out, re.M)) == 2, out
    windows = [line for line in lines if re.match(r"  episode \d/4 \S+: window 1/1, [\d:]+ of [\d:]+ audio, ", line)]
    assert len(windows) == 3 and all(" real time, " in line for line in windows), out
    assert any(re.match(r"  episode 4/4 \S+: \d+ segments from whisper:base", line) for line in lines), out
    assert "STEP_SUCCESS" not in out + result.stderr and "Running with dbt" not in out and " START sql " not in out
    assert not ANSI.search(out + result.stderr), "colour on a stream that is not a terminal"


def runs_of(home: Path) -> int:
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return len(instance.get_runs())


def test_a_quiet_run_of_the_done_demo_day_prints_one_line_and_starts_no_run(demo_home):
    home, _ = demo_home
    runs = runs_of(home)
    result = podigest(home, "-q", "run", "--date", DEMO_DATE, "--feeds", str(home / "demo-feeds.yaml"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    [line] = result.stdout.splitlines()
    assert re.fullmatch(rf"podigest: {DEMO_DATE} up to date, checked in [\d.]+s: \d+ insights? in .*{DEMO_DATE}\.md", line)
    assert runs_of(home) == runs


def test_a_forced_run_of_the_done_demo_day_loads_no_model(demo_home, monkeypatch):
    home, _ = demo_home

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded on a re-run with nothing to do")

    monkeypatch.setattr("podigest_dagster.core.transcribe.engine.load_model", refuse)
    monkeypatch.setattr("podigest_dagster.defs.transcribe.resources.shared_transcriber", refuse)
    monkeypatch.setattr("podigest_dagster.core.insights.embedding._load", refuse)
    for name in [n for n in os.environ if n.startswith(("PODIGEST_", "DAGSTER_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PODIGEST_HOME", str(home))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-q", "run", "--force", "--date", DEMO_DATE, "--feeds", str(home / "demo-feeds.yaml")])
    assert code == 0, err.getvalue()
    assert err.getvalue() == "" and len(out.getvalue().splitlines()) == 1


def test_demo_builds_the_web_archive_and_indexes_everything_said_for_search(demo_home):
    home, _ = demo_home
    assert (home / "site" / "index.html").is_file() and (home / "site" / f"{DEMO_DATE}.html").is_file()
    result = podigest(home, "search", "heat pumps", "--mode", "words", "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    hits = json.loads(result.stdout)
    assert hits and "heat" in hits[0]["snippet"].lower() and "#t=" in hits[0]["url"]
