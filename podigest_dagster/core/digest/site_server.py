"""`podigest site serve`: the web archive on 127.0.0.1, with HTTP Range requests (a browser needs them to
start an <audio> at its `#t=` second: it asks for `bytes=N-` and expects 206 Partial Content) and the
archive's search page rendered from the search index.

Only files inside the site folder are served (no directory listing, no dotfiles); every response says
what it is (Content-Type, nosniff) and carries a Content-Security-Policy allowing no script at all.
"""

from __future__ import annotations

import json
import mimetypes
import re
import threading
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from podigest_dagster.core.digest.site import (
    AUDIO_FOLDER,
    AUDIO_INDEX,
    player_for_hit,
    render_search,
    templates,
)

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self' http: https:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".xml": "application/rss+xml",
         ".json": "application/json", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg",
         ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".webm": "audio/webm", ".aac": "audio/aac"}  # fmt: skip

Search = Callable[[str, str | None, date | None], list]
"""Runs a query (text, show filter, since) and returns its hits; raises ValueError with a reason for the user."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) bytes a `Range: bytes=...` header asks for; None for the whole file (no header, or
    one we do not serve: several ranges, another unit); False when it cannot be satisfied."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if not found or (not found[1] and not found[2]):
        return None
    if not found[1]:
        length = int(found[2])
        return (max(size - length, 0), size - 1) if length and size else False
    first = int(found[1])
    last = min(int(found[2]), size - 1) if found[2] else size - 1
    if first >= size or first > last:
        return False
    return first, last


class SiteServer:
    """The site folder served on `host:port` (port 0: a free one) until `stop()`."""

    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, search: Search | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.search = search
        self.env = templates()
        server = self

        class Handler(SiteHandler):
            site = server

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> SiteServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def audio_index(self) -> dict[str, str]:
        """episode_id -> file under audio/ (the site's local copies of audio with no web URL)."""
        try:
            found = json.loads((self.root / AUDIO_FOLDER / AUDIO_INDEX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


class SiteHandler(BaseHTTPRequestHandler):
    site: SiteServer
    protocol_version = "HTTP/1.1"
    server_version = "podigest"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def version_string(self) -> str:
        return self.server_version

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        try:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            if path in ("/search.html", "/search") and parts.query and self.site.search is not None:
                self._search(parse_qs(parts.query), head)
                return
            file = self._file(path)
            if file is None:
                self._send_text(HTTPStatus.NOT_FOUND, "not found", head)
                return
            self._send_file(file, head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _file(self, path: str) -> Path | None:
        """The file a URL path names inside the site folder, or None (outside it, hidden, missing, a folder)."""
        if "\0" in path or "\\" in path:
            return None
        relative = path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        if any(part.startswith(".") for part in relative.split("/")):
            return None
        candidate = (self.site.root / relative).resolve()
        if not candidate.is_relative_to(self.site.root) or not candidate.is_file():
            return None
        return candidate

    def _headers(self, content_type: str, length: int) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)

    def _send_file(self, file: Path, head: bool) -> None:
        size = file.stat().st_size
        content_type = (
            TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        wanted = byte_range(self.headers.get("Range"), size)
        if wanted is False:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self._headers("text/plain; charset=utf-8", 0)
            self.end_headers()
            return
        first, last = wanted if wanted else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted else HTTPStatus.OK)
        self.send_header("Accept-Ranges", "bytes")
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        if file.suffix == ".html":
            self.send_header("Cache-Control", "no-cache")
        self._headers(content_type, max(last - first + 1, 0))
        self.end_headers()
        if head or size == 0:
            return
        with file.open("rb") as source:
            source.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = source.read(min(CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _send_text(
        self, status: HTTPStatus, text: str, head: bool, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self._headers(content_type, len(body))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _search(self, params: dict[str, list[str]], head: bool) -> None:
        query = (params.get("q") or [""])[0]
        show = (params.get("show") or [""])[0] or None
        since_text = (params.get("since") or [""])[0]
        hits, error = [], None
        try:
            since = _since(since_text)
            hits = self.site.search(query, show, since)
        except ValueError as exc:
            error = str(exc) or "that search cannot be run"
        index = self.site.audio_index()
        rows = [
            (hit, player_for_hit(hit, index), (self.site.root / f"{hit.day}.html").is_file()) for hit in hits
        ]
        page = render_search(
            self.site.env, "", query, rows, served=True, error=error, show=show or "", since=since_text
        )
        self._send_text(HTTPStatus.OK, page, head, "text/html; charset=utf-8")


def _since(text: str) -> date | None:
    """The search form's "since" day; ValueError with a reason a reader understands."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text.strip()[:40]!r}") from None


def index_search(index_path: Path, embed: Callable | None = None, limit: int = 20) -> Search:
    """The archive's search: the search index at `index_path`, opened for each query (so the index can be
    updated between them), words and (with `embed`) meaning."""
    from podigest_dagster.core.search.query import open_index, search

    def run(query: str, show: str | None, since: date | None) -> list:
        with open_index(index_path) as conn:
            return search(conn, query, embed=embed, show=show, since=since, limit=limit)

    return run
