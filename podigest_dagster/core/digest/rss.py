"""Publish stored digests as an RSS 2.0 feed a reader can subscribe to (digests.xml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from podigest_dagster.core.digest.render import BRAND, safe_url, subject

GUID_PREFIX = "podigest-digest-"


@dataclass(frozen=True)
class FeedEntry:
    """One published digest: its day, its HTML and when it was made."""

    date: str
    html: str
    created_at: datetime
    item_count: int = 0


def guid(date: str) -> str:
    """A guid that stays the same for a day's digest however often it is re-rendered."""
    return f"{GUID_PREFIX}{date}"


def build_feed(
    entries: list[FeedEntry],
    *,
    channel_link: str,
    item_link_base: str | None = None,
    now: datetime | None = None,
) -> str:
    """The feed XML, newest digest first; the HTML description is XML-escaped text, never raw markup."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", f"{BRAND} daily digest")
    _text(channel, "link", channel_link)
    _text(channel, "description", "The day's top podcast insights, with links to the moments they were said.")
    _text(channel, "lastBuildDate", format_datetime(now or datetime.now(UTC)))
    _text(channel, "generator", BRAND)
    for entry in sorted(entries, key=lambda e: e.date, reverse=True):
        _item(channel, entry, item_link_base)
    ET.indent(rss)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def _item(channel: ET.Element, entry: FeedEntry, item_link_base: str | None) -> None:
    item = ET.SubElement(channel, "item")
    _text(item, "title", subject(entry.date))
    if item_link_base and safe_url(item_link_base):
        _text(item, "link", f"{item_link_base.rstrip('/')}/{entry.date}.html")
    _text(item, "description", entry.html)
    ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = guid(entry.date)
    created = entry.created_at if entry.created_at.tzinfo else entry.created_at.replace(tzinfo=UTC)
    _text(item, "pubDate", format_datetime(created.astimezone(UTC)))


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = _xml_safe(value)


def _xml_safe(value: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (escaping is ElementTree's job)."""
    return "".join(ch for ch in value if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))
