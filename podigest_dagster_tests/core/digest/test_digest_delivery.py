"""Digest delivery decisions against a real DuckDB file and a real aiosmtpd server."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import feedparser
import pytest

from podigest_dagster.core.digest import ledger
from podigest_dagster.core.digest.delivery import RSS_FILE, Mailing, publish_rss, send_digest
from podigest_dagster.core.digest.render import Digest, DigestItem, Source
from podigest_dagster.core.digest.rss import FeedEntry
from podigest_dagster.core.digest.smtp import SmtpSettings
from podigest_dagster.warehouse import db
from podigest_dagster_tests.support.smtp_server import SMTPTestServer, free_port

DAY = "2024-03-05"
DIGEST = Digest(DAY, [DigestItem(1, "Caches beat clever code.", 2, [Source("Show", "Ep 1", None, 61.0)])])


class Log:
    """Collects log lines by level, as context.log would show them."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warning(self, msg: str) -> None:
        self.lines.append(("warning", msg))

    def error(self, msg: str) -> None:
        self.lines.append(("error", msg))


@pytest.fixture
def connect(tmp_path):
    path = tmp_path / "w.duckdb"

    @contextmanager
    def open_write():
        with db.write_connection(path) as conn:
            yield conn

    return open_write


@pytest.fixture
def smtp():
    server = SMTPTestServer().start()
    yield server
    server.stop()


def mailing(port: int, *recipients: str) -> Mailing:
    return Mailing(
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none", timeout_s=5.0),
        sender="podigest <digest@example.org>",
        recipients=recipients,
        list_unsubscribe="<mailto:unsubscribe@example.org>",
        resend_unknown=False,
    )


def test_each_recipient_gets_the_digest_once_across_two_runs(connect, smtp):
    plan = mailing(smtp.port, "ann@example.com", "bob@example.com")
    first = send_digest(connect, DIGEST, plan, Log())
    second = send_digest(connect, DIGEST, plan, Log())
    assert (first["sent"], second["sent"], second["already_sent"]) == (2, 0, 2)
    assert sorted(r.message["To"] for r in smtp.received) == ["ann@example.com", "bob@example.com"]


def test_a_server_that_is_down_leaves_the_recipient_failed_for_a_retry(connect):
    log = Log()
    counts = send_digest(connect, DIGEST, mailing(free_port(), "ann@example.com"), log)
    with connect() as conn:
        state = ledger.load(conn, DAY, "email")["ann@example.com"]
    assert counts["failed"] == 1 and state.status == "failed"
    assert any(level == "error" and "will retry on the next run" in msg for level, msg in log.lines)


def test_publishing_rss_writes_the_feed_and_records_the_day(connect, tmp_path):
    entry = FeedEntry(DAY, "<p>Caches beat clever code.</p>", datetime(2024, 3, 5, 7, tzinfo=UTC), 1)
    path = publish_rss(connect, tmp_path, DAY, [entry])
    with connect() as conn:
        published = ledger.load(conn, DAY, "rss")
    assert path == tmp_path / RSS_FILE
    assert len(feedparser.parse(path.read_text()).entries) == 1
    assert list(published) == [RSS_FILE]


def test_publishing_rss_links_the_feed_to_the_public_url_or_else_to_the_cited_episode(connect, tmp_path):
    entry = FeedEntry(DAY, "<p>x</p>", datetime(2024, 3, 5, 7, tzinfo=UTC), 1, "https://show.example/ep1")
    published = feedparser.parse(
        publish_rss(connect, tmp_path, DAY, [entry], "https://digest.example.com/").read_text()
    )
    assert published.feed.link == "https://digest.example.com/"
    assert [link.href for link in published.feed.links if link.rel == "self"] == [
        "https://digest.example.com/digests.xml"
    ]
    assert published.entries[0].link == f"https://digest.example.com/{DAY}.html"
    local = publish_rss(connect, tmp_path, DAY, [entry]).read_text()
    assert "file:" not in local and tmp_path.as_posix() not in local
    assert feedparser.parse(local).entries[0].link == "https://show.example/ep1"


def test_a_day_sent_under_a_named_recipient_before_is_not_sent_again_under_the_bare_address(connect, smtp):
    with connect() as conn:
        ledger.record_published(conn, DAY, "email", "Ann Lee <Ann@Example.com>", "<old@example.org>")
    counts = send_digest(connect, DIGEST, mailing(smtp.port, "ann@example.com", "bob@example.com"), Log())
    assert (counts["sent"], counts["already_sent"]) == (1, 1)
    assert [r.rcpt_tos for r in smtp.received] == [["bob@example.com"]]
