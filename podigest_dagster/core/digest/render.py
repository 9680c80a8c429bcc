"""Render a day's top insights as Markdown, email-safe HTML, plain text and the contract JSON.

All insight, podcast and episode text comes from strangers' feeds and transcripts: every
rendering escapes it for its own format (HTML through Jinja2 templates with autoescape, in
core/digest/templates/), and links are kept only when they are http(s).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from podigest_dagster.core.insights.selection import Source
from podigest_dagster.core.net.untrusted import is_web_url
from podigest_dagster.core.text.display import clean_text
from podigest_dagster.core.transcribe.publisher import speaker_name

BRAND = "podigest"
NO_INSIGHTS = "No insights today: no new episode said anything worth your time."


@dataclass(frozen=True)
class DigestItem:
    """One item: its text, who said it ("" when unknown), where (sources) and the other shows' passages on
    the same story (coverage, empty when one show told it; rows stored before migration 008 have neither)."""

    rank: int
    insight: str
    support: int
    sources: list[Source] = field(default_factory=list)
    topic: str = ""
    speaker: str = ""
    coverage: list[Source] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    date: str
    items: list[DigestItem] = field(default_factory=list)


def subject(date: str) -> str:
    """The email subject and the title of every rendering."""
    return f"{BRAND} — top insights for {date}"


def sources_from_json(raw: str | None) -> list[Source]:
    """Parse a top_insights `sources` (or `coverage`) JSON list, ignoring entries that are not objects."""
    entries = json.loads(raw) if raw else []
    if not isinstance(entries, list):
        return []
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
    return url if is_web_url(url) else None


def source_label(source: Source) -> str:
    """ "Show — Episode @ 12:03" (cleaned, not escaped)."""
    parts = [part for part in (clean_text(source.podcast), clean_text(source.episode)) if part]
    label = " — ".join(parts) or "untitled episode"
    stamp = format_timestamp(source.start_s)
    return f"{label} @ {stamp}" if stamp else label


ALSO_DISCUSSED = "Also discussed on"


def named_speaker(speaker: str | None) -> str:
    """The speaker as one clean line, or "" when unknown or only a diarization placeholder ("Speaker 1")."""
    return clean_text(speaker_name(speaker))


def item_show(item: DigestItem) -> str:
    """The show the item is quoted from: its first source's podcast."""
    return clean_text(item.sources[0].podcast) if item.sources else ""


def speaker_line(item: DigestItem) -> str:
    """Who said it, as "Name, Show" ("" when the transcript names no one)."""
    name = named_speaker(item.speaker)
    if not name:
        return ""
    show = item_show(item)
    return f"{name}, {show}" if show else name


def covered_by(item: DigestItem) -> int:
    """How many shows told the story: the item's own and each other show in its coverage (0 without coverage)."""
    own = item_show(item).casefold()
    others = {clean_text(s.podcast).casefold() for s in item.coverage} - {own}
    return 1 + len(others) if item.coverage else 0


def coverage_line(item: DigestItem) -> str:
    """ "Covered by N shows", or "" when one show told it."""
    count = covered_by(item)
    return f"Covered by {count} shows" if count else ""


def coverage_label(source: Source) -> str:
    """ "Show @ 45:00" (cleaned, not escaped): one entry of the "Also discussed on" line."""
    show = clean_text(source.podcast) or clean_text(source.episode) or "untitled show"
    stamp = format_timestamp(source.start_s)
    return f"{show} @ {stamp}" if stamp else show


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
        topic = f"**{escape_markdown(item.topic)}** — " if clean_text(item.topic) else ""
        lines.append(f"{item.rank}. {topic}{escape_markdown(item.insight)}")
        if speaker_line(item):
            lines.append(f"   *— {escape_markdown(speaker_line(item))}*")
        for source in item.sources:
            lines.append(f"   - {_markdown_link(source_label(source), source.url)}")
        if item.coverage:
            # a blank line first: otherwise the line would continue the last source's bullet
            also = ", ".join(_markdown_link(coverage_label(s), s.url) for s in item.coverage)
            lines += ["", f"   *{coverage_line(item)}*", "", f"   {ALSO_DISCUSSED}: {also}"]
        lines.append("")
    return "\n".join(lines)


