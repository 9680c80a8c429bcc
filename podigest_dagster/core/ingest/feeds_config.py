"""The list of feeds to poll: feeds.yaml (url, optional name), OPML import, merging without duplicates."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import yaml
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from podigest_dagster.core.net.untrusted import display_url

__all__ = [
    "FeedSpec", "FeedsConfigError", "OpmlImport", "display_url", "load_feeds", "merge_feeds", "parse_opml",
    "read_opml", "save_feeds", "url_problem",
]  # fmt: skip

FEED_SCHEMES = ("http://", "https://", "file://")


class FeedsConfigError(ValueError):
    """feeds.yaml or an OPML file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class FeedSpec:
    """One feed to poll: its URL and the name the user gave it (None: use the feed's own title)."""

    url: str
    name: str | None = None


def load_feeds(path: str | Path) -> list[FeedSpec]:
    """Read feeds.yaml (`feeds: [{url: ..., name: ...}]`, a bare URL string also accepted)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FeedsConfigError(
            f"{path}: feeds file not found (create it or run `podigest feeds import`)"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedsConfigError(f"{path}: cannot read feeds file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FeedsConfigError(f"{path}: invalid YAML: {_one_line(exc)}") from exc
    return _specs_from(data, path)


def _specs_from(data: object, path: Path) -> list[FeedSpec]:
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("feeds", []), list):
        raise FeedsConfigError(f"{path}: expected a mapping with a `feeds:` list")
    specs: list[FeedSpec] = []
    for index, item in enumerate(data.get("feeds") or [], start=1):
        specs.append(_spec_from(item, f"{path}: feed #{index}"))
    return merge_feeds([], specs)[0]


def _spec_from(item: object, where: str) -> FeedSpec:
    if isinstance(item, str):
        item = {"url": item}
    if not isinstance(item, dict):
        raise FeedsConfigError(f"{where}: expected a mapping with `url` (and optional `name`)")
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise FeedsConfigError(f"{where}: missing `url`")
    url = url.strip()
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        name = str(name)
    name = name.strip() if name and name.strip() else None
    problem = url_problem(url)
    if problem:
        feed = f"{where} ({name})" if name else where
        raise FeedsConfigError(f"{feed}: url {display_url(url)!r} {problem}")
    return FeedSpec(url=url, name=name)


def save_feeds(path: str | Path, specs: list[FeedSpec]) -> None:
    """Write feeds.yaml atomically (a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"url": s.url, **({"name": s.name} if s.name else {})} for s in specs]
    text = yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class OpmlImport:
    """The usable feeds of an OPML export, and one line per outline skipped for an unusable URL."""

    specs: list[FeedSpec]
    skipped: list[str]


def parse_opml(data: bytes) -> list[FeedSpec]:
    """The usable feeds of an OPML export; outlines with unusable URLs are left out (see `read_opml`)."""
    return read_opml(data).specs


def read_opml(data: bytes) -> OpmlImport:
    """The feeds of an OPML export (any nesting of outlines with `xmlUrl`), parsed without XML tricks."""
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise FeedsConfigError(
            f"OPML refused: {type(exc).__name__} (DTD or entities are not allowed)"
        ) from exc
    except ParseError as exc:
        raise FeedsConfigError(f"OPML is not well-formed XML: {exc}") from exc
    if _local(root.tag).lower() != "opml":
        raise FeedsConfigError(f"not an OPML document (root element is <{_local(root.tag)}>)")
    specs, skipped = [], []
    for outline in root.iter():
        if _local(outline.tag) != "outline":
            continue
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not url:
            continue
        name = (attrs.get("title") or attrs.get("text") or "").strip() or None
        problem = "is not an http(s) URL" if url.lower().startswith("file:") else url_problem(url)
        if problem:
            skipped.append(f"{name or 'outline'}: url {display_url(url)!r} {problem}")
        else:
            specs.append(FeedSpec(url=url, name=name))
    return OpmlImport(merge_feeds([], specs)[0], skipped)


def merge_feeds(existing: list[FeedSpec], new: list[FeedSpec]) -> tuple[list[FeedSpec], int]:
    """Existing feeds followed by the new ones whose URL is not there yet; and how many were added."""
    merged = list(existing)
    seen = {_key(s.url) for s in existing}
    added = 0
    for spec in new:
        key = _key(spec.url)
        if key in seen:
            continue
        seen.add(key)
        merged.append(spec)
        added += 1
    return merged, added


def _key(url: str) -> str:
    return url.strip().rstrip("/")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def url_problem(url: str) -> str | None:
    """Why a feed URL cannot be polled (not http(s), no host, a port that is no port), or None."""
    if not url.lower().startswith(FEED_SCHEMES):
        return "is not an http(s) URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is malformed ({exc})"
    if parts.scheme.lower() != "file" and not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    return None
