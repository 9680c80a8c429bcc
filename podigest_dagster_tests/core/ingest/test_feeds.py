"""Feed fetching and normalisation: real feeds served on 127.0.0.1, hostile ones included."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from podigest_dagster.core.ingest.feeds import SKIP_EMPTY, fetch_feed, parse_duration, parse_feed, poll_feed
from podigest_dagster.core.net.html_text import html_to_text
from podigest_dagster_tests.support.http_server import trickle

NOW = datetime(2026, 11, 29, tzinfo=UTC)
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def item(
    title: str,
    guid: str | None = None,
    pub: str | None = "Fri, 20 Nov 2026 10:00:00 +0000",
    enclosure: str | None = None,
    extra: str = "",
) -> str:
    """One RSS <item>; None leaves an element out."""
    parts = [f"<title>{title}</title>"]
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if pub is not None:
        parts.append(f"<pubDate>{pub}</pubDate>")
    if enclosure is not None:
        parts.append(f'<enclosure url="{enclosure}" type="audio/mpeg" length="4096"/>')
    return "<item>" + "".join(parts) + extra + "</item>"


def rss(*items: str, title: str = "Test Show") -> bytes:
    """An RSS 2.0 document with iTunes and podcast namespaces around `items`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:itunes="{ITUNES}" '
        f'xmlns:podcast="{PODCAST_NS}"><channel><title>{title}</title><link>https://example.com</link>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


FEED = "https://example.com/feed.xml"


def test_rss_with_itunes_tags_is_normalised():
    body = rss(
        item(
            "Episode 1 &amp; more",
            guid="ep-1",
            pub="Fri, 20 Nov 2026 23:30:00 -0200",
            enclosure="media/ep1.mp3?token=abc",
            extra=(
                "<link>https://example.com/ep1</link><itunes:duration>1:02:03</itunes:duration>"
                "<description>&lt;p&gt;Notes &lt;b&gt;bold&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;"
                "</description>"
                '<podcast:transcript url="/t/ep1.vtt" type="text/vtt"/>'
                '<podcast:transcript url="https://cdn.example.com/ep1.srt" type="application/srt"/>'
            ),
        )
    )
    parsed = parse_feed(body, FEED, None, now=NOW)
    assert parsed.error is None and parsed.title == "Test Show"
    [ep] = parsed.episodes
    assert ep.podcast == "Test Show" and ep.guid == "ep-1" and ep.title == "Episode 1 & more"
    assert ep.published_at == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    assert ep.partition_date == date(2026, 11, 21) and ep.date_status == "ok"
    assert ep.enclosure_url == "https://example.com/media/ep1.mp3?token=abc"
    assert (ep.enclosure_type, ep.enclosure_length, ep.duration_s) == ("audio/mpeg", 4096, 3723.0)
    assert ep.link == "https://example.com/ep1"
    assert ep.show_notes == "Notes bold"
    assert ep.transcript_urls == [
        {"url": "https://example.com/t/ep1.vtt", "type": "text/vtt"},
        {"url": "https://cdn.example.com/ep1.srt", "type": "application/srt"},
    ]
    assert len(ep.episode_id) == 40


