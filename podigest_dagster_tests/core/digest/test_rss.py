"""digests.xml: a valid RSS 2.0 feed, newest first, stable guids, hostile HTML carried as escaped text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import feedparser

from podigest_dagster.core.digest.render import Digest, DigestItem, Source, render_html
from podigest_dagster.core.digest.rss import FeedEntry, build_feed, guid


def _entry(date: str, insight: str = "A claim.") -> FeedEntry:
    digest = Digest(date, [DigestItem(1, insight, 1, [Source("Show", "Ep", "https://x.example/a#t=5", 5.0)])])
    return FeedEntry(
        date=date, html=render_html(digest), created_at=datetime(2024, 3, 7, 6, 0, tzinfo=UTC), item_count=1
    )


def test_feed_parses_with_one_entry_per_digest_newest_first():
    xml = build_feed([_entry("2024-03-04"), _entry("2024-03-06"), _entry("2024-03-05")])
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.id for e in parsed.entries] == [guid("2024-03-06"), guid("2024-03-05"), guid("2024-03-04")]
    assert parsed.entries[0].title == "podigest — top insights for 2024-03-06"
    assert parsed.feed.title == "podigest daily digest"


def test_guid_is_stable_for_a_date_across_rebuilds():
    first = feedparser.parse(build_feed([_entry("2024-03-05", "one")]))
    second = feedparser.parse(build_feed([_entry("2024-03-05", "two")]))
    assert first.entries[0].id == second.entries[0].id == "podigest-digest-2024-03-05"


def test_hostile_html_in_a_digest_is_escaped_text_not_markup_in_the_xml():
    xml = build_feed(
        [_entry("2024-03-05", '<script>alert(1)</script> ]]> & "; DROP TABLE x; --')],
        public_url="https://d.example/",
    )
    root = ET.fromstring(xml.encode())
    description = root.find("./channel/item/description")
    assert description is not None and len(description) == 0
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in description.text
    assert "<script>" not in xml
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    assert "<script" not in parsed.entries[0].summary


def test_item_links_are_added_only_for_an_http_base():
    with_base = feedparser.parse(build_feed([_entry("2024-03-05")], public_url="https://d.example/digests/"))
    assert with_base.entries[0].link == "https://d.example/digests/2024-03-05.html"
    unsafe = ET.fromstring(build_feed([_entry("2024-03-05")], public_url="javascript:alert(1)").encode())
    assert unsafe.find("./channel/item/link") is None


def test_an_empty_feed_is_still_valid():
    parsed = feedparser.parse(build_feed([]))
    assert not parsed.bozo and parsed.entries == []


ATOM = "{http://www.w3.org/2005/Atom}"


def _links(xml: str) -> tuple[str | None, list[str | None], list[dict[str, str]]]:
    """(channel <link>, each item's <link>, the channel's atom:link attributes) of a feed."""
    channel = ET.fromstring(xml.encode()).find("channel")
    assert channel is not None
    return (
        channel.findtext("link"),
        [item.findtext("link") for item in channel.findall("item")],
        [dict(link.attrib) for link in channel.findall(f"{ATOM}link")],
    )


def test_with_a_public_url_the_channel_links_there_declares_itself_and_each_digest_has_its_page():
    entries = [_entry("2024-03-05"), _entry("2024-03-06")]
    for public_url in ("https://digest.example.com/", "https://digest.example.com"):
        xml = build_feed(entries, public_url=public_url)
        assert _links(xml) == (
            "https://digest.example.com/",
            ["https://digest.example.com/2024-03-06.html", "https://digest.example.com/2024-03-05.html"],
            [
                {
                    "href": "https://digest.example.com/digests.xml",
                    "rel": "self",
                    "type": "application/rss+xml",
                }
            ],
        )
        parsed = feedparser.parse(xml)
        assert not parsed.bozo and parsed.feed.link == "https://digest.example.com/"
        assert [e.link for e in parsed.entries] == _links(xml)[1]


def test_without_a_public_url_links_point_at_the_first_sources_never_at_files():
    entries = [
        replace(_entry("2024-03-04"), source_link="https://show.example/episodes/4"),
        replace(_entry("2024-03-05"), source_link="file:///home/me/.podigest/audio/x.mp3"),
        replace(_entry("2024-03-06"), source_link="https://cdn.example/ep6.mp3#t=12"),
    ]
    xml = build_feed(entries)
    assert _links(xml) == (
        "https://cdn.example/ep6.mp3#t=12",
        ["https://cdn.example/ep6.mp3#t=12", None, "https://show.example/episodes/4"],
        [],
    )
    assert "file:" not in xml
    assert not feedparser.parse(xml).bozo
    newest_without_link = build_feed([replace(entries[2], source_link=None), entries[0]])
    assert _links(newest_without_link)[0] == "https://show.example/episodes/4"


def test_a_feed_entry_names_the_speaker_and_links_each_other_show_as_escaped_text():
    item = DigestItem(
        1, "Kernel engineers are the scarcest hires.", 2, [Source("Lenny's Podcast", "Ep", "https://x.example/l#t=5", 5.0)],
        speaker="<script>alert(1)</script> Lenny", coverage=[Source("Show A", "Ep", "https://x.example/a#t=2700", 2700.0)],
    )  # fmt: skip
    entry = FeedEntry(
        "2024-03-05", render_html(Digest("2024-03-05", [item])), datetime(2024, 3, 7, tzinfo=UTC), 1
    )
    xml = build_feed([entry])
    assert "<script>" not in xml
    description = ET.fromstring(xml.encode()).find("./channel/item/description")
    assert description is not None and len(description) == 0
    assert "— &lt;script&gt;alert(1)&lt;/script&gt; Lenny, Lenny&#x27;s Podcast" in description.text
    assert "Covered by 2 shows" in description.text and "Also discussed on:" in description.text
    assert (
        '<a href="https://x.example/a#t=2700"' in description.text
        and "Show A @ 45:00</a>" in description.text
    )
    assert not feedparser.parse(xml).bozo
