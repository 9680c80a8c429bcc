"""Transcripts the publisher already made (`podcast:transcript`): pick the best, fetch it, parse it to segments.

Supports WebVTT, SRT, the Podcasting 2.0 JSON format, plain text and HTML. The text is untrusted:
it is only ever stored as data, never interpreted.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from podigest_dagster.core.net import http
from podigest_dagster.core.net.html_text import html_to_text
from podigest_dagster.core.net.limits import MAX_TRANSCRIPT_BYTES
from podigest_dagster.core.net.untrusted import display_url, valid_text
from podigest_dagster.core.text.sentences import split_sentences
from podigest_dagster.core.transcribe.segments import Segment

MERGE_MAX_S = 30.0

FORMATS = ("vtt", "srt", "json", "text", "html")
_TYPE_FORMATS = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "application/x-srt": "srt",
    "application/json": "json",
    "text/json": "json",
    "text/plain": "text",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
_EXT_FORMATS = {
    ".vtt": "vtt",
    ".srt": "srt",
    ".json": "json",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
}

_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)"
)
_TAG = re.compile(r"<[^>]*>")


class TranscriptError(Exception):
    """A publisher transcript could not be fetched or holds no usable text."""


def transcript_format(content_type: str | None, url: str = "", body: bytes = b"") -> str:
    """vtt | srt | json | text | html: a WEBVTT header, then a specific MIME type, the URL's extension, the content."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"WEBVTT"):
        return "vtt"
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _TYPE_FORMATS and mime != "text/plain":
        return _TYPE_FORMATS[mime]
    path = urlsplit(url).path.lower()
    for ext, fmt in _EXT_FORMATS.items():
        if path.endswith(ext):
            return fmt
    text = head.decode("utf-8", errors="replace")
    if any(_TIMING.match(line) for line in text.splitlines()[:4]):
        return "srt"
    if head.startswith((b"{", b"[")):
        return "json"
    if head.lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _charset(content_type: str | None) -> str | None:
    match = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    return match.group(1) if match else None


def decode_text(body: bytes, content_type: str | None = None) -> str:
    """Bytes to text: the declared charset, else UTF-8 (with BOM), else Latin-1."""
    for encoding in (_charset(content_type), "utf-8-sig", "latin-1"):
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def parse_timestamp(value: str) -> float:
    """`hh:mm:ss.mmm`, `mm:ss.mmm` or `hh:mm:ss,mmm` to seconds."""
    fields = value.strip().replace(",", ".").split(":")
    seconds = 0.0
    for field in fields:
        seconds = seconds * 60 + float(field)
    return seconds


_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]{1,80})>", re.I)
_NAME_PREFIX = re.compile(r"^\s*([A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){0,3}|[A-Z][A-Z .'-]{1,40}):\s+(?=\S)")
_GENERIC_SPEAKER = re.compile(
    r"^(?:speaker|spk|spkr|voice|person|guest|host|unknown|unidentified|participant|interviewer|"
    r"interviewee|narrator|male|female|man|woman)?[\s_-]*(?:\d+|[a-z])?$",
    re.I,
)
_NOT_A_NAME = {"note", "update", "warning", "edit", "correction", "source", "music", "sponsor", "ad", "transcript"}


def speaker_name(raw: object) -> str | None:
    """A real speaker's name from a transcript's label, or None: generic labels ("Speaker 1",
    "SPEAKER_00", "Guest 2", "Unknown") are diarization guesses and count as no label."""
    if not isinstance(raw, str):
        return None
    name = " ".join(html.unescape(raw).split())[:60].strip(" :")
    if not name or _GENERIC_SPEAKER.fullmatch(name) or name.lower() in _NOT_A_NAME:
        return None
    return valid_text(name)


def split_speaker_prefix(text: str) -> tuple[str | None, str]:
    """A leading `Name:` label of a cue or a line, and the text after it (None and the text when absent or
    generic)."""
    match = _NAME_PREFIX.match(text)
    if not match or match.group(1).lower() in _NOT_A_NAME:
        return None, text
    rest = text[match.end() :]
    return speaker_name(match.group(1)), rest


def cue_speaker(raw: str) -> str | None:
    """The speaker of a WebVTT cue's `<v Name>` voice tag, when it names a real speaker."""
    match = _VOICE.search(raw)
    return speaker_name(match.group(1)) if match else None


def clean_cue_text(text: str) -> str:
    """Cue markup (`<v Speaker>`, `<i>`, inline timestamps) removed, entities decoded, whitespace folded."""
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _numbered(segments: list[Segment]) -> list[Segment]:
    return [
        Segment(i, s.start_s, s.end_s, valid_text(s.text), speaker=s.speaker)
        for i, s in enumerate(s for s in segments if s.text.strip())
    ]


