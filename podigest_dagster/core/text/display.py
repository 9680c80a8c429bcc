"""Untrusted text made displayable: one clean line, and one escaped Markdown table cell for the Dagster UI."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """One line of displayable text: control and bidi-override characters dropped, whitespace collapsed."""
    return _SPACES.sub(" ", _CONTROL.sub("", text or "")).strip()


_MD_CELL_ACTIVE = re.compile(r"([\\`*_\[\]<>|#!~&])")


def md_cell(text: object, limit: int = 160) -> str:
    """Untrusted text for one Markdown table cell (Dagster UI previews): cleaned to one line, cut to
    `limit` characters, then every character that could open a link, image, HTML tag, emphasis or a new
    column backslash-escaped, so a transcript's `![x](http://...)` shows as text and loads nothing."""
    flat = clean_text(str(text))
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_CELL_ACTIVE.sub(r"\\\1", flat)


def byte_size(size: int) -> str:
    """A size for people: `1.2 GB`, `310.0 MB`, `4.0 kB`, `12 B` (decimal units, as disks are sold)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
