"""The seal that lets `podigest run` skip a day already done: it holds while nothing a run reads or
writes has changed, and breaks on a changed row, configuration, output file or feed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from podigest_dagster import run_seal, settings
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.warehouse.db import write_connection
from podigest_dagster_tests.defs.ingest.test_ingest_assets import conditional

DAY = "2026-11-10"


@pytest.fixture
def feed(http_server):
    """A feed that answers 304 to its ETag; switch() makes it answer with a new version."""

    class Feed:
        url = http_server.add_handler("/f.xml", conditional(b"<rss/>", '"v1"'))

        @staticmethod
        def switch() -> None:
            http_server.add_handler("/f.xml", conditional(b"<rss>new</rss>", '"v2"'))

    return Feed


@pytest.fixture
def sealed(podigest_home, feed):
    demo_feed = (settings.demo_dir() / "feeds" / "city-signals.xml").as_uri()
    save_feeds(settings.feeds_file(), [FeedSpec(url=feed.url, name="A"), FeedSpec(url=demo_feed, name="Demo")])
    with write_connection(settings.warehouse_path()) as conn:
        conn.execute(
            "INSERT INTO feeds (feed_url, etag, last_status, last_polled_at) VALUES (?, '\"v1\"', 'ok', now())",
            [feed.url],
        )
        conn.execute(
            "INSERT INTO episodes (episode_id, feed_url, title, partition_date, date_status, first_seen_at, updated_at) "
            "VALUES ('e1', ?, 'One', ?, 'ok', now(), now())",
            [feed.url, DAY],
        )
    digests = settings.digests_dir()
    digests.mkdir(parents=True)
    (digests / f"{DAY}.md").write_text("# digest\n")
    return run_seal.write(DAY, "run-1")


def reason() -> str:
    seal, why = run_seal.up_to_date(DAY)
    assert (seal is None) == (why != "nothing changed")
    return why


def test_a_sealed_day_is_up_to_date_after_asking_the_feed_with_its_etag(sealed, http_server):
    seal, why = run_seal.up_to_date(DAY)
    assert why == "nothing changed" and seal == sealed and seal.run_id == "run-1"
    asked = [headers for path, headers in http_server.requests if path == "/f.xml"]
    assert asked and asked[-1].get("If-None-Match") == '"v1"'


def test_when_a_step_last_ran_does_not_break_the_seal(sealed):
    with write_connection(settings.warehouse_path()) as conn:
        conn.execute("UPDATE feeds SET last_polled_at = now() + INTERVAL 1 DAY")
        conn.execute("UPDATE episodes SET updated_at = now() + INTERVAL 1 DAY")
    assert reason() == "nothing changed"


def test_a_changed_row_breaks_the_seal(sealed):
    with write_connection(settings.warehouse_path()) as conn:
        conn.execute("UPDATE episodes SET title = 'One, revised'")
    assert reason() == "the warehouse changed since the last run"


def test_a_changed_configuration_breaks_the_seal_and_no_secret_is_stored(sealed, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-the-seal")
    assert reason() == "the configuration changed since the last run"
    resealed = run_seal.write(DAY, "run-2")
    assert "sk-not-for-the-seal" not in (settings.podigest_home() / run_seal.SEAL_DIR / f"{DAY}.json").read_text()
    assert resealed.config != sealed.config and reason() == "nothing changed"
    save_feeds(settings.feeds_file(), [FeedSpec(url="https://other.example/f.xml")])
    assert reason() == "the configuration changed since the last run"


def test_a_changed_or_missing_output_file_breaks_the_seal(sealed):
    digest = settings.digests_dir() / f"{DAY}.md"
    digest.write_text("# edited by hand, and longer\n")
    assert reason() == "the files beside the warehouse changed since the last run"
    run_seal.write(DAY, "run-2")
    digest.unlink()
    assert reason() == "the files beside the warehouse changed since the last run"


def test_a_feed_with_news_or_without_validators_breaks_the_seal(sealed, feed):
    feed.switch()
    assert reason().endswith("may have changed (ok)")
    with write_connection(settings.warehouse_path()) as conn:
        conn.execute("UPDATE feeds SET etag = NULL, last_modified = NULL")
    run_seal.write(DAY, "run-2")
    assert "gives no ETag or Last-Modified" in reason()


def test_no_seal_or_a_forgotten_one_means_run(sealed):
    run_seal.forget(DAY)
    assert reason() == "no clean run of this day on record"
    assert run_seal.up_to_date("2026-11-11")[1] == "no clean run of this day on record"


def test_a_code_change_breaks_the_seal(sealed, monkeypatch):
    monkeypatch.setattr(run_seal, "code_digest", lambda: "another version")
    assert reason() == "the code changed since the last run"


@pytest.mark.parametrize(
    ("metadata", "found"),
    [
        ({"transcribed": 3, "failed": 0, "feeds_failed": 0, "failed_feeds": {}, "errors": {}}, []),
        ({"failed": 1}, ["failed"]),
        ({"feeds_failed": 2, "failed_feeds": {"https://x": "HTTP 500"}}, ["feeds_failed", "failed_feeds"]),
        ({"rewrite_status": {"extractive": 3, "failed": 2}}, ["rewrite_status.failed"]),
        ({"email": "not configured", "unknown": 0, "error": ""}, []),
        ({"errors": ["timeout"]}, ["errors"]),
    ],
)
def test_an_asset_reporting_a_failure_is_found_in_its_metadata(metadata, found):
    assert sorted(run_seal.failures_in(metadata)) == sorted(found)


def test_the_seal_is_a_small_json_file_of_digests(sealed):
    stored = json.loads((settings.podigest_home() / run_seal.SEAL_DIR / f"{DAY}.json").read_text())
    assert set(stored) == {"day", "run_id", "sealed_at", "code", "config", "state", "files"}
    assert datetime.fromisoformat(stored["sealed_at"]) <= datetime.now(UTC)
    assert all(len(stored[k]) == 64 for k in ("code", "config", "state", "files"))
    assert os.path.getsize(settings.podigest_home() / run_seal.SEAL_DIR / f"{DAY}.json") < 1000


def test_variables_a_run_sets_for_itself_do_not_break_the_seal(sealed, monkeypatch):
    for name, value in (("DBT_USE_COLORS", "false"), ("TQDM_DISABLE", "1"), ("DAGSTER_HOME", "/elsewhere"),
                        ("HF_HUB_DISABLE_PROGRESS_BARS", "1")):
        monkeypatch.setenv(name, value)
    assert reason() == "nothing changed"
