"""Fetch a podcast feed with a conditional GET and normalise its entries into episode records.

Feeds are untrusted: documents declaring XML entities are refused before any parser sees them,
a body that is not RSS/Atom is an error (not an empty feed), dates that cannot be true are marked
`invalid` (never moved to today), and episode ids stay stable when guids are missing or reused.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax import SAXParseException

import feedparser
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from podigest_dagster.core.net import http
from podigest_dagster.core.net.html_text import html_to_text
from podigest_dagster.core.net.http import FetchError
from podigest_dagster.core.net.limits import MAX_FEED_BYTES
from podigest_dagster.core.net.untrusted import valid_text

MAX_TITLE_CHARS = 2_000
MAX_NOTES_CHARS = 50_000
MAX_ENCLOSURE_LENGTH = 2**62
EARLIEST_YEAR = 1995
FUTURE_TOLERANCE = timedelta(days=7)
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
TRANSCRIPT_NAMESPACES = ("podcastindex.org/namespace", "podcastindex-org/podcast-namespace")
SKIP_EMPTY = "no title, link, guid, date or audio"
NOT_A_FEED_UNBOUND_PREFIX = "not a feed (unbound prefix)"
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")

FetchStatus = Literal["ok", "not_modified", "error"]
DateStatus = Literal["ok", "missing", "invalid"]


@dataclass(frozen=True)
class FeedFetch:
    """What one poll of a feed gave: a body, 'not modified', or an error with its reason."""

    status: FetchStatus
    http_status: int | None
    etag: str | None
    last_modified: str | None
    body: bytes | None
    final_url: str
    error: str | None = None


@dataclass(frozen=True)
class EpisodeRecord:
    """One feed entry, normalised; the fields are the columns of the `episodes` table."""

    episode_id: str
    feed_url: str
    podcast: str | None
    guid: str | None
    title: str | None
    published_at: datetime | None
    partition_date: date | None
    date_status: DateStatus
    enclosure_url: str | None
    enclosure_type: str | None
    enclosure_length: int | None
    duration_s: float | None
    link: str | None
    show_notes: str | None
    transcript_urls: list[dict[str, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its declared title, its episodes, and an error when the body is not a usable feed.

    `warning` notes a feed that was not well-formed but from which entries could be recovered;
    `skipped` counts the entries left out, by reason (an item with nothing to identify it).
    """

    title: str | None
    episodes: list[EpisodeRecord]
    error: str | None = None
    warning: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)


def fetch_feed(
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    *,
    max_bytes: int = MAX_FEED_BYTES,
    connect_timeout_s: float = 10,
    read_timeout_s: float = 30,
    deadline_s: float = 120,
    allow_private: bool | None = None,
    retries: int = 0,
    backoff_s: float = 1.0,
) -> FeedFetch:
    """Conditional GET of a feed (If-None-Match / If-Modified-Since); never raises for network trouble."""
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    def call() -> http.HttpResult:
        return http.get(
            url,
            max_bytes=max_bytes,
            connect_timeout_s=connect_timeout_s,
            read_timeout_s=read_timeout_s,
            deadline_s=deadline_s,
            allow_private=allow_private,
            headers=headers,
        )

    try:
        result = http.with_retries(call, retries=retries, backoff_s=backoff_s)
    except FetchError as exc:
        return FeedFetch("error", exc.status, etag, last_modified, None, url, str(exc))
    if result.status == 304:
        new_etag = result.headers.get("etag") or etag
        new_modified = result.headers.get("last-modified") or last_modified
        return FeedFetch("not_modified", 304, new_etag, new_modified, None, result.url)
    if result.status != 200 or not result.body:
        reason = (
            f"HTTP {result.status} with an empty body"
            if not result.body
            else f"unexpected HTTP {result.status}"
        )
        return FeedFetch("error", result.status, etag, last_modified, None, result.url, reason)
    return FeedFetch(
        "ok", 200, result.headers.get("etag"), result.headers.get("last-modified"), result.body, result.url
    )


