"""The `podigest` command: help, feeds import/list, digest and sql errors as one line with a non-zero exit."""

from __future__ import annotations

import duckdb
import pytest

from podigest_dagster.cli import main
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
    assert main(["digest", "--date", "2026-01-02"]) == 1
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
    assert main(["sql", "DELETE FROM feeds"]) == 1
    assert "podigest: error:" in capsys.readouterr().err
    with duckdb.connect(str(podigest_home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM feeds").fetchone() == (1,)


def test_run_without_a_feeds_file_says_how_to_make_one(podigest_home, capsys):
    assert main(["run", "--date", "2026-11-20"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("podigest: error: no feeds file at") and "feeds import" in err and "\n" not in err


def test_a_failed_run_names_the_step_and_the_reason(podigest_home, capsys):
    (podigest_home / "feeds.yaml").write_text("feeds: [ {url: \n")
    assert main(["run", "--date", "2026-11-20"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("podigest: error: run ") and "failed at episodes" in last and "feeds.yaml" in last
