"""Hostile feeds, enclosures and texts through the real assets: each ends in a clear recorded error,
the other feeds and episodes go on, and stored text comes back verbatim."""

from __future__ import annotations

import ipaddress
import json
import time
import tracemalloc
from pathlib import Path

import dagster as dg
import pytest
from defusedxml import ElementTree as SafeET
from markdown_it import MarkdownIt

from podigest_dagster import settings
from podigest_dagster.core.ingest.download import DownloadError, download_audio
from podigest_dagster.core.ingest.feeds import fetch_feed
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.core.net import netguard
from podigest_dagster.defs.digest.assets import daily_digest, digest_delivery
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.ingest.assets import episode_audio, episodes
from podigest_dagster.defs.transcribe.assets import transcripts
from podigest_dagster.defs.transcribe.publisher import publisher_transcripts
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster_tests.core.ingest.test_feeds import BOMB, XXE, item, rss
from podigest_dagster_tests.defs.ingest.test_ingest_assets import Setup, metadata, mp3
from podigest_dagster_tests.reliability.hostile import assert_inert, endless, redirect, slow_bytes

DAY = "2026-11-20"
ON_DAY = "Fri, 20 Nov 2026 09:00:00 +0000"
MB = 1024 * 1024
SQLISH = "Robert'); DROP TABLE episodes;-- \" \\ %_ $1 ? :name /* x */ ; SELECT 1 \u2014 na\u00efve"


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@pytest.fixture
def setup(podigest_home, http_server) -> Setup:
    return Setup(podigest_home, http_server)


def feeds_rows(setup: Setup) -> dict[str, tuple]:
    rows = setup.sql("SELECT feed_url, last_status, last_error, title FROM feeds")
    return {url.rsplit("/", 1)[1]: (status, error, title) for url, status, error, title in rows}


def materialize_transcripts(setup, tmp_path) -> dg.ExecuteInProcessResult:
    """Only `transcripts`, on what the ingest assets stored."""
    return dg.materialize(
        [transcripts, episode_audio, publisher_transcripts, episodes],
        selection=[transcripts],
        partition_key=DAY,
        resources={
            "warehouse": setup.warehouse,
            "ingest": setup.settings(),
            "transcriber": TranscriberResource(models_dir=str(tmp_path / "models")),
        },
    )