def test_atom_feed_is_normalised():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Show</title><id>urn:show</id>
<updated>2026-11-20T12:00:00Z</updated>
<entry><title>Atom one</title><id>urn:ep:1</id><published>2026-11-20T08:15:00+01:00</published>
<updated>2026-11-21T08:15:00Z</updated>
<link rel="alternate" href="https://example.com/a1"/>
<link rel="enclosure" href="https://cdn.example.com/a1.m4a" type="audio/x-m4a" length="99"/>
<summary>Plain summary</summary></entry></feed>"""
    parsed = parse_feed(body, FEED, "My Name", now=NOW)
    [ep] = parsed.episodes
    assert parsed.title == "Atom Show" and ep.podcast == "My Name"
    assert ep.guid == "urn:ep:1" and ep.title == "Atom one"
    assert ep.published_at == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert ep.enclosure_url == "https://cdn.example.com/a1.m4a" and ep.enclosure_length == 99
    assert ep.link == "https://example.com/a1" and ep.show_notes == "Plain summary"


def test_episode_id_is_stable_across_polls_and_depends_on_the_feed():
    body = rss(item("A", guid="g1"))
    first = parse_feed(body, FEED, now=NOW).episodes[0].episode_id
    assert parse_feed(body, FEED, now=NOW).episodes[0].episode_id == first
    assert parse_feed(body, "https://other.example/feed", now=NOW).episodes[0].episode_id != first


def test_missing_guid_falls_back_to_enclosure_without_query_and_title():
    one = parse_feed(rss(item("A", enclosure="https://cdn.example.com/a.mp3?sig=1")), FEED, now=NOW)
    two = parse_feed(rss(item("A", enclosure="https://cdn.example.com/a.mp3?sig=2")), FEED, now=NOW)
    assert one.episodes[0].guid is None
    assert one.episodes[0].episode_id == two.episodes[0].episode_id


def test_duplicate_guids_do_not_merge_different_episodes():
    body = rss(
        item("A", guid="same", enclosure="https://cdn.example.com/a.mp3"),
        item("B", guid="same", enclosure="https://cdn.example.com/b.mp3"),
    )
    episodes = parse_feed(body, FEED, now=NOW).episodes
    assert [e.title for e in episodes] == ["A", "B"]
    assert episodes[0].episode_id != episodes[1].episode_id


def test_identical_duplicate_entries_are_kept_once():
    entry = item("A", guid="same", enclosure="https://cdn.example.com/a.mp3")
    assert len(parse_feed(rss(entry, entry), FEED, now=NOW).episodes) == 1


def test_missing_pub_date_is_recorded_as_missing_not_today():
    [ep] = parse_feed(rss(item("Undated", guid="u", pub=None)), FEED, now=NOW).episodes
    assert (ep.published_at, ep.partition_date, ep.date_status) == (None, None, "missing")


@pytest.mark.parametrize(
    "pub",
    [
        "Sat, 20 Nov 9999 10:00:00 GMT",
        "not a date",
        "Mon, 01 Jan 0000 00:00:00 GMT",
        "Tue, 01 Jan 1980 00:00:00 GMT",
    ],
)
def test_impossible_or_unreadable_dates_are_invalid(pub):
    [ep] = parse_feed(rss(item("Odd", guid="o", pub=pub)), FEED, now=NOW).episodes
    assert (ep.published_at, ep.partition_date, ep.date_status) == (None, None, "invalid")


def test_entries_keep_their_own_days():
    body = rss(
        item("a", guid="a", pub="Thu, 19 Nov 2026 23:59:59 +0000"),
        item("b", guid="b", pub="Fri, 20 Nov 2026 00:00:00 +0000"),
        item("c", guid="c", pub="Sat, 21 Nov 2026 00:00:00 +0000"),
    )
    days = [e.partition_date for e in parse_feed(body, FEED, now=NOW).episodes]
    assert days == [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)]


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("3723", 3723.0),
        ("62:03", 3723.0),
        ("1:02:03", 3723.0),
        ("90.5", 90.5),
        ("", None),
        ("abc", None),
        ("-5", None),
    ],
)
def test_itunes_duration_forms(value, seconds):
    assert parse_duration(value) == seconds


def test_malformed_xml_without_entries_is_an_error():
    parsed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><chan', FEED, now=NOW)
    assert parsed.error and "not a feed" in parsed.error and parsed.episodes == []


def test_malformed_xml_with_recoverable_entries_warns():
    body = rss(item("A", guid="a")).replace(b"</channel>", b"<broken></channel>")
    parsed = parse_feed(body, FEED, now=NOW)
    assert parsed.error is None and len(parsed.episodes) == 1
    assert parsed.warning and "not well-formed" in parsed.warning


def test_html_page_is_not_a_feed():
    parsed = parse_feed(b"<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>", FEED)
    assert parsed.error == "not a feed: the URL returned an HTML page"


def test_empty_but_valid_feed_has_no_error():
    parsed = parse_feed(rss(), FEED, now=NOW)
    assert parsed.error is None and parsed.episodes == [] and parsed.title == "Test Show"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title><item><title>&d;</title></item></channel></rss>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&x;</title></item></channel></rss>"""


@pytest.mark.parametrize(
    "body", [BOMB, XXE, BOMB.decode().encode("utf-16")], ids=["bomb", "xxe", "utf16-bomb"]
)
def test_entity_declarations_are_refused_before_parsing(body):
    parsed = parse_feed(body, FEED, now=NOW)
    assert parsed.episodes == [] and "declares XML entities" in (parsed.error or "")


def test_plain_doctype_without_entities_is_accepted():
    body = rss(item("A", guid="a")).replace(
        b"<rss", b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd">\n<rss', 1
    )
    assert len(parse_feed(body, FEED, now=NOW).episodes) == 1


def test_wrongly_declared_encoding_still_parses():
    body = rss(item("Caf\u00e9", guid="c")).decode().encode("latin-1")
    [ep] = parse_feed(body, FEED, now=NOW).episodes
    assert ep.title and ep.title.startswith("Caf")


