"""digests.xml: a valid RSS 2.0 feed, newest first, stable guids, hostile HTML carried as escaped text."""

from __future__ import annotations

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
    xml = build_feed(
        [_entry("2024-03-04"), _entry("2024-03-06"), _entry("2024-03-05")], channel_link="file:///tmp/d/"
    )
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.id for e in parsed.entries] == [guid("2024-03-06"), guid("2024-03-05"), guid("2024-03-04")]
    assert parsed.entries[0].title == "podigest — top insights for 2024-03-06"
    assert parsed.feed.title == "podigest daily digest"


def test_guid_is_stable_for_a_date_across_rebuilds():
    first = feedparser.parse(build_feed([_entry("2024-03-05", "one")], channel_link="file:///d/"))
    second = feedparser.parse(build_feed([_entry("2024-03-05", "two")], channel_link="file:///d/"))
    assert first.entries[0].id == second.entries[0].id == "podigest-digest-2024-03-05"


def test_hostile_html_in_a_digest_is_escaped_text_not_markup_in_the_xml():
    xml = build_feed(
        [_entry("2024-03-05", '<script>alert(1)</script> ]]> & "; DROP TABLE x; --')],
        channel_link="file:///d/",
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
    with_base = feedparser.parse(
        build_feed(
            [_entry("2024-03-05")],
            channel_link="https://d.example/",
            item_link_base="https://d.example/digests/",
        )
    )
    assert with_base.entries[0].link == "https://d.example/digests/2024-03-05.html"
    unsafe = ET.fromstring(
        build_feed([_entry("2024-03-05")], channel_link="x", item_link_base="javascript:alert(1)").encode()
    )
    assert unsafe.find("./channel/item/link") is None


def test_an_empty_feed_is_still_valid():
    parsed = feedparser.parse(build_feed([], channel_link="file:///d/"))
    assert not parsed.bozo and parsed.entries == []
