"""Untrusted strings made safe to store and to show: valid UTF-8 text, URLs without their secrets."""

from __future__ import annotations

import re
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

T = TypeVar("T")
_SURROGATE = re.compile("[\ud800-\udfff]")
_USERINFO = re.compile(r"//[^/?#]*@")


def valid_text(text: str) -> str:
    """The text with lone surrogates (from JSON escapes) as U+FFFD: DuckDB refuses text UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def valid_value(value: T) -> T:
    """A value bound for the warehouse: strings made valid UTF-8, anything else unchanged."""
    return valid_text(value) if isinstance(value, str) else value  # type: ignore[return-value]


def display_url(url: str) -> str:
    """A URL fit for logs, errors and run metadata: credentials and query tokens (private feeds) left out; never raises."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return _USERINFO.sub("//", text.split("#", 1)[0].split("?", 1)[0]) + ("?…" if "?" in text else "")
    host_port = parts.netloc.rpartition("@")[2]
    suffix = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, host_port, parts.path, "", "")) + suffix


def is_web_url(url: str | None) -> bool:
    """An absolute http(s) URL without whitespace or control characters: what a browser can play or open
    (a `file://` enclosure, the demo's, is not one: the web archive plays a local copy of it instead)."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)
