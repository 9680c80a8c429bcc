"""daily_digest and digest_delivery, materialised for real against DuckDB and an aiosmtpd server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import dagster as dg
import feedparser
import pytest

from podigest_dagster import settings
from podigest_dagster.defs.digest.assets import CHECK_NO_REPEATS, daily_digest, digest_delivery
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import read_connection, write_connection
from podigest_dagster_tests.support.smtp_server import SMTPTestServer, free_port

DAY = "2024-03-05"
SCRIPT = "<script>alert(1)</script>"
SQLISH = '"; DROP TABLE x; --'
HOSTILE = f"Hosts argue {SCRIPT} that {SQLISH} caches beat clever code — naïve but true."
PASSWORD = "hunter2-Very-Secret"


def _source(podcast: str, episode: str, start_s: float | None) -> dict:
    return {
        "podcast": podcast,
        "episode": episode,
        "episode_id": f"id-{podcast}",
        "url": f"https://audio.example/{podcast.replace(' ', '-')}.mp3#t={int(start_s or 0)}",
        "start_s": start_s,
        "end_s": None if start_s is None else start_s + 20,
    }


DEFAULT_ITEMS = [
    (
        "Kernel engineers are the scarcest hires in AI labs, because few people know both ML and GPUs.",
        2,
        [_source("Latent Talk", "Ep 12", 723.4), _source("Systems Hour", "Hiring", 12.3)],
    ),
    (HOSTILE, 1, [_source("Evil <b>Show</b>", "Ep <1>", 61.0)]),
]


def _insert_top_insights(db_path, day: str, items=DEFAULT_ITEMS) -> None:
    with write_connection(db_path) as conn:
        conn.execute("DELETE FROM top_insights WHERE partition_date = ?", [day])
        for rank, (insight, support, sources) in enumerate(items, start=1):
            conn.execute(
                "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
                "support, score, sources, rewrite_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'extractive')",
                [day, rank, rank, f"c{rank}", insight, insight, support, 1.0 / rank, json.dumps(sources)],
            )


@pytest.fixture
def db_path(podigest_home):
    return str(podigest_home / "warehouse.duckdb")


@pytest.fixture
def smtp():
    server = SMTPTestServer().start()
    yield server
    server.stop()


def _mailer(port: int, **overrides) -> MailerResource:
    fields = dict(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="podigest <digest@example.org>",
        recipients=["ann@example.com, bob@example.com"],
        list_unsubscribe="mailto:unsubscribe@example.org, https://example.org/unsubscribe",
        timeout_s=5.0,
    )
    fields.update(overrides)
    return MailerResource(**fields)


def _run(
    db_path, mailer: MailerResource, day: str = DAY, assets=(daily_digest, digest_delivery), instance=None
):
    return dg.materialize(
        list(assets),
        partition_key=day,
        resources={"warehouse": WarehouseResource(database=db_path), "mailer": mailer},
        raise_on_error=False,
        instance=instance,
    )


def _log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every log line and event of a run, as one string."""
    return "\n".join(f"{entry.user_message} {entry.dagster_event!r}" for entry in instance.all_logs(run_id))


