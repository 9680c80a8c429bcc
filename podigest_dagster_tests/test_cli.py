"""The `podigest` command: help, --version, -q/-v anywhere, feeds import/list, digest and sql, and errors as
one line with a distinct exit code (2 configuration or input, 3 failed run, 4 nothing to show)."""

from __future__ import annotations

import io
from importlib import metadata

import duckdb
import pytest

from podigest_dagster.cli import EXIT_CONFIG, EXIT_NOTHING, NORMAL, QUIET, VERBOSE, main, parse_args
from podigest_dagster.warehouse.db import write_connection

OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>My podcasts</title></head><body>
<outline text="feeds"><outline type="rss" text="Show A" xmlUrl="https://a.example/feed.xml"/>
<outline type="rss" text="Show B" xmlUrl="https://b.example/rss"/>
<outline type="rss" text="Broken" xmlUrl="http://c.example:99999/feed"/></outline></body></opml>"""


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "run", "digest", "feeds", "sql", "ui", "prepare"):
        assert command in out


def test_feeds_import_merges_opml_and_list_shows_never_polled(podigest_home, capsys):
    opml = podigest_home / "export.opml"
    opml.write_text(OPML)
    assert main(["feeds", "import", str(opml)]) == 0
    assert main(["feeds", "import", str(opml)]) == 0
    out = capsys.readouterr().out
    assert "imported 2 new feed(s)" in out and "imported 0 new feed(s)" in out
    assert "skipped" in out and "Broken" in out
    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    assert "2 feed(s)" in out and "Show A" in out and "never polled" in out


def test_feeds_list_shows_the_last_poll_error(podigest_home, capsys):
    opml = podigest_home / "export.opml"
    opml.write_text(OPML)
    main(["feeds", "import", str(opml)])
    with write_connection(podigest_home / "warehouse.duckdb") as conn:
        conn.execute(
            "INSERT INTO feeds (feed_url, last_status, last_error, last_http_status, last_polled_at) "
            "VALUES (?, 'error', 'HTTP 404 Not Found', 404, now())",
            ["https://a.example/feed.xml"],
        )
    capsys.readouterr()
    assert main(["feeds", "list"]) == 0
    out = capsys.readouterr().out
    assert "status: error (HTTP 404)" in out and "HTTP 404 Not Found" in out


def test_missing_digest_is_a_one_line_error(podigest_home, capsys):
    with write_connection(podigest_home / "warehouse.duckdb"):
        pass
    assert main(["digest", "--date", "2026-01-02"]) == EXIT_NOTHING
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: no digest stored for 2026-01-02") and "\n" not in err


def test_bad_date_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--date", "2026-13-40"])
    assert exit_info.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_sql_prints_a_table_and_refuses_writes(podigest_home, capsys):
    with write_connection(podigest_home / "warehouse.duckdb") as conn:
        conn.execute("INSERT INTO feeds (feed_url, name) VALUES (?, ?)", ["https://x.example/f", "X"])
    assert main(["sql", "SELECT feed_url, name FROM feeds"]) == 0
    assert "https://x.example/f" in capsys.readouterr().out
    assert main(["sql", "--format", "json", "SELECT name FROM feeds"]) == 0
    assert '"X"' in capsys.readouterr().out
    assert main(["sql", "DELETE FROM feeds"]) == EXIT_CONFIG
    assert "podigest: error:" in capsys.readouterr().err
    with duckdb.connect(str(podigest_home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM feeds").fetchone() == (1,)


def test_run_without_a_feeds_file_says_how_to_make_one(podigest_home, capsys):
    assert main(["run", "--date", "2026-11-20"]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: no feeds file at") and "feeds import" in err and "\n" not in err


def test_a_malformed_feeds_file_is_a_configuration_error_before_any_run(podigest_home, capsys):
    (podigest_home / "feeds.yaml").write_text("feeds: [ {url: \n")
    assert main(["run", "--date", "2026-11-20"]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: feeds file ") and "feeds.yaml" in err and "\n" not in err
    assert not (podigest_home / "dagster").exists()


FEEDS = "feeds:\n  - url: https://a.example/feed.xml\n"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [("PODIGEST_SMTP_PORT", "five", "five"), ("PODIGEST_SCHEDULE_HOUR", "25", "PODIGEST_SCHEDULE_HOUR"),
     ("PODIGEST_PUBLIC_URL", "ftp://x.example/", "PODIGEST_PUBLIC_URL"),
     ("PODIGEST_AUDIO_RETENTION_DAYS", "a week", "PODIGEST_AUDIO_RETENTION_DAYS"),
     ("PODIGEST_AUDIO_MAX_GB", "-1", "PODIGEST_AUDIO_MAX_GB")],
)
def test_a_bad_environment_value_is_a_configuration_error(podigest_home, capsys, monkeypatch, name, value, named):
    (podigest_home / "feeds.yaml").write_text(FEEDS)
    monkeypatch.setenv(name, value)
    assert main(["run", "--date", "2026-11-20"]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: configuration: ") and named in err and "\n" not in err


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"podigest {metadata.version('podigest')}"


@pytest.mark.parametrize(
    ("argv", "verbosity"),
    [(["run"], NORMAL), (["-q", "run"], QUIET), (["run", "-q"], QUIET), (["--quiet", "demo"], QUIET),
     (["-v", "run"], VERBOSE), (["digest", "--verbose"], VERBOSE), (["feeds", "list", "-q"], QUIET),
     (["sql", "-v", "SELECT 1"], VERBOSE), (["prepare", "-q"], QUIET), (["ui", "-v"], VERBOSE)],
)
def test_quiet_and_verbose_are_accepted_before_and_after_every_command(argv, verbosity):
    assert parse_args(argv).verbosity == verbosity


def test_quiet_and_verbose_together_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "run", "-v"])
    assert exit_info.value.code == EXIT_CONFIG
    assert "cannot be used together" in capsys.readouterr().err


def test_the_exit_codes_are_documented_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in ("exit codes: 0 done", "2 configuration or input error", "3 the run failed", "4 nothing to show",
                 "NO_COLOR"):
        assert text in out


@pytest.fixture
def filled(podigest_home):
    with write_connection(podigest_home / "warehouse.duckdb") as conn:
        conn.execute("INSERT INTO feeds (feed_url, name) VALUES (?, ?)", ["https://x.example/f", "X"])
        conn.execute("CREATE SCHEMA marts")
        conn.execute("CREATE TABLE marts.dim_podcasts AS SELECT feed_url, name AS podcast FROM main.feeds")
    return podigest_home


def test_sql_finds_the_marts_without_their_schema(filled, capsys):
    assert main(["sql", "--format", "csv", "SELECT podcast FROM dim_podcasts"]) == 0
    assert capsys.readouterr().out.splitlines() == ["podcast", "X"]


def test_sql_reads_the_query_from_a_file_or_from_stdin(filled, capsys, monkeypatch, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("-- the shows\nSELECT podcast\nFROM dim_podcasts\n", encoding="utf-8")
    assert main(["sql", "--file", str(query), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["podcast", "X"]
    for argv in (["sql", "-", "--format", "csv"], ["sql", "--file", "-", "--format", "csv"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("SELECT name FROM feeds"))
        assert main(argv) == 0
        assert capsys.readouterr().out.splitlines() == ["name", "X"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["sql"], "no query"), (["sql", "SELECT 1", "--file", "q.sql"], "not both"),
     (["sql", "--file", "/no/such/q.sql"], "cannot read the query file"), (["sql", "SELEC 1"], "query failed"),
     (["sql", "--max-rows", "-1", "SELECT 1"], "--max-rows")],
)
def test_a_bad_query_or_query_source_is_an_input_error(filled, capsys, argv, message):
    assert main(argv) == EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: ") and message in err and "\n" not in err


def test_sql_prints_at_most_max_rows_and_says_on_stderr_when_it_cut(filled, capsys):
    assert main(["sql", "--format", "csv", "SELECT range AS n FROM range(1500)"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 + 1000
    assert "first 1000 rows" in captured.err and "--max-rows" in captured.err
    assert main(["sql", "--max-rows", "0", "--format", "csv", "SELECT range AS n FROM range(1500)"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 + 1500 and captured.err == ""
    assert main(["sql", "--max-rows", "3", "SELECT range AS n FROM range(1500)"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "(first 3 rows; more not shown)" and "first 3 rows" in captured.err
    assert main(["sql", "--max-rows", "3", "SELECT range AS n FROM range(3)"]) == 0
    assert capsys.readouterr().err == ""


def test_sql_without_a_warehouse_has_nothing_to_show(podigest_home, capsys):
    assert main(["sql", "SELECT 1"]) == EXIT_NOTHING
    assert "no warehouse at" in capsys.readouterr().err