def test_hostile_feeds_each_record_a_clear_error_and_the_good_feeds_are_stored(setup):
    server = setup.server
    good = rss(
        item("Good episode", guid="g1", pub=ON_DAY, enclosure="/audio/g1.mp3"),
        item("Year 9999", guid="g2", pub="Sat, 20 Nov 9999 10:00:00 +0000"),
        item("February 30th", guid="g3", pub="Mon, 30 Feb 2026 10:00:00 +0000"),
        item("Not a date", guid="g4", pub="the day after tomorrow"),
        title="Good Show",
    )
    server.add("/good.xml", good, Content_Type="application/rss+xml")
    server.add("/audio/g1.mp3", mp3("g1"), Content_Type="audio/mpeg")
    server.add("/bomb.xml", BOMB, Content_Type="application/rss+xml")
    server.add("/xxe.xml", XXE, Content_Type="application/rss+xml")
    head = rss().split(b"</channel>")[0]
    server.add_handler(
        "/huge.xml", endless(head, item("x", guid="x").encode(), "application/rss+xml", 100 * MB)
    )
    server.add_handler("/loop.xml", redirect(server.url("/loop2.xml")))
    server.add_handler("/loop2.xml", redirect(server.url("/loop.xml")))
    server.add_handler("/slow.xml", slow_bytes(0.3, "application/rss+xml"))
    server.add("/garbage.xml", bytes(range(256)) * 40, Content_Type="application/rss+xml")
    latin1 = rss(item("Caf\u00e9 cr\u00e8me", guid="l1", pub=ON_DAY), title="Caf\u00e9 Show").decode()
    server.add(
        "/mislabelled.xml", latin1.encode("latin-1"), Content_Type="application/rss+xml; charset=utf-8"
    )
    cp1252 = rss(
        item("\u201cSmart\u201d quotes \u2014 ok", guid="c1", pub=ON_DAY), title="Windows Show"
    ).decode()
    cp1252 = cp1252.replace('encoding="UTF-8"', 'encoding="windows-1252"')
    server.add("/cp1252.xml", cp1252.encode("cp1252"), Content_Type="text/xml")
    utf16 = rss(item("\u65e5\u672c\u8a9e episode", guid="u1", pub=ON_DAY), title="UTF-16 Show").decode()
    server.add("/utf16.xml", utf16.replace("UTF-8", "UTF-16").encode("utf-16"), Content_Type="text/xml")
    names = ["good", "bomb", "xxe", "huge", "loop", "slow", "garbage", "mislabelled", "cp1252", "utf16"]
    save_feeds(setup.feeds_file, [FeedSpec(server.url(f"/{n}.xml"), n) for n in names])

    result = setup.materialize(max_feed_bytes=MB, feed_deadline_s=1.5)

    assert result.success
    feeds = feeds_rows(setup)
    for name, reason in {
        "bomb.xml": "declares XML entities",
        "xxe.xml": "declares XML entities",
        "huge.xml": f"size cap of {MB} bytes",
        "loop.xml": "redirect loop",
        "slow.xml": "overall deadline",
        "garbage.xml": "not a feed",
    }.items():
        assert feeds[name][0] == "error" and reason in feeds[name][1], (name, feeds[name])
    for name in ("good.xml", "mislabelled.xml", "cp1252.xml", "utf16.xml"):
        assert feeds[name][0] == "ok", (name, feeds[name])
    titles = dict(setup.sql("SELECT title, date_status FROM episodes"))
    assert titles == {
        "Good episode": "ok",
        "Year 9999": "invalid",
        "February 30th": "invalid",
        "Not a date": "invalid",
        "Caf\u00e9 cr\u00e8me": "ok",
        "\u201cSmart\u201d quotes \u2014 ok": "ok",
        "\u65e5\u672c\u8a9e episode": "ok",
    }
    assert feeds["cp1252.xml"][2] == "Windows Show"
    assert setup.sql(
        "SELECT count(*) FROM episodes WHERE date_status = 'invalid' AND partition_date IS NOT NULL"
    ) == [(0,)]
    assert metadata(result, "episodes")["episodes_in_partition"] == 4
    assert metadata(result, "episode_audio")["downloaded"] == 1
    assert set(metadata(result, "episodes")["failed_feeds"]) == {
        server.url(f"/{n}.xml") for n in ("bomb", "xxe", "huge", "loop", "slow", "garbage")
    }