def parse_feed(
    body: bytes,
    feed_url: str,
    podcast_name: str | None = None,
    *,
    base_url: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse RSS/Atom bytes into episode records; ids use `feed_url`, relative links resolve on `base_url`."""
    refusal = unsafe_xml_reason(body)
    if refusal:
        return ParsedFeed(None, [], refusal)
    body = neutralise_char_refs(body)
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    title = _text(parsed.feed, "title", MAX_TITLE_CHARS)
    if not parsed.entries and (not parsed.version or (parsed.bozo and not title) or _unbound_prefix(parsed)):
        return ParsedFeed(title, [], _not_a_feed_reason(body, parsed))
    base = base_url or feed_url
    transcripts = _transcripts_by_entry(body, base, len(parsed.entries))
    podcast = podcast_name or title or urlsplit(feed_url).hostname
    guid_counts = Counter(_guid(e) for e in parsed.entries if _guid(e))
    clock = now or datetime.now(UTC)
    episodes: dict[str, EpisodeRecord] = {}
    skipped: Counter[str] = Counter()
    for index, entry in enumerate(parsed.entries):
        links = transcripts[index] if transcripts is not None else _feedparser_transcripts(entry, base)
        record = _episode(entry, feed_url, base, podcast, guid_counts, links, clock)
        if _is_empty(record):
            skipped[SKIP_EMPTY] += 1
            continue
        episodes.setdefault(record.episode_id, record)
    warning = _bozo_warning(parsed) if parsed.bozo else None
    return ParsedFeed(title, list(episodes.values()), None, warning, dict(skipped))


def _is_empty(record: EpisodeRecord) -> bool:
    """An entry nothing can be made of: no title, link, guid, date (valid or not) nor audio."""
    return not (
        record.title or record.link or record.guid or record.enclosure_url or record.date_status != "missing"
    )


def episode_id(feed_url: str, key: str) -> str:
    """Stable id: sha1 of the feed URL and the entry's key (its guid, or enclosure + title)."""
    return hashlib.sha1(f"{feed_url}\n{key}".encode()).hexdigest()


def unsafe_xml_reason(body: bytes) -> str | None:
    """Why a document must not be parsed (entity declarations: XML bombs, external entities), or None."""
    ascii_view = body.replace(b"\x00", b"")
    doctype = re.search(rb"<!DOCTYPE", ascii_view, re.IGNORECASE)
    if doctype and re.search(rb"<!ENTITY", ascii_view[doctype.start() :], re.IGNORECASE):
        return "refused: the document declares XML entities (entity expansion / external entity attack)"
    return None


def neutralise_char_refs(body: bytes) -> bytes:
    """Numeric character references to no Unicode character (`&#xD800;`) as U+FFFD: feedparser crashes on them."""

    def fix(match: re.Match[bytes]) -> bytes:
        hex_digits, digits = match.groups()
        number = hex_digits or digits
        if len(number) <= 10:
            code = int(number, 16) if hex_digits else int(number)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return match.group(0)
        return b"&#xFFFD;"

    return _CHAR_REF.sub(fix, body)


def _unbound_prefix(parsed: Any) -> bool:
    """The XML uses a namespace prefix it never declared (`itunes:` without xmlns:itunes)."""
    problem = parsed.get("bozo_exception")
    return isinstance(problem, SAXParseException) and "unbound prefix" in str(problem).lower()


def _not_a_feed_reason(body: bytes, parsed: Any) -> str:
    head = body[:2048].lower()
    if b"<html" in head or b"<!doctype html" in head:
        return "not a feed: the URL returned an HTML page"
    if _unbound_prefix(parsed):
        return NOT_A_FEED_UNBOUND_PREFIX
    problem = parsed.get("bozo_exception")
    detail = f" ({_one_line(str(problem))})" if problem else ""
    return f"not a feed: no RSS or Atom content found{detail}"


def _bozo_warning(parsed: Any) -> str | None:
    problem = parsed.get("bozo_exception")
    if problem is None or isinstance(problem, feedparser.CharacterEncodingOverride):
        return None
    return f"feed is not well-formed ({_one_line(str(problem))}); {len(parsed.entries)} entries recovered"


def _episode(
    entry: Any,
    feed_url: str,
    base: str,
    podcast: str | None,
    guid_counts: Counter[str],
    transcripts: list[dict[str, str | None]],
    now: datetime,
) -> EpisodeRecord:
    guid = _guid(entry)
    title = _text(entry, "title", MAX_TITLE_CHARS)
    enclosure_url, enclosure_type, enclosure_length = _enclosure(entry, base)
    if guid and guid_counts[guid] == 1:
        key = guid
    else:
        key = f"{_without_query(enclosure_url or '')}\n{title or ''}"
    published_at, date_status = _published(entry, now)
    return EpisodeRecord(
        episode_id=episode_id(feed_url, key),
        feed_url=feed_url,
        podcast=podcast,
        guid=guid,
        title=title,
        published_at=published_at,
        partition_date=published_at.date() if published_at else None,
        date_status=date_status,
        enclosure_url=enclosure_url,
        enclosure_type=enclosure_type,
        enclosure_length=enclosure_length,
        duration_s=parse_duration(entry.get("itunes_duration")),
        link=_link(entry),
        show_notes=_show_notes(entry),
        transcript_urls=transcripts,
    )


def _guid(entry: Any) -> str | None:
    value = entry.get("id")
    return (value.strip() or None) if isinstance(value, str) else None


def _published(entry: Any, now: datetime) -> tuple[datetime | None, DateStatus]:
    """The entry's UTC publication time; 'missing' without any date, 'invalid' when none is believable."""
    seen = False
    for raw_key, parsed_key in (("published", "published_parsed"), ("updated", "updated_parsed")):
        raw, parsed = entry.get(raw_key), entry.get(parsed_key)
        seen = seen or bool(str(raw or "").strip()) or parsed is not None
        moment = _to_datetime(parsed)
        if moment is not None and EARLIEST_YEAR <= moment.year and moment <= now + FUTURE_TOLERANCE:
            return moment, "ok"
    return None, "invalid" if seen else "missing"


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*tuple(value)[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _enclosure(entry: Any, base: str) -> tuple[str | None, str | None, int | None]:
    """The entry's audio, its URL resolved against the feed URL.

    An audio/video `<enclosure>` first, else the first audio `<media:content>` (feeds that give their
    audio only that way), else any other enclosure."""
    candidates = [e for e in entry.get("enclosures") or [] if str(e.get("href") or "").strip()]
    media = [e for e in candidates if str(e.get("type") or "").lower().startswith(("audio/", "video/"))]
    audio = _media_content_audio(entry)
    if media or (candidates and audio is None):
        chosen = (media or candidates)[0]
        href, kind, length = chosen.get("href"), chosen.get("type"), chosen.get("length")
    elif audio is not None:
        href, kind, length = audio.get("url"), audio.get("type"), audio.get("filesize")
    else:
        return None, None, None
    url = urljoin(base, str(href).strip())
    return url, str(kind or "").strip() or None, _length(length)


def _media_content_audio(entry: Any) -> Any:
    """The first `<media:content>` with a URL that is audio (medium="audio" or an audio/* type), or None."""
    for content in entry.get("media_content") or []:
        if not isinstance(content, dict) or not str(content.get("url") or "").strip():
            continue
        medium = str(content.get("medium") or "").strip().lower()
        kind = str(content.get("type") or "").strip().lower()
        if medium == "audio" or kind.startswith("audio/"):
            return content
    return None


def _length(value: Any) -> int | None:
    """A declared byte length that can be true: digits only, above 0, at most 2**62 (fits a BIGINT)."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    length = int(text)
    return length if 0 < length <= MAX_ENCLOSURE_LENGTH else None


def parse_duration(value: Any) -> float | None:
    """itunes:duration in seconds: '3723', '3723.5', '62:03' or '1:02:03'; None when unreadable."""
    text = str(value or "").strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) > 3:
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if any(n < 0 or n != n or n == float("inf") for n in numbers):
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds


def _link(entry: Any) -> str | None:
    link = str(entry.get("link") or "").strip()
    return link if link.lower().startswith(("http://", "https://")) else None


def _show_notes(entry: Any) -> str | None:
    """The richest description of the entry as plain text (content:encoded, else summary)."""
    for detail in [*(entry.get("content") or []), entry.get("summary_detail")]:
        if detail and str(detail.get("value") or "").strip():
            return _plain(detail, MAX_NOTES_CHARS)
    summary = valid_text(str(entry.get("summary") or "")).strip()
    return summary[:MAX_NOTES_CHARS] or None


def _text(container: Any, key: str, limit: int) -> str | None:
    detail = container.get(f"{key}_detail")
    if detail:
        return _plain(detail, limit)
    value = valid_text(str(container.get(key) or "")).strip()
    return value[:limit] or None


def _plain(detail: Any, limit: int) -> str | None:
    value = valid_text(str(detail.get("value") or ""))
    if "html" in str(detail.get("type") or ""):
        value = html_to_text(value)
    return value.strip()[:limit] or None


def _transcripts_by_entry(
    body: bytes, base: str, entry_count: int
) -> list[list[dict[str, str | None]]] | None:
    """`podcast:transcript` links of every item, in document order; None when the XML cannot be read.

    feedparser keeps only the last transcript element of an entry, so the document is read again
    (safely) to get all of them.
    """
    try:
        root = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    items = [el for el in root.iter() if _local(el.tag) in {"item", "entry"}]
    if len(items) != entry_count:
        return None
    return [_transcript_links(item, base) for item in items]


def _transcript_links(item: Element, base: str) -> list[dict[str, str | None]]:
    links = []
    for child in item.iter():
        tag = str(child.tag)
        if _local(tag) == "transcript" and any(ns in tag.lower() for ns in TRANSCRIPT_NAMESPACES):
            url = (child.get("url") or "").strip()
            if url:
                links.append({"url": urljoin(base, url), "type": (child.get("type") or "").strip() or None})
    return links


def _feedparser_transcripts(entry: Any, base: str) -> list[dict[str, str | None]]:
    found = entry.get("podcast_transcript")
    if not found or not str(found.get("url") or "").strip():
        return []
    return [{"url": urljoin(base, str(found["url"]).strip()), "type": found.get("type") or None}]


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


@dataclass(frozen=True)
class FeedPoll:
    """One feed polled and parsed: what to record on its `feeds` row and the episodes to upsert.

    On an error the previous validators are kept, so the next poll fetches the body again.
    """

    feed_url: str
    name: str | None
    status: FetchStatus
    http_status: int | None
    etag: str | None
    last_modified: str | None
    title: str | None = None
    episodes: list[EpisodeRecord] = field(default_factory=list)
    error: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # entries left out: reason -> count


def poll_feed(
    url: str, name: str | None, etag: str | None, last_modified: str | None, **fetch_options: Any
) -> FeedPoll:
    """Conditional GET then parse; never raises for a broken feed, the reason is in `error`."""
    fetched = fetch_feed(url, etag, last_modified, **fetch_options)
    if fetched.status != "ok" or fetched.body is None:
        return FeedPoll(
            url,
            name,
            fetched.status,
            fetched.http_status,
            fetched.etag,
            fetched.last_modified,
            error=fetched.error,
        )
    try:
        parsed = parse_feed(fetched.body, url, name, base_url=fetched.final_url)
    except Exception as exc:  # noqa: BLE001 - one feed's unforeseen content must not stop the others
        parsed = ParsedFeed(None, [], f"feed could not be read: {type(exc).__name__}: {exc}")
    if parsed.error:
        return FeedPoll(
            url, name, "error", fetched.http_status, etag, last_modified, parsed.title, error=parsed.error
        )
    return FeedPoll(
        url,
        name,
        "ok",
        fetched.http_status,
        fetched.etag,
        fetched.last_modified,
        parsed.title,
        parsed.episodes,
        parsed.warning,
        parsed.skipped,
    )


def current_enclosures(url: str, **fetch_options: Any) -> dict[str, str]:
    """episode_id -> enclosure URL as the feed lists it right now (signed URLs expire); {} if unreachable."""
    fetched = fetch_feed(url, **fetch_options)
    if fetched.status != "ok" or fetched.body is None:
        return {}
    try:
        parsed = parse_feed(fetched.body, url, base_url=fetched.final_url)
    except Exception:  # noqa: BLE001 - a feed that turned hostile is as good as unreachable
        return {}
    return {e.episode_id: e.enclosure_url for e in parsed.episodes if e.enclosure_url}
