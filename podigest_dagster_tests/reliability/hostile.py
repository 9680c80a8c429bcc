"""Helpers for hostile-input tests: endless HTTP bodies and a checker that a rendering carries no live markup."""

from __future__ import annotations

import time
from collections.abc import Callable
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler

CHUNK = 64 * 1024
SAFE_TAGS = frozenset(
    {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "table",
        "tr",
        "td",
        "p",
        "ul",
        "ol",
        "li",
        "a",
        "h1",
        "em",
        "strong",
    }
)


def endless(
    head: bytes, filler: bytes, content_type: str, limit: int | None = None, sent: list[int] | None = None
):
    """A handler streaming `head` then `filler` forever (or up to `limit` bytes), with no Content-Length.

    Bytes written are added to `sent`, so a test can tell the client hung up long before the end.
    """

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Connection", "close")
        req.end_headers()
        req.close_connection = True
        block = filler * max(1, CHUNK // max(1, len(filler)))
        total = 0
        try:
            req.wfile.write(head)
            total += len(head)
            while limit is None or total < limit:
                req.wfile.write(block)
                total += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            if sent is not None:
                sent.append(total)

    return handle


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(302)
        req.send_header("Location", location)
        req.send_header("Content-Length", "0")
        req.end_headers()

    return handle


def slow_bytes(delay_s: float, content_type: str) -> Callable[[BaseHTTPRequestHandler], None]:
    """One byte every `delay_s` seconds, forever: each read succeeds, only an overall deadline ends it."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Connection", "close")
        req.end_headers()
        try:
            while True:
                req.wfile.write(b" ")
                req.wfile.flush()
                time.sleep(delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return handle


class MarkupAudit(HTMLParser):
    """Parses an HTML rendering, collecting its tags, attributes, link targets and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.event_attrs: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.event_attrs.append(name)
            if name in {"href", "src", "action", "formaction", "xlink:href"}:
                self.hrefs.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def audit(html: str) -> MarkupAudit:
    parser = MarkupAudit()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str, payloads: list[str]) -> None:
    """No tag beyond the rendering's own, no event handler, only http(s) links, every payload shown as text."""
    found = audit(html)
    assert found.tags <= SAFE_TAGS, found.tags - SAFE_TAGS
    assert found.event_attrs == []
    assert found.comments == []
    assert all(h.lower().startswith(("http://", "https://")) for h in found.hrefs), found.hrefs
    visible = " ".join("".join(found.text).split())
    for payload in payloads:
        assert payload in visible, payload