def test_a_100_mb_feed_is_cut_at_the_cap_without_being_held_in_memory(http_server):
    sent: list[int] = []
    head = rss().split(b"</channel>")[0]
    url = http_server.add_handler(
        "/huge.xml", endless(head, item("x", guid="x").encode(), "application/rss+xml", 100 * MB, sent)
    )
    cap = 20 * MB
    tracemalloc.start()
    try:
        fetched = fetch_feed(url, allow_private=True, max_bytes=cap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fetched.status == "error" and f"size cap of {cap} bytes" in (fetched.error or "")
    assert peak < 2 * cap
    give_up = time.monotonic() + 10
    while not sent and time.monotonic() < give_up:
        time.sleep(0.05)
    assert sent and sent[0] < 50 * MB
    declared = http_server.add("/declared.xml", b"", Content_Type="text/xml", Content_Length=str(100 * MB))
    refused = fetch_feed(declared, allow_private=True, max_bytes=cap)
    assert refused.status == "error" and f"{100 * MB} bytes is over the size cap" in (refused.error or "")


def test_a_byte_every_few_seconds_is_cut_by_the_overall_deadline_not_the_read_timeout(http_server, tmp_path):
    url = http_server.add_handler("/drip.mp3", slow_bytes(1.0, "audio/mpeg"))
    with pytest.raises(DownloadError, match="overall deadline of 2.5s exceeded"):
        download_audio(url, tmp_path, read_timeout_s=30, deadline_s=2.5, allow_private=True, retries=2)
    assert list(tmp_path.rglob("*.part")) == []


PRIVATE_TARGETS = [
    "http://127.0.0.2:{port}/secret",
    "http://10.0.0.5/admin",
    "http://172.16.3.4/",
    "http://192.168.1.1/router",
    "http://169.254.10.10/link-local",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://[::1]:{port}/secret",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://0.0.0.0:{port}/",
    "http://[::ffff:10.0.0.5]/mapped",
]


@pytest.mark.parametrize("target", PRIVATE_TARGETS)
def test_a_redirect_from_a_public_host_to_a_private_address_is_refused(
    http_server, tmp_path, monkeypatch, target
):
    """The test server stands in for a public host: only 127.0.0.1 is treated as public here."""
    real = netguard.is_forbidden
    monkeypatch.setattr(
        netguard, "is_forbidden", lambda a: a != ipaddress.ip_address("127.0.0.1") and real(a)
    )
    port = http_server.base_url.rsplit(":", 1)[1]
    url = http_server.add_handler("/ep.mp3", redirect(target.format(port=port)))
    with pytest.raises(DownloadError, match="refused .*(non-public|cloud metadata)"):
        download_audio(url, tmp_path, allow_private=False, retries=0)
    assert [p for p, _ in http_server.requests] == ["/ep.mp3"]
    assert list(tmp_path.rglob("*.part")) == []


def test_hostile_enclosures_each_record_a_clear_error_and_good_audio_is_stored(setup):
    server = setup.server
    enclosures = {
        "good": "/audio/good.mp3",
        "endless": "/audio/endless.mp3",
        "declared-huge": "/audio/declared.mp3",
        "html": "/audio/page.mp3",
        "not-audio": "/audio/text.mp3",
        "empty": "/audio/empty.mp3",
        "loop": "/audio/loop.mp3",
        "drip": "/audio/drip.mp3",
        "to-metadata": "/audio/to-metadata.mp3",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "file": "file:///etc/passwd",
        "ftp": "ftp://example.com/ep.mp3",
        "javascript": "javascript:alert(1)",
    }
    server.add("/audio/good.mp3", mp3("good"), Content_Type="audio/mpeg")
    server.add_handler("/audio/endless.mp3", endless(mp3("e")[:64], b"\xff\xfb\x90\x00", "audio/mpeg"))
    server.add("/audio/declared.mp3", b"", Content_Type="audio/mpeg", Content_Length=str(10**12))
    server.add("/audio/page.mp3", b"<html>paywall</html>", Content_Type="text/html")
    server.add("/audio/text.mp3", b"#EXTM3U\nnot audio at all\n" * 50, Content_Type="audio/mpeg")
    server.add("/audio/empty.mp3", b"", Content_Type="audio/mpeg")
    server.add_handler("/audio/loop.mp3", redirect("/audio/loop2.mp3"))
    server.add_handler("/audio/loop2.mp3", redirect("/audio/loop.mp3"))
    server.add_handler("/audio/drip.mp3", slow_bytes(0.3, "audio/mpeg"))
    server.add_handler("/audio/to-metadata.mp3", redirect("http://169.254.169.254/latest/meta-data/"))
    items = [item(name, guid=name, pub=ON_DAY, enclosure=xml_text(url)) for name, url in enclosures.items()]
    server.add("/feed.xml", rss(*items), Content_Type="application/rss+xml")
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/feed.xml"))])

    result = setup.materialize(max_audio_bytes=MB, download_deadline_s=1.5)

    assert result.success
    rows = {
        title: (status, error)
        for title, status, error in setup.sql(
            "SELECT e.title, a.status, a.error FROM episode_audio a JOIN episodes e USING (episode_id)"
        )
    }
    expected = {
        "endless": f"size cap of {MB} bytes",
        "declared-huge": f"{10**12} bytes is over the size cap",
        "html": "not audio: content type text/html",
        "not-audio": "not audio: unrecognised content",
        "empty": "empty response",
        "loop": "redirect loop",
        "drip": "overall deadline",
        "to-metadata": "cloud metadata address",
        "metadata": "cloud metadata address",
        "file": "outside the bundled demo directory",
        "ftp": "refused URL scheme 'ftp'",
        "javascript": "refused URL scheme 'javascript'",
    }
    assert rows.pop("good") == ("ok", None)
    assert {name: status for name, (status, _) in rows.items()} == dict.fromkeys(expected, "failed")
    for name, reason in expected.items():
        assert reason in rows[name][1], (name, rows[name])
    audio = setup.home / "audio"
    assert list(audio.rglob("*.part")) == []
    assert [p.name[:8] for p in audio.rglob("*.mp3")] == [setup.sql(
        "SELECT sha256 FROM episode_audio WHERE status = 'ok'")[0][0][:8]]  # fmt: skip
    assert metadata(result, "episode_audio")["failed"] == len(expected)


def test_sql_meta_characters_in_every_text_field_round_trip_verbatim(setup, tmp_path):
    server = setup.server
    vtt = f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n{SQLISH}\n"
    server.add("/t/ep.vtt", vtt, Content_Type="text/vtt")
    server.add("/audio/ep.mp3", mp3("sql"), Content_Type="audio/mpeg")
    enclosure = server.url("/audio/ep.mp3") + "?q=1';DROP TABLE episode_audio;--"
    link = "https://example.com/ep?id=1'%20OR%20'1'='1"
    extra = (
        f"<description>{xml_text(SQLISH)} notes</description><link>{xml_text(link)}</link>"
        f'<podcast:transcript url="/t/ep.vtt" type="text/vtt"/>'
    )
    body = rss(
        item(
            xml_text(SQLISH),
            guid=xml_text(SQLISH + " guid"),
            pub=ON_DAY,
            enclosure=xml_text(enclosure),
            extra=extra,
        ),
        title=xml_text(SQLISH + " show"),
    )
    server.add("/feed.xml", body, Content_Type="application/rss+xml")
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/feed.xml"))])
    assert setup.materialize().success
    assert materialize_transcripts(setup, tmp_path).success

    [row] = setup.sql("SELECT podcast, guid, title, show_notes, link, enclosure_url FROM episodes")
    assert row == (SQLISH + " show", SQLISH + " guid", SQLISH, SQLISH + " notes", link, enclosure)
    assert setup.sql("SELECT title FROM feeds") == [(SQLISH + " show",)]
    assert setup.sql("SELECT source_url, status FROM episode_audio") == [(enclosure, "ok")]
    assert setup.sql("SELECT text FROM transcript_segments") == [(SQLISH,)]
    tables = {t for (t,) in setup.sql("SELECT table_name FROM information_schema.tables")}
    assert {"episodes", "episode_audio", "feeds", "transcripts", "transcript_segments"} <= tables


def test_text_that_is_not_valid_unicode_is_stored_with_replacement_characters(setup, tmp_path):
    server = setup.server
    server.add(
        "/t/ep.json",
        b'{"segments": [{"startTime": 0, "endTime": 3, "body": "Caf\\ud800 open late."}]}',
        Content_Type="application/json",
    )
    extra = '<description>notes &#xD800;</description><podcast:transcript url="/t/ep.json" type="application/json"/>'
    server.add(
        "/feed.xml", rss(item("Ep &#xD800;", guid="s1", pub=ON_DAY, extra=extra), title="Show &#xD800;")
    )
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/feed.xml"))])
    assert setup.materialize(selection=[episodes]).success
    for _ in range(2):
        assert materialize_transcripts(setup, tmp_path).success

    assert setup.sql("SELECT podcast, title, show_notes FROM episodes") == [
        ("Show \ufffd", "Ep \ufffd", "notes \ufffd")
    ]
    assert setup.sql("SELECT status, source FROM transcripts") == [("ok", "publisher")]
    assert setup.sql("SELECT text FROM transcript_segments") == [("Caf\ufffd open late.",)]


def test_an_absurd_enclosure_length_drops_only_the_length_not_the_feed(setup):
    server = setup.server
    huge = '<enclosure url="/a/huge.mp3" type="audio/mpeg" length="99999999999999999999"/>'
    negative = '<enclosure url="/a/neg.mp3" type="audio/mpeg" length="-1"/>'
    body = rss(
        item("huge", guid="h", pub=ON_DAY, extra=huge),
        item("negative", guid="n", pub=ON_DAY, extra=negative),
        item("fine", guid="f", pub=ON_DAY, enclosure="/a/fine.mp3"),
    )
    server.add("/feed.xml", body, Content_Type="application/rss+xml")
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/feed.xml"))])
    assert setup.materialize(selection=[episodes]).success
    assert setup.sql("SELECT title, enclosure_length FROM episodes ORDER BY title") == [
        ("fine", 4096),
        ("huge", None),
        ("negative", None),
    ]
    assert setup.sql("SELECT last_status, last_error FROM feeds") == [("ok", None)]


PAYLOADS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    '"><svg onload=alert(1)>',
    "&lt;b&gt;already escaped&lt;/b&gt;",
    '<!-- hidden --><iframe src="https://evil.example/">',
]


