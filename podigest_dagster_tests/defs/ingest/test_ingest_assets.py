"""episodes and episode_audio materialised through Dagster against a real warehouse and a local HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from podigest_dagster.core.ingest import feeds
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.core.text.display import md_cell
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.ingest.assets import episode_audio, episodes
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster_tests.core.ingest.test_feeds import item, rss

DAY = "2026-11-20"
ON_DAY = "Fri, 20 Nov 2026 09:00:00 +0000"
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Show</title><id>urn:atom</id>
<updated>2026-11-20T12:00:00Z</updated>
<entry><title>Atom episode</title><id>urn:atom:1</id><published>2026-11-20T12:00:00Z</published>
<link rel="enclosure" href="/audio/atom.mp3" type="audio/mpeg" length="4000"/></entry></feed>"""


# The transcript-first step, not run here (no episode of these feeds links a transcript).
PUBLISHER_CHECKED = dg.AssetSpec("publisher_transcripts", partitions_def=daily_partitions)


def mp3(tag: str) -> bytes:
    """A few KB that start like an MP3 file, distinct per episode."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + tag.encode() * 8 + bytes(range(256)) * 12


def conditional(body: bytes, etag: str):
    """A feed route that honours If-None-Match, as real podcast hosts do."""

    def handle(req):
        if req.headers.get("If-None-Match") == etag:
            req.send_response(304)
            req.send_header("ETag", etag)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("ETag", etag)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    return handle


class Setup:
    def __init__(self, home: Path, server) -> None:
        self.home, self.server = home, server
        self.feeds_file = home / "feeds.yaml"
        self.warehouse = WarehouseResource(database=str(home / "w.duckdb"))

    def settings(self, **overrides) -> IngestSettings:
        options = {
            "feeds_file": str(self.feeds_file),
            "audio_dir": str(self.home / "audio"),
            "retries": 1,
            "backoff_s": 0.01,
            "feed_deadline_s": 5.0,
            "download_deadline_s": 5.0,
        }
        return IngestSettings(**(options | overrides))

    def materialize(
        self, assets=(episodes, episode_audio), selection=None, **overrides
    ) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [episodes, episode_audio, PUBLISHER_CHECKED] if selection else [*assets, PUBLISHER_CHECKED],
            selection=selection or list(assets),
            resources={"warehouse": self.warehouse, "ingest": self.settings(**overrides)},
            partition_key=DAY,
        )

    def sql(self, query: str, params=None) -> list[tuple]:
        with duckdb.connect(self.warehouse.database, read_only=True) as conn:
            return conn.execute(query, params or []).fetchall()


@pytest.fixture
def setup(podigest_home, http_server) -> Setup:
    s = Setup(podigest_home, http_server)
    main = rss(
        item("Day one", guid="a1", pub=ON_DAY, enclosure="/audio/a1.mp3"),
        item("Robert'); DROP TABLE episodes;-- &lt;script&gt;x&lt;/script&gt;", guid="a2", pub="Fri, 20 Nov 2026 22:00:00 +0000",
             enclosure="/audio/a2.mp3"),
        item("Day before", guid="a0", pub="Thu, 19 Nov 2026 23:00:00 +0000", enclosure="/audio/a0.mp3"),
        item("Undated", guid="u1", pub=None, enclosure="/audio/u1.mp3"),
        item("No enclosure", guid="n1", pub=ON_DAY),
        title="Main Show",
    )  # fmt: skip
    http_server.add_handler("/main.xml", conditional(main, '"main-v1"'))
    http_server.add("/atom.xml", ATOM, Content_Type="application/atom+xml")
    http_server.add("/broken.xml", b'<?xml version="1.0"?><rss version="2.0"><chan', Content_Type="text/xml")
    http_server.add(
        "/page.html", b"<!DOCTYPE html><html><body>Welcome</body></html>", Content_Type="text/html"
    )
    for name in ("a1", "a2", "a0", "u1", "atom"):
        http_server.add(f"/audio/{name}.mp3", mp3(name), Content_Type="audio/mpeg")
    save_feeds(
        s.feeds_file,
        [
            FeedSpec(http_server.url("/main.xml"), "Main"),
            FeedSpec(http_server.url("/atom.xml")),
            FeedSpec(http_server.url("/gone.xml"), "Gone"),
            FeedSpec(http_server.url("/broken.xml"), "Broken"),
            FeedSpec(http_server.url("/page.html"), "Page"),
        ],
    )
    return s


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_partition_is_ingested_and_its_audio_downloaded(setup):
    result = setup.materialize()
    assert result.success
    rows = setup.sql(
        "SELECT title, partition_date::VARCHAR, date_status, podcast FROM episodes ORDER BY title"
    )
    assert len(rows) == 6
    assert ("Undated", None, "missing", "Main") in rows
    assert ("Day before", "2026-11-19", "ok", "Main") in rows
    assert ("Atom episode", DAY, "ok", "Atom Show") in rows
    assert ("Robert'); DROP TABLE episodes;-- <script>x</script>", DAY, "ok", "Main") in rows

    audio = setup.sql(
        "SELECT e.title, a.status, a.path, a.bytes FROM episode_audio a JOIN episodes e USING (episode_id) ORDER BY 1"
    )
    assert [(t, s) for t, s, _, _ in audio] == [
        ("Atom episode", "ok"),
        ("Day one", "ok"),
        ("No enclosure", "no_enclosure"),
        ("Robert'); DROP TABLE episodes;-- <script>x</script>", "ok"),
    ]
    for _, status, path, size in audio:
        if status == "ok":
            assert Path(path).read_bytes()[:3] == b"ID3" and Path(path).stat().st_size == size
    assert setup.server.hits("/audio/a0.mp3") == 0 and setup.server.hits("/audio/u1.mp3") == 0

    meta = metadata(result, "episodes")
    assert (meta["feeds_ok"], meta["feeds_failed"], meta["episodes_in_partition"]) == (2, 3, 4)
    assert meta["undated_entries_seen"] == 1
    assert "| Gone | error | 404 | 0 | HTTP 404 Not Found from 127.0.0.1 |" in meta["feeds"]
    audio_meta = metadata(result, "episode_audio")
    assert (audio_meta["downloaded"], audio_meta["failed"], audio_meta["no_enclosure"]) == (3, 0, 1)
    assert audio_meta["bytes_downloaded"] == sum(s for _, st, _, s in audio if st == "ok")


def test_broken_feeds_are_recorded_and_the_others_go_on(setup):
    result = setup.materialize(assets=(episodes,))
    feeds = dict((u.rsplit("/", 1)[1], (s, h, e)) for u, s, h, e in setup.sql(
        "SELECT feed_url, last_status, last_http_status, last_error FROM feeds"))  # fmt: skip
    assert feeds["main.xml"][:2] == ("ok", 200) and feeds["atom.xml"][:2] == ("ok", 200)
    assert feeds["gone.xml"][:2] == ("error", 404) and "HTTP 404" in feeds["gone.xml"][2]
    assert feeds["broken.xml"][0] == "error" and "not a feed" in feeds["broken.xml"][2]
    assert feeds["page.html"][0] == "error" and "HTML page" in feeds["page.html"][2]
    failed = metadata(result, "episodes")["failed_feeds"]
    assert {u.rsplit("/", 1)[1] for u in failed} == {"gone.xml", "broken.xml", "page.html"}


def test_reprocessing_a_partition_adds_no_rows_and_downloads_nothing_again(setup):
    setup.materialize()
    before = setup.sql("SELECT episode_id, first_seen_at FROM episodes ORDER BY 1")
    audio_before = setup.sql("SELECT * FROM episode_audio ORDER BY 1")
    result = setup.materialize()
    assert result.success
    assert setup.sql("SELECT episode_id, first_seen_at FROM episodes ORDER BY 1") == before
    assert setup.sql("SELECT * FROM episode_audio ORDER BY 1") == audio_before
    for name in ("a1", "a2", "atom"):
        assert setup.server.hits(f"/audio/{name}.mp3") == 1
    main_requests = [h for p, h in setup.server.requests if p == "/main.xml"]
    assert main_requests[-1].get("If-None-Match") == '"main-v1"'
    meta = metadata(result, "episodes")
    assert (meta["feeds_ok"], meta["feeds_not_modified"], meta["episodes_in_partition"]) == (1, 1, 4)
    assert setup.sql("SELECT last_status, etag FROM feeds WHERE feed_url LIKE '%main.xml'") == [
        ("not_modified", '"main-v1"')
    ]
    audio_meta = metadata(result, "episode_audio")
    assert (audio_meta["already_present"], audio_meta["no_enclosure"], audio_meta["downloaded"]) == (3, 1, 0)


def test_audio_deleted_from_its_row_but_kept_on_disk_is_not_downloaded_again(setup):
    setup.materialize()
    with duckdb.connect(setup.warehouse.database) as conn:
        conn.execute("UPDATE episode_audio SET path = '/nowhere/x.mp3'")
    setup.materialize(selection=[episode_audio])
    assert setup.server.hits("/audio/a1.mp3") == 1
    assert all(Path(p).is_file() for (p,) in setup.sql("SELECT path FROM episode_audio WHERE status = 'ok'"))


def test_expired_enclosure_url_is_re_read_from_the_feed(setup):
    server = setup.server
    old = rss(item("Signed", guid="s1", pub=ON_DAY, enclosure="/audio/s.mp3?sig=old"), title="Signed Show")
    server.add("/signed.xml", old)
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/signed.xml"))])
    setup.materialize(assets=(episodes,))
    server.add("/signed.xml", old.replace(b"sig=old", b"sig=new"))
    server.add("/audio/s.mp3?sig=old", b"expired", status=403)
    server.add("/audio/s.mp3?sig=new", mp3("signed"), Content_Type="audio/mpeg")
    result = setup.materialize(selection=[episode_audio])
    assert metadata(result, "episode_audio")["downloaded"] == 1
    assert setup.sql("SELECT source_url, status FROM episode_audio") == [
        (server.url("/audio/s.mp3?sig=new"), "ok")
    ]
    assert [p for p, _ in server.requests if p.startswith("/audio/s.mp3")] == ["/audio/s.mp3?sig=new"]


def test_unreachable_feed_falls_back_to_the_stored_enclosure(setup):
    server = setup.server
    server.add("/flaky.xml", rss(item("F", guid="f1", pub=ON_DAY, enclosure="/audio/f.mp3")))
    server.add("/audio/f.mp3", mp3("f"), Content_Type="audio/mpeg")
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/flaky.xml"))])
    setup.materialize(assets=(episodes,))
    server.add("/flaky.xml", b"", status=500)
    result = setup.materialize(selection=[episode_audio], retries=0)
    assert metadata(result, "episode_audio")["downloaded"] == 1


def test_a_feed_that_breaks_the_parser_falls_back_to_the_stored_enclosure(setup, monkeypatch):
    server = setup.server
    server.add("/odd.xml", rss(item("O", guid="o1", pub=ON_DAY, enclosure="/audio/o.mp3")))
    server.add("/audio/o.mp3", mp3("o"), Content_Type="audio/mpeg")
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/odd.xml"))])
    setup.materialize(assets=(episodes,))

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(feeds, "parse_feed", explode)
    result = setup.materialize(selection=[episode_audio])
    assert metadata(result, "episode_audio")["downloaded"] == 1
    assert setup.sql("SELECT status FROM episode_audio") == [("ok",)]


def test_failed_download_is_recorded_and_retried_on_the_next_run(setup):
    setup.server.add("/audio/a1.mp3", b"<html>paywall</html>", Content_Type="text/html")
    result = setup.materialize()
    assert result.success
    [(status, error, attempts)] = setup.sql(
        "SELECT status, error, attempts FROM episode_audio a JOIN episodes e USING (episode_id) WHERE e.guid = 'a1'"
    )
    assert (status, attempts) == ("failed", 1) and "content type text/html" in error
    assert metadata(result, "episode_audio")["failed"] == 1
    setup.server.add("/audio/a1.mp3", mp3("a1"), Content_Type="audio/mpeg")
    setup.materialize(selection=[episode_audio])
    assert setup.sql(
        "SELECT status, attempts FROM episode_audio a JOIN episodes e USING (episode_id) WHERE e.guid = 'a1'"
    ) == [("ok", 2)]


def test_loopback_enclosure_is_refused_when_private_network_is_not_allowed(setup):
    setup.materialize(assets=(episodes,))
    result = setup.materialize(selection=[episode_audio], allow_private_network=False)
    assert result.success
    errors = {e for (e,) in setup.sql("SELECT error FROM episode_audio WHERE status = 'failed'")}
    assert errors and all("non-public" in e for e in errors)
    assert setup.server.hits("/audio/a1.mp3") == 0


def test_transcript_links_are_stored_as_json(setup):
    server = setup.server
    extra = '<podcast:transcript url="/t/ep.vtt" type="text/vtt"/>'
    server.add("/t.xml", rss(item("T", guid="t1", pub=ON_DAY, extra=extra)))
    save_feeds(setup.feeds_file, [FeedSpec(server.url("/t.xml"))])
    setup.materialize(assets=(episodes,))
    [(links,)] = setup.sql("SELECT transcript_urls FROM episodes")
    assert json.loads(links) == [{"url": server.url("/t/ep.vtt"), "type": "text/vtt"}]


def test_media_content_audio_is_downloaded_and_empty_items_are_reported_as_skipped(setup):
    server = setup.server
    media = '<media:content url="/audio/mc.mp3" fileSize="4000" type="audio/mpeg" medium="audio"/>'
    body = rss(item("Media only", guid="mc1", pub=ON_DAY, extra=media), "<item></item>", "<item> </item>")
    server.add("/mc.xml", body.replace(b"<rss ", b'<rss xmlns:media="http://search.yahoo.com/mrss/" ', 1))
    server.add("/audio/mc.mp3", mp3("mc"), Content_Type="audio/mpeg")
    server.add(
        "/unbound.xml",
        b'<rss version="2.0"><channel><title>U</title><itunes:author>x</itunes:author></channel></rss>',
    )
    save_feeds(
        setup.feeds_file,
        [FeedSpec(server.url("/mc.xml"), "Media"), FeedSpec(server.url("/unbound.xml"), "U")],
    )
    result = setup.materialize()
    assert setup.sql("SELECT title, enclosure_url FROM episodes") == [
        ("Media only", server.url("/audio/mc.mp3"))
    ]
    assert setup.sql("SELECT status FROM episode_audio") == [("ok",)] and server.hits("/audio/mc.mp3") == 1
    meta = metadata(result, "episodes")
    assert (meta["entries_seen"], meta["entries_skipped"]) == (1, 2)
    assert meta["skipped_entries"] == {server.url("/mc.xml"): {feeds.SKIP_EMPTY: 2}}
    assert meta["failed_feeds"] == {server.url("/unbound.xml"): "not a feed (unbound prefix)"}
    assert setup.sql("SELECT last_status, last_error FROM feeds WHERE name = 'U'") == [
        ("error", "not a feed (unbound prefix)")
    ]


def test_missing_feeds_file_fails_with_the_reason(setup):
    setup.feeds_file.unlink()
    with pytest.raises(dg.Failure, match="feeds file not found"):
        setup.materialize(assets=(episodes,))


def test_a_feed_url_with_a_bad_port_fails_with_a_clear_reason_naming_the_feed(setup):
    setup.feeds_file.write_text("feeds:\n  - url: http://127.0.0.1:99999/feed?token=SECRET\n    name: Typo\n")
    with pytest.raises(
        dg.Failure, match=r"feed #1 \(Typo\): url 'http://127.0.0.1:99999/feed\?…' is malformed"
    ):
        setup.materialize(assets=(episodes,))


def test_markdown_cells_cannot_inject_markup():
    assert (
        md_cell("a|b <img src=x> [x](javascript:y)\nnext")
        == "a\\|b \\<img src=x\\> \\[x\\](javascript:y) next"
    )