def parse_cues(text: str) -> list[Segment]:
    """WebVTT or SRT cues: a timing line, then text lines up to a blank line (NOTE/STYLE blocks skipped)."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    segments = []
    for block in blocks:
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines):
            match = _TIMING.match(line)
            if match:
                raw = " ".join(lines[i + 1 :])
                speaker, body = cue_speaker(raw), clean_cue_text(raw)
                if speaker is None:
                    speaker, body = split_speaker_prefix(body)
                start, end = parse_timestamp(match.group(1)), parse_timestamp(match.group(2))
                segments.append(Segment(0, start, max(start, end), body, speaker=speaker))
                break
    return _numbered(segments)


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"')] ").endswith((".", "!", "?", "…"))


def merge_fragments(segments: list[Segment], max_s: float = MERGE_MAX_S) -> list[Segment]:
    """Join word-level or phrase-level pieces into sentences of at most `max_s` seconds."""
    merged: list[Segment] = []
    for seg in segments:
        last = merged[-1] if merged else None
        same_turn = last is not None and (seg.speaker is None or seg.speaker == last.speaker)
        if last and same_turn and not _ends_sentence(last.text) and seg.end_s - last.start_s <= max_s:
            merged[-1] = Segment(0, last.start_s, seg.end_s, f"{last.text} {seg.text}", speaker=last.speaker)
        else:
            merged.append(seg)
    return _numbered(merged)


def parse_json(text: str) -> list[Segment]:
    """The Podcasting 2.0 JSON transcript: `{"segments": [{"startTime", "endTime", "speaker", "body"}]}`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TranscriptError(f"invalid JSON transcript: {exc}") from exc
    except RecursionError as exc:
        raise TranscriptError("invalid JSON transcript: nested too deeply") from exc
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise TranscriptError("JSON transcript has no segments list")
    segments = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            start = float(item.get("startTime") or 0.0)
            end = float(item.get("endTime") or start)
        except (TypeError, ValueError):
            continue
        body = clean_cue_text(str(item.get("body") or ""))
        speaker = speaker_name(item.get("speaker"))
        if speaker is None:
            speaker, body = split_speaker_prefix(body)
        segments.append(Segment(0, start, max(start, end), body, speaker=speaker))
    return merge_fragments(_numbered(segments))


def parse_plain(text: str) -> list[Segment]:
    """Plain text: one segment per sentence, all at time 0 (the publisher gave no timing); a paragraph's
    leading `NAME:` label is its speaker."""
    segments = []
    for paragraph in re.split(r"\n\s*\n", text):
        speaker, body = split_speaker_prefix(" ".join(paragraph.split()))
        segments.extend(Segment(0, 0.0, 0.0, s, speaker=speaker) for s in split_sentences(body, max_words=None))
    return _numbered(segments)


def parse_transcript(body: bytes, content_type: str | None, url: str) -> list[Segment]:
    """Segments from a transcript document of any supported format; TranscriptError if it has no text."""
    fmt = transcript_format(content_type, url, body)
    text = decode_text(body, content_type)
    if fmt in ("vtt", "srt"):
        segments = parse_cues(text)
    elif fmt == "json":
        segments = parse_json(text)
    elif fmt == "html":
        segments = parse_plain(html_to_text(text))
    else:
        segments = parse_plain(text)
    if not segments:
        raise TranscriptError(f"the {fmt} transcript at {display_url(url)} holds no text")
    return segments


def _entry_format(entry: dict) -> str | None:
    mime = str(entry.get("type") or "").split(";", 1)[0].strip().lower()
    if mime in _TYPE_FORMATS:
        return _TYPE_FORMATS[mime]
    path = urlsplit(str(entry.get("url") or "")).path.lower()
    return next((fmt for ext, fmt in _EXT_FORMATS.items() if path.endswith(ext)), None)


def choose_transcript(transcript_urls: list[dict] | None) -> dict | None:
    """The most useful transcript offered: VTT, then SRT, JSON, plain text, HTML; unknown types last."""
    candidates = [e for e in transcript_urls or [] if isinstance(e, dict) and e.get("url")]
    if not candidates:
        return None

    def rank(entry: dict) -> int:
        fmt = _entry_format(entry)
        return FORMATS.index(fmt) if fmt else len(FORMATS)

    return min(candidates, key=rank)


@dataclass(frozen=True)
class FetchedTranscript:
    """A publisher transcript as fetched: its segments, the bytes it took and the format it was read as."""

    segments: list[Segment]
    bytes: int
    format: str


def looks_like_html(body: bytes) -> bool:
    """The body is an HTML page (a login wall, an error or episode page), whatever its declared type."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta", b"<title"))


def get_transcript(
    entry: dict,
    *,
    max_bytes: int = MAX_TRANSCRIPT_BYTES,
    connect_timeout_s: float = 10,
    read_timeout_s: float = 30,
    deadline_s: float = 120,
    allow_private: bool | None = None,
    retries: int = 0,
    backoff_s: float = 2.0,
) -> FetchedTranscript:
    """Fetch and parse one `{"url", "type"}` transcript entry (transient failures tried again `retries`
    times); TranscriptError on any failure, an HTML page where the feed promised VTT, SRT or JSON included."""
    url = str(entry["url"])
    try:
        result = http.with_retries(
            lambda: http.get(
                url,
                max_bytes=max_bytes,
                connect_timeout_s=connect_timeout_s,
                read_timeout_s=read_timeout_s,
                deadline_s=deadline_s,
                allow_private=allow_private,
            ),
            retries=retries,
            backoff_s=backoff_s,
        )
    except http.FetchError as exc:
        raise TranscriptError(f"cannot fetch transcript {display_url(url)}: {exc}") from exc
    if result.status != 200:
        raise TranscriptError(f"cannot fetch transcript {display_url(url)}: HTTP {result.status}")
    declared = _entry_format(entry)
    content_type = result.headers.get("content-type") or entry.get("type")
    if declared in ("vtt", "srt", "json") and transcript_format(content_type, result.url, result.body) == "html":
        if looks_like_html(result.body):
            raise TranscriptError(
                f"the transcript link {display_url(url)} answered an HTML page, not the {declared} the feed declares"
            )
        content_type = entry.get("type")  # a server that calls every file text/html
    segments = parse_transcript(result.body, content_type, result.url)
    fmt = transcript_format(content_type, result.url, result.body)
    return FetchedTranscript(segments, len(result.body), fmt)