def hostile_top_insights(db_path: str) -> None:
    sources = [
        {"podcast": PAYLOADS[1], "episode": PAYLOADS[3], "url": "javascript:alert(1)", "start_s": 5.0},
        {"podcast": PAYLOADS[4], "episode": PAYLOADS[5], "url": "data:text/html,<script>alert(1)</script>",
         "start_s": 65.0},
        {"podcast": "Fine Show", "episode": PAYLOADS[2],
         "url": 'https://ok.example/a.mp3#t=5"><script>alert(2)</script>', "start_s": 5.0},
    ]  # fmt: skip
    resource = WarehouseResource(database=db_path)
    with resource.get_connection() as conn:
        conn.execute(
            "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
            "support, score, sources, rewrite_status) VALUES (?, 1, 1, 'c1', ?, ?, 2, 1.0, ?, 'extractive')",
            [DAY, " ".join(PAYLOADS[:3]), " ".join(PAYLOADS[:3]), json.dumps(sources)],
        )


def test_html_and_script_in_titles_and_notes_are_inert_in_every_rendering(podigest_home):
    db_path = str(settings.warehouse_path())
    hostile_top_insights(db_path)
    result = dg.materialize(
        [daily_digest, digest_delivery],
        partition_key=DAY,
        resources={"warehouse": WarehouseResource(database=db_path), "mailer": MailerResource()},
    )
    assert result.success
    folder = settings.digests_dir()
    shown = [" ".join(PAYLOADS[:3]), *PAYLOADS[1:]]

    assert_inert((folder / f"{DAY}.html").read_text(encoding="utf-8"), shown)
    markdown = (folder / f"{DAY}.md").read_text(encoding="utf-8")
    assert_inert(MarkdownIt("commonmark").render(markdown), shown)
    preview = result.asset_materializations_for_node("daily_digest")[0].metadata["preview"].value
    assert_inert(MarkdownIt("commonmark").render(preview), shown)
    feed = SafeET.fromstring((folder / "digests.xml").read_bytes())
    [description] = [d.text for d in feed.iter("description") if d.text and "<table" in d.text]
    assert_inert(description, shown)
    data = json.loads((folder / f"{DAY}.json").read_text(encoding="utf-8"))
    assert data["items"][0]["insight"] == " ".join(PAYLOADS[:3])
    assert [s["podcast"] for s in data["items"][0]["sources"]] == [PAYLOADS[1], PAYLOADS[4], "Fine Show"]
    text = (folder / f"{DAY}.txt").read_text(encoding="utf-8")
    assert "javascript:" not in text.replace(PAYLOADS[2], "") and "data:text" not in text