def test_html_to_text_drops_scripts_and_keeps_paragraphs():
    assert html_to_text("<p>One &amp; two</p><script>x()</script><p>Three</p>") == "One & two\n\nThree"


def test_fetch_sends_conditional_headers_and_keeps_validators_on_304(http_server):
    url = http_server.add(
        "/feed.xml", rss(item("A", guid="a")), ETag='"v1"', Last_Modified="Fri, 20 Nov 2026 00:00:00 GMT"
    )
    first = fetch_feed(url, allow_private=True)
    assert first.status == "ok" and first.etag == '"v1"' and first.body
    http_server.add("/feed.xml", b"", status=304)
    second = fetch_feed(url, first.etag, first.last_modified, allow_private=True)
    assert (second.status, second.http_status, second.etag) == ("not_modified", 304, '"v1"')
    assert second.last_modified == "Fri, 20 Nov 2026 00:00:00 GMT" and second.body is None
    sent = http_server.requests[-1][1]
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == "Fri, 20 Nov 2026 00:00:00 GMT"


def test_fetch_404_is_an_error_with_status(http_server):
    result = fetch_feed(http_server.url("/gone.xml"), allow_private=True)
    assert (result.status, result.http_status) == ("error", 404)
    assert "HTTP 404" in (result.error or "")


def test_fetch_follows_a_redirect_and_reports_the_final_url(http_server):
    final = http_server.add("/new.xml", rss(item("A", guid="a")))

    def moved(req):
        req.send_response(301)
        req.send_header("Location", "/new.xml")
        req.send_header("Content-Length", "0")
        req.end_headers()

    result = fetch_feed(http_server.add_handler("/old.xml", moved), allow_private=True)
    assert result.status == "ok" and result.final_url == final


def test_fetch_of_a_trickling_feed_ends_at_the_deadline(http_server):
    url = http_server.add_handler("/slow.xml", trickle(500, 0.05, "application/rss+xml"))
    result = fetch_feed(url, allow_private=True, deadline_s=0.4)
    assert result.status == "error" and "deadline" in (result.error or "")


def test_fetch_of_a_feed_over_the_cap_is_an_error(http_server):
    url = http_server.add("/huge.xml", rss(*[item(f"e{i}", guid=str(i)) for i in range(200)]))
    result = fetch_feed(url, allow_private=True, max_bytes=1000)
    assert result.status == "error" and "size cap" in (result.error or "")


def test_fetch_retries_transient_errors(http_server):
    calls = []

    def flaky(req):
        calls.append(1)
        body = rss(item("A", guid="a"))
        status = 503 if len(calls) < 2 else 200
        req.send_response(status)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    url = http_server.add_handler("/flaky.xml", flaky)
    assert fetch_feed(url, allow_private=True, retries=2, backoff_s=0.01).status == "ok"
    assert len(calls) == 2


def test_a_feed_that_breaks_the_parser_unexpectedly_is_an_error_not_a_crash(http_server, monkeypatch):
    from podigest_dagster.core.ingest import feeds

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(feeds, "parse_feed", explode)
    url = http_server.add("/odd.xml", "<rss version='2.0'><channel><title>x</title></channel></rss>",
                          Content_Type="application/rss+xml")
    poll = feeds.poll_feed(url, "Odd", None, None, allow_private=True)
    assert poll.status == "error" and "RecursionError" in poll.error


@pytest.mark.parametrize("ref", ["&#xD800;", "&#55296;", "&#x110000;", "&#99999999999999999999999;"])
def test_a_character_reference_to_no_character_becomes_a_replacement_character(ref):
    body = rss(
        item(f"Episode {ref} one", guid="g1", extra=f"<description>notes {ref}</description>"),
        title=f"Show {ref}",
    )
    parsed = parse_feed(body, FEED, now=NOW)
    [episode] = parsed.episodes
    assert (parsed.error, parsed.title) == (None, "Show \ufffd")
    assert (episode.title, episode.show_notes) == ("Episode \ufffd one", "notes \ufffd")


@pytest.mark.parametrize(
    ("length", "kept"),
    [("4096", 4096), (str(2**62), 2**62), ("99999999999999999999", None), ("-5", None), ("0", None),
     ("²", None), ("12 MB", None)],
)  # fmt: skip
def test_an_enclosure_length_that_cannot_be_true_is_left_out(length, kept):
    extra = f'<enclosure url="/a.mp3" type="audio/mpeg" length="{length}"/>'
    [episode] = parse_feed(rss(item("Ep", guid="g1", extra=extra)), FEED, now=NOW).episodes
    assert episode.enclosure_length == kept


