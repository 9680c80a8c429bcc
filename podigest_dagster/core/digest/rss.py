"""Publish stored digests as an RSS 2.0 feed a reader can subscribe to (digests.xml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from podigest_dagster.core.digest.render import BRAND, safe_url, subject

GUID_PREFIX = "podigest-digest-"
FEED_FILE = "digests.xml"
ATOM_NS = "http://www.w3.org/2005/Atom"

ET.register_namespace("atom", ATOM_NS)


@dataclass(frozen=True)
class FeedEntry:
    """One published digest: its day, its HTML, when it was made, and (for feeds published without a
    public URL) a link to the page or audio of its first source."""

    date: str
    html: str
    created_at: datetime
    item_count: int = 0
    source_link: str | None = None


def guid(date: str) -> str:
    """A guid that stays the same for a day's digest however often it is re-rendered."""
    return f"{GUID_PREFIX}{date}"


def build_feed(
    entries: list[FeedEntry], *, public_url: str | None = None, now: datetime | None = None
) -> str:
    """The feed XML, newest digest first; the HTML description is XML-escaped text, never raw markup.

    With `public_url` (where the digests folder is published) the channel links to it, declares itself
    as `<public_url>digests.xml` (atom:link rel="self") and each item links to `<public_url>YYYY-MM-DD.html`.
    Without it each item links to its first source's episode page or audio, the channel to the newest
    such link, and there is no self link. Only http(s) links are written: never a local file."""
    ordered = sorted(entries, key=lambda e: e.date, reverse=True)
    base = _base(public_url)
    links = [_item_link(entry, base) for entry in ordered]
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", f"{BRAND} daily digest")
    channel_link = base or next((link for link in links if link), None)
    if channel_link:
        _text(channel, "link", channel_link)
    if base:
        ET.SubElement(
            channel,
            f"{{{ATOM_NS}}}link",
            {"href": base + FEED_FILE, "rel": "self", "type": "application/rss+xml"},
        )
    _text(channel, "description", "The day's top podcast insights, with links to the moments they were said.")
    _text(channel, "lastBuildDate", format_datetime(now or datetime.now(UTC)))
    _text(channel, "generator", BRAND)
    for entry, link in zip(ordered, links, strict=True):
        _item(channel, entry, link)
    ET.indent(rss)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def _base(public_url: str | None) -> str | None:
    """The public URL as a folder URL (trailing slash), or None when it is unset or not http(s)."""
    url = safe_url(public_url)
    if url is None:
        return None
    return url if url.endswith("/") else url + "/"


def _item_link(entry: FeedEntry, base: str | None) -> str | None:
    return f"{base}{entry.date}.html" if base else safe_url(entry.source_link)


def _item(channel: ET.Element, entry: FeedEntry, link: str | None) -> None:
    item = ET.SubElement(channel, "item")
    _text(item, "title", subject(entry.date))
    if link:
        _text(item, "link", link)
    _text(item, "description", entry.html)
    ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = guid(entry.date)
    created = entry.created_at if entry.created_at.tzinfo else entry.created_at.replace(tzinfo=UTC)
    _text(item, "pubDate", format_datetime(created.astimezone(UTC)))


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = _xml_safe(value)


def _xml_safe(value: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (escaping is ElementTree's job)."""
    return "".join(ch for ch in value if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))