def test_the_bundled_demo_is_the_only_file_url_served(tmp_path):
    demo_audio = next(p for p in settings.demo_dir().rglob("*") if p.suffix in {".mp3", ".wav", ".ogg"})
    stored = download_audio(demo_audio.as_uri(), tmp_path, retries=0)
    assert Path(stored.path).read_bytes() == demo_audio.read_bytes()
    outside = tmp_path / "x.mp3"
    outside.write_bytes(demo_audio.read_bytes())
    for url in (
        outside.as_uri(),
        (settings.demo_dir() / ".." / "settings.py").as_uri(),
        "file://evil.example/x.mp3",
    ):
        with pytest.raises(DownloadError, match="refused file:// URL"):
            download_audio(url, tmp_path, retries=0)


def test_urls_with_spaces_or_non_ascii_characters_are_fetched_percent_encoded(http_server, tmp_path):
    http_server.add("/caf%C3%A9%20cr%C3%A8me.mp3", mp3("cafe"), Content_Type="audio/mpeg")
    stored = download_audio(
        http_server.url("/caf\u00e9 cr\u00e8me.mp3"), tmp_path, allow_private=True, retries=0
    )
    assert Path(stored.path).read_bytes() == mp3("cafe")
    assert [p for p, _ in http_server.requests] == ["/caf%C3%A9%20cr%C3%A8me.mp3"]