def _markdown_link(label: str, url: str | None) -> str:
    """An escaped label, linked when the URL is http(s)."""
    safe = safe_url(url)
    return f"[{escape_markdown(label)}]({_markdown_url(safe)})" if safe else escape_markdown(label)


def render_text(digest: Digest) -> str:
    """The digest as plain text, the email's text/plain part."""
    lines = [subject(digest.date), ""]
    if not digest.items:
        return "\n".join([*lines, NO_INSIGHTS, ""])
    for item in digest.items:
        topic = f"{clean_text(item.topic).upper()}: " if clean_text(item.topic) else ""
        lines.append(f"{item.rank}. {topic}{clean_text(item.insight)}")
        if speaker_line(item):
            lines.append(f"   — {speaker_line(item)}")
        for source in item.sources:
            url = safe_url(source.url)
            lines.append(f"   - {source_label(source)}" + (f": {url}" if url else ""))
        if item.coverage:
            also = ", ".join(_text_link(coverage_label(s), s.url) for s in item.coverage)
            lines += [f"   {coverage_line(item)}", f"   {ALSO_DISCUSSED}: {also}"]
        lines.append("")
    return "\n".join(lines)


def _text_link(label: str, url: str | None) -> str:
    """ "Label (url)", or the label alone when the URL is not http(s)."""
    safe = safe_url(url)
    return f"{label} ({safe})" if safe else label


TEMPLATE_PACKAGE = "podigest_dagster.core.digest"
DIGEST_TEMPLATE = "digest.html"
# markupsafe writes quotes as &#34; / &#39;; digests have always used &quot; / &#x27; (same characters).
_QUOTE_ENTITIES = {"&#34;": "&quot;", "&#39;": "&#x27;"}


@cache
def templates() -> Environment:
    """The Jinja2 environment of the package's HTML templates (core/digest/templates/), autoescaping
    every value and refusing an undefined one."""
    return Environment(
        loader=PackageLoader(TEMPLATE_PACKAGE, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context: object) -> str:
    """Render one HTML template with plain-text values (escaped by the template, never pre-escaped)."""
    markup = templates().get_template(template).render(**context)
    for entity, named in _QUOTE_ENTITIES.items():
        markup = markup.replace(entity, named)
    return markup


def _html_source(source: Source) -> dict[str, str | None]:
    return {"label": source_label(source), "url": safe_url(source.url)}


def _html_item(item: DigestItem) -> dict[str, object]:
    return {
        "rank": int(item.rank),
        "topic": clean_text(item.topic),
        "insight": clean_text(item.insight),
        "speaker": speaker_line(item),
        "sources": [_html_source(source) for source in item.sources],
        "covered_by": coverage_line(item),
        "coverage": [{"label": coverage_label(s), "url": safe_url(s.url)} for s in item.coverage],
    }


def render_html(digest: Digest) -> str:
    """The digest as a self-contained HTML email: tables and inline styles, no external CSS or script."""
    return render_page(
        DIGEST_TEMPLATE,
        title=subject(digest.date),
        items=[_html_item(item) for item in digest.items],
        no_insights=NO_INSIGHTS,
        also_discussed=ALSO_DISCUSSED,
    )


def to_contract(digest: Digest) -> dict:
    """The digest in the documented JSON contract shape (text verbatim; consumers escape). Fields are only
    ever added: `speaker` ("" when unknown) and `coverage` (the other shows' moments) came after the rest."""
    return {
        "date": digest.date,
        "items": [
            {
                "rank": item.rank,
                "topic": item.topic,
                "insight": item.insight,
                "speaker": named_speaker(item.speaker),
                "support": item.support,
                "sources": [_contract_source(s) for s in item.sources],
                "coverage": [_contract_source(s) for s in item.coverage],
            }
            for item in digest.items
        ],
    }


def _contract_source(s: Source) -> dict:
    return {"podcast": s.podcast, "episode": s.episode, "url": s.url, "start_s": s.start_s}


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