MEDIA_NS = "http://search.yahoo.com/mrss/"


def media_rss(*items: str) -> bytes:
    """An RSS 2.0 document declaring the Media RSS namespace, as feeds that use <media:content> do."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:media="{MEDIA_NS}"><channel>'
        "<title>Media Show</title><link>https://example.com</link>" + "".join(items) + "</channel></rss>"
    ).encode()


def test_audio_given_only_as_media_content_becomes_the_enclosure(http_server):
    only_media = item(
        "Media only",
        guid="m1",
        extra='<media:content url="/img/cover.jpg" type="image/jpeg" medium="image"/>'
        '<media:content url="/audio/m1.mp3" fileSize="52000" type="audio/mpeg" medium="audio"/>',
    )
    by_medium = item("By medium", guid="m2", extra='<media:content url="/audio/m2.ogg" medium="audio"/>')
    both = item(
        "Both", guid="m3", enclosure="/audio/real.mp3",
        extra='<media:content url="/audio/alt.mp3" fileSize="9" type="audio/mpeg" medium="audio"/>',
    )  # fmt: skip
    only_image = item(
        "Image only", guid="m4", extra='<media:content url="/i.png" type="image/png" medium="image"/>'
    )
    url = http_server.add(
        "/media.xml", media_rss(only_media, by_medium, both, only_image), Content_Type="application/rss+xml"
    )
    poll = poll_feed(url, "Media", None, None, allow_private=True)
    assert poll.status == "ok" and poll.error is None
    got = {e.title: (e.enclosure_url, e.enclosure_type, e.enclosure_length) for e in poll.episodes}
    assert got == {
        "Media only": (http_server.url("/audio/m1.mp3"), "audio/mpeg", 52000),
        "By medium": (http_server.url("/audio/m2.ogg"), None, None),
        "Both": (http_server.url("/audio/real.mp3"), "audio/mpeg", 4096),
        "Image only": (None, None, None),
    }


def test_an_item_with_nothing_to_identify_it_is_skipped_and_counted(http_server):
    body = rss(
        item("Real", guid="r1", enclosure="/audio/r1.mp3"),
        "<item></item>",
        "<item><description>Only notes, no title, link, guid, date or audio.</description></item>",
        "<item><guid>just-a-guid</guid></item>",
        '<item><enclosure url="/audio/untitled.mp3" type="audio/mpeg" length="10"/></item>',
    )
    url = http_server.add("/sparse.xml", body, Content_Type="application/rss+xml")
    poll = poll_feed(url, "Sparse", None, None, allow_private=True)
    assert poll.status == "ok" and poll.error is None
    assert sorted((e.title or "", e.guid or "", e.enclosure_url or "") for e in poll.episodes) == [
        ("", "", http_server.url("/audio/untitled.mp3")),
        ("", "just-a-guid", ""),
        ("Real", "r1", http_server.url("/audio/r1.mp3")),
    ]
    assert poll.skipped == {SKIP_EMPTY: 2}


def test_a_full_feed_skips_nothing():
    parsed = parse_feed(rss(item("A", guid="a"), item("B", guid="b")), FEED, now=NOW)
    assert len(parsed.episodes) == 2 and parsed.skipped == {}


UNBOUND = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>No namespace</title>'
    "<link>https://example.com</link><itunes:author>Someone</itunes:author>{items}</channel></rss>"
)


def test_a_channel_with_an_undeclared_prefix_and_no_items_is_not_a_feed(http_server):
    url = http_server.add("/unbound.xml", UNBOUND.format(items=""), Content_Type="application/rss+xml")
    poll = poll_feed(url, "Unbound", None, None, allow_private=True)
    assert (poll.status, poll.error, poll.episodes) == ("error", "not a feed (unbound prefix)", [])


def test_an_undeclared_prefix_with_items_still_gives_its_episodes_with_a_warning(http_server):
    items = item("Kept", guid="k1", enclosure="/k1.mp3", extra="<itunes:duration>2:00</itunes:duration>")
    url = http_server.add(
        "/unbound-items.xml", UNBOUND.format(items=items), Content_Type="application/rss+xml"
    )
    poll = poll_feed(url, "Unbound", None, None, allow_private=True)
    [episode] = poll.episodes
    assert poll.status == "ok" and "not well-formed" in (poll.error or "")
    assert (episode.title, episode.duration_s) == ("Kept", 120.0)
