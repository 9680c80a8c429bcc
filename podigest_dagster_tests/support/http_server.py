"""A real HTTP server on 127.0.0.1 whose routes the tests write: feeds, audio, transcripts, faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (a refused download) is expected here, not an error to print."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@dataclass
class Route:
    """What the server answers on one path. `handler` (if set) takes over the whole response."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class TestHTTPServer:
    """Serve `routes` (path -> Route) on 127.0.0.1 at a free port, recording every request."""

    __test__ = False

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append((self.path, dict(self.headers)))
                route = owner.routes.get(self.path) or owner.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.handler is not None:
                    route.handler(self)
                    return
                body, status, extra = _ranged(route, self.headers.get("Range"))
                self.send_response(status)
                for key, value in {**route.headers, **extra}.items():
                    self.send_header(key, value)
                if "Content-Length" not in route.headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", status: int = 200, **headers: str) -> str:
        """Serve `body` at `path`; header names use underscores (Content_Type=...). Returns the URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, status, {k.replace("_", "-"): v for k, v in headers.items()})
        return self.url(path)

    def add_handler(self, path: str, handler: Callable[[BaseHTTPRequestHandler], None]) -> str:
        self.routes[path] = Route(handler=handler)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p.split("?", 1)[0] == path)

    def start(self) -> TestHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _ranged(route: Route, header: str | None) -> tuple[bytes, int, dict[str, str]]:
    """The body, status and extra headers for a request, honouring `Range: bytes=...` on a 200 body as a
    real file server does (206 + Content-Range; 416 when it cannot be met): a browser needs it to start
    an <audio> at its `#t=` second."""
    from podigest_dagster.core.digest.site_server import byte_range

    if route.status != 200 or not route.body:
        return route.body, route.status, {}
    size = len(route.body)
    wanted = byte_range(header, size)
    if wanted is None:
        return route.body, 200, {"Accept-Ranges": "bytes"}
    if wanted is False:
        return b"", 416, {"Content-Range": f"bytes */{size}"}
    first, last = wanted
    return route.body[first : last + 1], 206, {"Accept-Ranges": "bytes", "Content-Range": f"bytes {first}-{last}/{size}"}


def trickle(chunks: int, delay_s: float, content_type: str = "audio/mpeg") -> Callable[[BaseHTTPRequestHandler], None]:
    """A handler that sends one byte every `delay_s` seconds (a server that never really finishes)."""

    def handle(req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(chunks))
        req.end_headers()
        try:
            for _ in range(chunks):
                req.wfile.write(b"I")
                req.wfile.flush()
                time.sleep(delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return handle


def serve() -> Iterator[TestHTTPServer]:
    server = TestHTTPServer().start()
    try:
        yield server
    finally:
        server.stop()