def _deliveries(db_path, channel: str = "email") -> dict[str, tuple]:
    with read_connection(db_path) as conn:
        rows = conn.execute(
            "SELECT recipient, status, message_id, attempts, error FROM deliveries WHERE channel = ?",
            [channel],
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_daily_digest_stores_rows_files_and_a_markdown_preview(db_path, podigest_home):
    _insert_top_insights(db_path, DAY)
    result = _run(db_path, MailerResource(), assets=(daily_digest,))
    assert result.success
    folder = settings.digests_dir()
    for suffix in ("md", "html", "json", "txt"):
        assert (folder / f"{DAY}.{suffix}").is_file()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    data = json.loads((folder / f"{DAY}.json").read_text(encoding="utf-8"))
    assert data["items"][1]["insight"] == HOSTILE
    html = (folder / f"{DAY}.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;" in html
    with read_connection(db_path) as conn:
        assert conn.execute("SELECT item_count FROM digests WHERE partition_date = ?", [DAY]).fetchone() == (
            2,
        )
        stored = conn.execute(
            "SELECT insight FROM digest_items WHERE partition_date = ? ORDER BY rank", [DAY]
        ).fetchall()
    assert stored[1][0] == HOSTILE
    materialization = result.asset_materializations_for_node("daily_digest")[0]
    preview = materialization.metadata["preview"]
    assert isinstance(preview, dg.MarkdownMetadataValue)
    assert "[Latent Talk — Ep 12 @ 12:03](https://audio.example/Latent-Talk.mp3#t=723)" in preview.value


def test_rerendering_a_partition_replaces_its_rows(db_path):
    _insert_top_insights(db_path, DAY)
    assert _run(db_path, MailerResource(), assets=(daily_digest,)).success
    _insert_top_insights(db_path, DAY, DEFAULT_ITEMS[:1])
    assert _run(db_path, MailerResource(), assets=(daily_digest,)).success
    with read_connection(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM digests").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM digest_items").fetchone() == (1,)


def test_email_arrives_once_per_recipient_with_headers_both_parts_and_escaping(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    result = _run(db_path, _mailer(smtp.port))
    assert result.success
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["ann@example.com", "bob@example.com"]
    msg = smtp.received[0].message
    assert msg["Subject"] == f"podigest — top insights for {DAY}"
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg["Date"]
    assert (
        msg["List-Unsubscribe"].strip()
        == "<mailto:unsubscribe@example.org>, <https://example.org/unsubscribe>"
    )
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html = msg.get_body(("html",)).get_content()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&quot;; DROP TABLE x; --" in html
    assert "Evil &lt;b&gt;Show&lt;/b&gt;" in html
    assert HOSTILE in msg.get_body(("plain",)).get_content()
    rows = _deliveries(db_path)
    assert {status for status, *_ in rows.values()} == {"sent"}
    assert {rows[r.rcpt_tos[0]][1] for r in smtp.received} == {r.message["Message-ID"] for r in smtp.received}


def test_a_second_run_of_the_partition_sends_nothing(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    assert _run(db_path, _mailer(smtp.port)).success
    assert _run(db_path, _mailer(smtp.port)).success
    assert len(smtp.received) == 2
    assert {attempts for _, _, attempts, _ in _deliveries(db_path).values()} == {1}


def test_a_failed_send_is_recorded_and_retried_on_the_next_run(db_path):
    _insert_top_insights(db_path, DAY)
    port = free_port()
    first = _run(db_path, _mailer(port, recipients=["ann@example.com"]))
    assert not first.success
    status, message_id, attempts, error = _deliveries(db_path)["ann@example.com"]
    assert (status, attempts) == ("failed", 1) and "connect" in error
    server = SMTPTestServer(port=port).start()
    try:
        second = _run(db_path, _mailer(port, recipients=["ann@example.com"]))
    finally:
        server.stop()
    assert second.success
    assert len(server.received) == 1
    assert server.received[0].message["Message-ID"] == message_id
    assert _deliveries(db_path)["ann@example.com"][:3] == ("sent", message_id, 2)


def _leave_in_sending(db_path, recipient: str, message_id: str) -> None:
    """What a run killed in the middle of its SMTP conversation leaves behind."""
    with write_connection(db_path) as conn:
        conn.execute(
            "INSERT INTO deliveries (partition_date, channel, recipient, message_id, status, error, attempts, "
            "updated_at) VALUES (?, 'email', ?, ?, 'sending', NULL, 1, ?)",
            [DAY, recipient, message_id, datetime.now(UTC) - timedelta(hours=1)],
        )


def test_a_send_cut_off_by_a_crash_is_marked_unknown_and_not_resent(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    _leave_in_sending(db_path, "ann@example.com", "<orphan@example.org>")
    result = _run(db_path, _mailer(smtp.port))
    assert result.success
    assert [r.rcpt_tos for r in smtp.received] == [["bob@example.com"]]
    rows = _deliveries(db_path)
    assert rows["ann@example.com"][0] == "unknown"
    assert "may have been delivered" in rows["ann@example.com"][3]
    assert _run(db_path, _mailer(smtp.port)).success
    assert len(smtp.received) == 1


def test_resend_unknown_resends_a_cut_off_send_with_the_same_message_id(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    _leave_in_sending(db_path, "ann@example.com", "<orphan@example.org>")
    assert _run(db_path, _mailer(smtp.port, recipients=["ann@example.com"], resend_unknown=True)).success
    assert [r.message["Message-ID"] for r in smtp.received] == ["<orphan@example.org>"]
    assert _deliveries(db_path)["ann@example.com"][:3] == ("sent", "<orphan@example.org>", 2)


def test_a_failing_blocking_check_stops_delivery(db_path, smtp):
    same = "Caches beat clever code in production systems."
    _insert_top_insights(
        db_path, DAY, [(same, 1, [_source("A", "a", 1.0)]), (same.upper(), 1, [_source("B", "b", 2.0)])]
    )
    result = _run(db_path, _mailer(smtp.port))
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks[CHECK_NO_REPEATS] is False
    assert "digest_delivery" not in {e.step_key for e in result.get_step_success_events()}
    assert smtp.received == []
    assert _deliveries(db_path) == {}


def test_an_item_citing_neither_a_moment_nor_an_episode_fails_the_traceability_check(db_path, smtp):
    _insert_top_insights(
        db_path, DAY, [("A self-contained claim with a reason.", 1, [{"podcast": "A", "episode": "", "url": None}])]
    )
    result = _run(db_path, _mailer(smtp.port))
    assert not result.success
    assert smtp.received == []


def test_without_smtp_email_is_skipped_and_rss_lists_every_digest(db_path, podigest_home):
    instance = dg.DagsterInstance.ephemeral()
    for day in ("2024-03-04", DAY):
        _insert_top_insights(db_path, day)
        result = _run(db_path, MailerResource(), day=day, instance=instance)
        assert result.success
    assert "email skipped: no SMTP host" in _log_text(instance, result.run_id)
    assert _deliveries(db_path) == {}
    feed = feedparser.parse((settings.digests_dir() / "digests.xml").read_bytes())
    assert not feed.bozo
    assert [e.id for e in feed.entries] == [f"podigest-digest-{DAY}", "podigest-digest-2024-03-04"]
    assert "<script" not in feed.entries[0].summary
    assert set(_deliveries(db_path, "rss")) == {"digests.xml"}


def test_credentials_without_tls_are_refused_and_the_password_leaks_nowhere(db_path, smtp, monkeypatch):
    monkeypatch.setenv("PODIGEST_SMTP_PASSWORD", PASSWORD)
    _insert_top_insights(db_path, DAY)
    mailer = _mailer(smtp.port, username="digest", password=dg.EnvVar("PODIGEST_SMTP_PASSWORD"))
    instance = dg.DagsterInstance.ephemeral()
    result = _run(db_path, mailer, instance=instance)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert "without TLS" in str(failure.step_failure_data.error)
    everything = _log_text(instance, result.run_id) + repr(result.dagster_run)
    assert "without TLS" in everything
    assert PASSWORD not in everything
    assert smtp.received == [] and _deliveries(db_path) == {}


def test_mailer_reads_its_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("PODIGEST_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("PODIGEST_SMTP_PORT", "465")
    monkeypatch.setenv("PODIGEST_SMTP_SECURITY", "SSL")
    monkeypatch.setenv("PODIGEST_SMTP_USER", "digest")
    monkeypatch.setenv("PODIGEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("PODIGEST_SMTP_FROM", "podigest <digest@example.org>")
    monkeypatch.setenv("PODIGEST_DIGEST_RECIPIENTS", "ann@example.com,bob@example.com")
    mailer = MailerResource.from_env()
    assert mailer.is_configured()
    assert mailer.recipient_list() == ["ann@example.com", "bob@example.com"]
    smtp = mailer.settings()
    assert (smtp.host, smtp.port, smtp.security, smtp.username) == ("smtp.example.org", 465, "ssl", "digest")
    assert PASSWORD not in repr(smtp)


def test_mailer_without_host_or_recipients_is_not_configured(monkeypatch):
    for name in ("PODIGEST_SMTP_HOST", "PODIGEST_DIGEST_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    assert not MailerResource.from_env().is_configured()
    assert not MailerResource(host="smtp.example.org").is_configured()


def test_a_quiet_day_renders_no_insights_warns_and_sends_no_email(db_path, smtp):
    _insert_top_insights(db_path, "2024-03-04")
    _insert_top_insights(db_path, DAY, [])
    result = _run(db_path, _mailer(smtp.port))
    assert result.success
    count_check = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "digest_has_one_to_five_items"
    ]
    assert count_check[0].passed is False and count_check[0].severity == dg.AssetCheckSeverity.WARN
    assert "No insights today" in (settings.digests_dir() / f"{DAY}.md").read_text(encoding="utf-8")
    assert smtp.received == [] and _deliveries(db_path) == {}


def test_a_connection_lost_after_the_body_was_sent_is_unknown_and_not_resent(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    smtp.handler.delay_s = 2.0
    mailer = _mailer(smtp.port, recipients=["ann@example.com"], timeout_s=0.5)
    assert _run(db_path, mailer).success
    assert _deliveries(db_path)["ann@example.com"][0] == "unknown"
    smtp.handler.delay_s = 0.0
    assert _run(db_path, mailer).success
    assert len(smtp.received) == 1


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("sender", "not-an-address", "not-an-address"),
        ("list_unsubscribe", "ftp://x", "ftp://x"),
        ("recipients", ["ann@example.com, nobody"], "nobody"),
    ],
)
def test_an_invalid_sender_or_unsubscribe_target_fails_the_step_before_any_send_is_claimed(
    db_path, smtp, setting, value, named
):
    _insert_top_insights(db_path, DAY)
    result = _run(db_path, _mailer(smtp.port, **{setting: value}))
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert "email configuration error" in error.message and named in error.message
    assert "\n" not in error.message.strip()
    assert smtp.received == [] and _deliveries(db_path) == {}


def test_an_unexpected_error_before_data_marks_the_recipient_failed_and_a_rerun_retries_it(db_path, smtp):
    _insert_top_insights(db_path, DAY)
    mailer = _mailer(smtp.port, recipients=["ü@example.com, bob@example.com"])
    first = _run(db_path, mailer)
    assert not first.success
    assert [r.rcpt_tos for r in smtp.received] == [["bob@example.com"]]
    status, _, attempts, error = _deliveries(db_path)["ü@example.com"]
    assert (status, attempts) == ("failed", 1) and "UnicodeEncodeError" in error
    assert not _run(db_path, mailer).success
    assert _deliveries(db_path)["ü@example.com"][:3:2] == ("failed", 2)
    assert len(smtp.received) == 1


def _feed_links(path) -> tuple[str | None, list[str | None], list[dict[str, str]]]:
    """digests.xml's channel <link>, each item's <link> and the channel's atom:link attributes."""
    channel = ElementTree.parse(path).getroot().find("channel")
    assert channel is not None
    return (
        channel.findtext("link"),
        [item.findtext("link") for item in channel.findall("item")],
        [dict(link.attrib) for link in channel.findall("{http://www.w3.org/2005/Atom}link")],
    )


def test_digests_xml_links_to_the_public_url_when_one_is_set(db_path, monkeypatch):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", "https://digest.example.com/podigest")
    _insert_top_insights(db_path, DAY)
    assert _run(db_path, MailerResource()).success
    feed_path = settings.digests_dir() / "digests.xml"
    assert _feed_links(feed_path) == (
        "https://digest.example.com/podigest/",
        [f"https://digest.example.com/podigest/{DAY}.html"],
        [
            {
                "href": "https://digest.example.com/podigest/digests.xml",
                "rel": "self",
                "type": "application/rss+xml",
            }
        ],
    )
    assert (settings.digests_dir() / f"{DAY}.html").is_file()
    assert not feedparser.parse(feed_path.read_bytes()).bozo


def test_without_a_public_url_digests_xml_links_to_the_first_source_not_to_the_folder(db_path, monkeypatch):
    monkeypatch.delenv("PODIGEST_PUBLIC_URL", raising=False)
    _insert_top_insights(db_path, DAY)
    with write_connection(db_path) as conn:
        conn.execute(
            "INSERT INTO episodes (episode_id, feed_url, date_status, link, first_seen_at, updated_at) "
            "VALUES ('id-Latent Talk', 'https://latent.example/feed.xml', 'ok', 'https://latent.example/12', now(), now())"
        )
    assert _run(db_path, MailerResource()).success
    xml = (settings.digests_dir() / "digests.xml").read_text()
    assert _feed_links(settings.digests_dir() / "digests.xml") == (
        "https://latent.example/12",
        ["https://latent.example/12"],
        [],
    )
    assert "file:" not in xml


@pytest.mark.parametrize("value", ["file:///srv/digests/", "digest.example.com", "https://x.example/?a=1"])
def test_an_invalid_public_url_fails_delivery_with_one_line_naming_the_setting(
    db_path, smtp, monkeypatch, value
):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", value)
    _insert_top_insights(db_path, DAY)
    result = _run(db_path, _mailer(smtp.port))
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert "PODIGEST_PUBLIC_URL" in error.message and "\n" not in error.message.strip()
    assert not (settings.digests_dir() / "digests.xml").exists()
    assert smtp.received == [] and _deliveries(db_path) == {}


def test_a_recipient_name_with_a_comma_is_one_recipient(db_path, smtp, monkeypatch):
    listed = '"Doe, Jane" <jane@example.com>, bob@example.com'
    monkeypatch.setenv("PODIGEST_DIGEST_RECIPIENTS", listed)
    assert MailerResource.from_env().recipient_list() == ['"Doe, Jane" <jane@example.com>', "bob@example.com"]
    _insert_top_insights(db_path, DAY)
    assert _run(db_path, _mailer(smtp.port, recipients=[listed])).success
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["bob@example.com", "jane@example.com"]
    [to_jane] = [r.message for r in smtp.received if r.rcpt_tos == ["jane@example.com"]]
    assert to_jane["To"].addresses[0].display_name == "Doe, Jane"


def test_an_invalid_recipient_is_reported_with_the_setting_and_the_entry(monkeypatch):
    monkeypatch.setenv("PODIGEST_DIGEST_RECIPIENTS", "ann@example.com, Doe, Jane <jane@example.com>")
    with pytest.raises(ValueError, match=r"PODIGEST_DIGEST_RECIPIENTS.*not an email address: 'Doe'"):
        MailerResource.from_env().recipient_list()
