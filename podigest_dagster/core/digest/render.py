"""Render a day's top insights as Markdown, email-safe HTML, plain text and the contract JSON.

All insight, podcast and episode text comes from strangers' feeds and transcripts: every
rendering escapes it for its own format, and links are kept only when they are http(s).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from podigest_dagster.core.insights.ranking import Source
from podigest_dagster.core.text.display import clean_text

BRAND = "podigest"
NO_INSIGHTS = "No insights today: no new episode said anything worth your time."


@dataclass(frozen=True)
class DigestItem:
    rank: int
    insight: str
    support: int
    sources: list[Source] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    date: str
    items: list[DigestItem] = field(default_factory=list)


def subject(date: str) -> str:
    """The email subject and the title of every rendering."""
    return f"{BRAND} — top insights for {date}"


def sources_from_json(raw: str | None) -> list[Source]:
    """Parse a top_insights `sources` JSON list, ignoring entries that are not objects."""
    entries = json.loads(raw) if raw else []
    return [_source_from_dict(entry) for entry in entries if isinstance(entry, dict)]


def _source_from_dict(entry: dict) -> Source:
    start = entry.get("start_s")
    end = entry.get("end_s")
    return Source(
        podcast=str(entry.get("podcast") or ""),
        episode=str(entry.get("episode") or ""),
        url=entry.get("url") if isinstance(entry.get("url"), str) else None,
        start_s=float(start) if isinstance(start, int | float) else None,
        end_s=float(end) if isinstance(end, int | float) else None,
        episode_id=entry.get("episode_id") if isinstance(entry.get("episode_id"), str) else None,
    )


def format_timestamp(seconds: float | None) -> str | None:
    """12.3 -> "0:12", 723 -> "12:03", 3723 -> "1:02:03"; None when there is no time."""
    if seconds is None or seconds != seconds or seconds < 0:
        return None
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without whitespace or control characters, else None."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def source_label(source: Source) -> str:
    """ "Show — Episode @ 12:03" (cleaned, not escaped)."""
    parts = [part for part in (clean_text(source.podcast), clean_text(source.episode)) if part]
    label = " — ".join(parts) or "untitled episode"
    stamp = format_timestamp(source.start_s)
    return f"{label} @ {stamp}" if stamp else label


def support_line(support: int) -> str:
    return f"Heard on {support} podcast{'' if support == 1 else 's'}"


_MD_ACTIVE = re.compile(r"([\\`*_{}\[\]()<>#|~!&$])")
_MD_LEADING = re.compile(r"^([-+=]|\d+(?=[.)]))")


def escape_markdown(text: str | None) -> str:
    """Cleaned text with every Markdown-active character backslash-escaped (raw HTML included)."""
    escaped = _MD_ACTIVE.sub(r"\\\1", clean_text(text))
    return _MD_LEADING.sub(
        lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), escaped
    )


def _markdown_url(url: str) -> str:
    return quote(url, safe="/:?#[]@!$&'*+,;=%-._~")


def render_markdown(digest: Digest) -> str:
    """The digest as CommonMark: a numbered list, each insight with links to the moments it was said."""
    lines = [f"# {escape_markdown(subject(digest.date))}", ""]
    if not digest.items:
        return "\n".join([*lines, NO_INSIGHTS, ""])
    for item in digest.items:
        lines.append(f"{item.rank}. **{escape_markdown(item.insight)}**")
        lines.append(f"   *{support_line(item.support)}*")
        for source in item.sources:
            label = escape_markdown(source_label(source))
            url = safe_url(source.url)
            lines.append(f"   - [{label}]({_markdown_url(url)})" if url else f"   - {label}")
        lines.append("")
    return "\n".join(lines)


def render_text(digest: Digest) -> str:
    """The digest as plain text, the email's text/plain part."""
    lines = [subject(digest.date), ""]
    if not digest.items:
        return "\n".join([*lines, NO_INSIGHTS, ""])
    for item in digest.items:
        lines.append(f"{item.rank}. {clean_text(item.insight)}")
        lines.append(f"   {support_line(item.support)}")
        for source in item.sources:
            url = safe_url(source.url)
            lines.append(f"   - {source_label(source)}" + (f": {url}" if url else ""))
        lines.append("")
    return "\n".join(lines)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_FONT = "font-family:Helvetica,Arial,sans-serif;"


def _html_source(source: Source) -> str:
    label = _e(source_label(source))
    url = safe_url(source.url)
    if url is None:
        return f'<li style="margin:2px 0;color:#555555;">{label}</li>'
    return (
        f'<li style="margin:2px 0;"><a href="{_e(url)}" style="color:#1a5fb4;text-decoration:underline;">'
        f"{label}</a></li>"
    )


def _html_item(item: DigestItem) -> str:
    sources = "".join(_html_source(source) for source in item.sources)
    return (
        "<tr>"
        f'<td valign="top" style="{_FONT}font-size:20px;font-weight:bold;color:#1a5fb4;'
        f'padding:12px 12px 12px 0;width:28px;">{int(item.rank)}</td>'
        f'<td valign="top" style="{_FONT}padding:12px 0;border-bottom:1px solid #e5e5e5;">'
        f'<p style="margin:0 0 6px 0;font-size:16px;line-height:1.45;color:#111111;">{_e(clean_text(item.insight))}</p>'
        f'<p style="margin:0 0 4px 0;font-size:13px;color:#666666;">{_e(support_line(item.support))}</p>'
        f'<ul style="margin:0;padding-left:18px;font-size:13px;">{sources}</ul>'
        "</td></tr>"
    )


def render_html(digest: Digest) -> str:
    """The digest as a self-contained HTML email: tables and inline styles, no external CSS or script."""
    title = _e(subject(digest.date))
    if digest.items:
        body = "".join(_html_item(item) for item in digest.items)
    else:
        body = (
            f'<tr><td style="{_FONT}font-size:16px;color:#333333;padding:12px 0;">{_e(NO_INSIGHTS)}</td></tr>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        '<body style="margin:0;padding:0;background-color:#f4f4f4;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background-color:#f4f4f4;"><tr><td align="center" style="padding:16px;">'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;width:100%;background-color:#ffffff;padding:16px;">'
        f'<tr><td colspan="2" style="{_FONT}font-size:22px;font-weight:bold;color:#111111;'
        f'padding-bottom:8px;">{title}</td></tr>'
        f"{body}"
        "</table></td></tr></table></body></html>\n"
    )


def to_contract(digest: Digest) -> dict:
    """The digest in the documented JSON contract shape (text verbatim; consumers escape)."""
    return {
        "date": digest.date,
        "items": [
            {
                "rank": item.rank,
                "insight": item.insight,
                "support": item.support,
                "sources": [
                    {"podcast": s.podcast, "episode": s.episode, "url": s.url, "start_s": s.start_s}
                    for s in item.sources
                ],
            }
            for item in digest.items
        ],
    }


def render_json(digest: Digest) -> str:
    """The contract JSON, pretty-printed, non-ASCII kept readable."""
    return json.dumps(to_contract(digest), ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class Renderings:
    markdown: str
    html: str
    text: str
    json: str


def render_all(digest: Digest) -> Renderings:
    """Every format at once, as stored in the warehouse and written to files."""
    return Renderings(render_markdown(digest), render_html(digest), render_text(digest), render_json(digest))
