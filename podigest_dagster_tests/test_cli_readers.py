"""`podigest search`, `readers`, `digest --reader` and `site build`: output, files and exit codes."""

from __future__ import annotations

import json

import pytest

from podigest_dagster import settings
from podigest_dagster.cli import main
from podigest_dagster.core.search import store as search_store
from podigest_dagster.warehouse.db import derived_write_connection, read_connection, write_connection
from podigest_dagster_tests.support.archive import (
    HOSTILE_INSIGHT,
    HOSTILE_SHOW,
    HOSTILE_SPEAKER,
    site_archive,
)

DEMO_MP3 = settings.demo_dir() / "audio" / "city-signals-2026-11-27.mp3"


@pytest.fixture
def archive(podigest_home):
    with write_connection(settings.warehouse_path()) as conn:
        site_archive(conn, settings.audio_dir(), "https://cdn.example.org/city-1.mp3", DEMO_MP3)
    return podigest_home


def _index() -> None:
    with read_connection(settings.warehouse_path()) as conn:
        days = [search_store.load_day(conn, d) for d in search_store.warehouse_days(conn)]
    with derived_write_connection(settings.search_index_path()) as conn:
        search_store.rebuild(conn, iter(days))


@pytest.fixture
def archive_indexed(archive):
    _index()
    return archive


def test_search_prints_each_moment_with_its_words_marked_and_a_link_that_plays_there(archive_indexed, capsys):
    assert main(["search", "parking thousands", "--mode", "words"]) == 0
    out = capsys.readouterr().out
    assert "1 moment for 'parking thousands'" in out
    assert "**parking**" in out and "**thousands**" in out and "@ 0:00" in out
    assert "play: https://cdn.example.org/evil-1.mp3#t=0" in out
    assert f"\n   — {HOSTILE_SPEAKER}, {HOSTILE_SHOW}\n" in out
    assert main(["search", "parking", "--mode", "words", "--format", "json"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert hit["snippet"] == HOSTILE_INSIGHT and hit["highlights"] == ["parking"] and hit["date"] == "2024-03-05"
    assert hit["speaker"] == HOSTILE_SPEAKER
    assert main(["search", "heat pumps", "--mode", "words", "--format", "json"]) == 0
    assert sorted((h["podcast"], h["speaker"]) for h in json.loads(capsys.readouterr().out)) == [
        ("City Signals", "Jane Doe"), ("Night Owls", ""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["search", "   "], 2, "empty query"),
        (["search", "x" * 301], 2, "query too long"),
        (["search", "parking", "--limit", "0"], 2, "limit"),
        (["search", "parking", "--since", "yesterday"], 2, "not a date"),
        (["search", "zzyzx", "--mode", "words"], 4, "nothing said matches"),
    ],
)
def test_bad_or_fruitless_searches_exit_with_a_one_line_reason(archive_indexed, capsys, argv, code, says):
    try:
        assert main(argv) == code
    except SystemExit as exc:  # argparse refuses a bad --since itself
        assert exc.code == code
    assert says in capsys.readouterr().err


def test_search_before_any_index_is_nothing_to_show(podigest_home, capsys):
    assert main(["search", "parking", "--mode", "words"]) == 4
    assert "no search index" in capsys.readouterr().err


def test_readers_add_list_remove_edit_the_readers_file(podigest_home, capsys):
    assert main(["readers", "add", "ann@example.com", "--interests", "GPU kernels, AI hiring"]) == 0
    assert main(["readers", "add", "bob@example.com", "--mute-show", "Crypto Hour"]) == 0
    assert main(["readers", "add", "ann@example.com", "--name", "Ann"]) == 0
    assert main(["readers", "list"]) == 0
    out = capsys.readouterr().out
    assert "Ann <ann@example.com>  interests: GPU kernels, AI hiring" in out
    assert "bob@example.com  muted shows: Crypto Hour" in out
    assert main(["readers", "remove", "BOB@example.com"]) == 0
    assert main(["readers", "remove", "bob@example.com"]) == 2
    assert main(["readers", "add", "not an address"]) == 2
    assert "not an email address" in capsys.readouterr().err
    assert [line.strip() for line in settings.readers_file().read_text(encoding="utf-8").splitlines()] == [
        "readers:", "- email: ann@example.com", "name: Ann", "interests: GPU kernels, AI hiring",
    ]  # fmt: skip


def test_digest_for_a_reader_without_interests_is_the_general_digest_with_a_footer(archive, capsys):
    settings.readers_file().write_text("readers:\n  - email: ann@example.com\n", encoding="utf-8")
    assert main(["digest", "--date", "2024-03-05", "--reader", "Ann@Example.com"]) == 0
    out = capsys.readouterr().out
    assert "Heat pumps" in out and "## Why these items" in out and "general digest" in out
    assert "— Jane Doe, City Signals" in out and "Also discussed on: Night Owls @ 0:41\n" in out
    assert main(["digest", "--date", "2024-03-05", "--reader", "ann@example.com", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)["items"][0]
    assert (first["speaker"], first["why"]) == ("Jane Doe", "one of the day's top insights")
    assert [c["podcast"] for c in first["coverage"]] == ["Night Owls"]
    assert main(["digest", "--date", "2024-03-05", "--reader", "zed@example.com"]) == 2
    assert "not a reader" in capsys.readouterr().err


def test_site_build_writes_the_archive(archive, capsys, tmp_path):
    assert main(["site", "build", "--out", str(tmp_path / "www")]) == 0
    assert (tmp_path / "www" / "2024-03-05.html").is_file() and (tmp_path / "www" / "index.html").is_file()
    assert "web archive of 2 day(s)" in capsys.readouterr().out


def test_a_day_without_a_digest_names_the_latest_stored_day(archive, capsys):
    settings.readers_file().write_text("readers:\n  - email: ann@example.com\n", encoding="utf-8")
    for argv in (["digest", "--date", "2024-03-09"], ["digest", "--date", "2024-03-09", "--reader", "ann@example.com"]):
        assert main(argv) == 4
        err = capsys.readouterr().err.strip()
        assert "no digest stored for 2024-03-09" in err and "latest stored is 2024-03-05: add `--date 2024-03-05`" in err
        assert "\n" not in err


def test_readers_list_reports_each_skipped_entry_once_with_its_line(podigest_home, capsys):
    settings.readers_file().write_text(
        "readers:\n  - email: ann@example.com\n  - email: bad\n  - email: dan@example.com\n    intrests: x\n",
        encoding="utf-8",
    )
    assert main(["readers", "list"]) == 0
    out, err = capsys.readouterr()
    assert "1 reader(s)" in out and "- ann@example.com  gets the general digest" in out
    lines = err.strip().splitlines()
    assert [line.split(": ", 2)[1][-6:] for line in lines] == ["line 3", "line 4"]
    assert all(line.count("skipped") == 1 for line in lines), lines


def test_site_serve_serves_the_built_archive_and_its_search_on_127_0_0_1(archive_indexed, tmp_path):
    import os
    import subprocess
    import sys
    import urllib.request

    assert main(["-q", "site", "build"]) == 0
    env = {**os.environ, "PODIGEST_HOME": str(settings.podigest_home())}
    server = subprocess.Popen(
        [sys.executable, "-m", "podigest_dagster.cli", "site", "serve", "--port", "0", "--words-only"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline()
        assert "serving" in line and "http://127.0.0.1:" in line, (line, server.stderr.read() if server.poll() else "")
        url = line.split(" on ", 1)[1].split()[0]
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.headers["Server"] == "podigest"
            assert b'href="2024-03-05.html"' in response.read()
        with urllib.request.urlopen(url + "search.html?q=parking", timeout=60) as response:
            page = response.read().decode("utf-8")
        assert "<mark>parking</mark>" in page and "&lt;script&gt;" in page and "<script>" not in page
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: do not hide the test's own failure
            server.kill()
            server.wait()
