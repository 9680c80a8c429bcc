"""Bounded HTTP GETs of untrusted URLs: size cap, overall deadline, redirects checked hop by hop.

Every hop is resolved and checked by netguard, and the connection goes to a checked address (no
second DNS lookup an attacker could answer differently). Reads happen chunk by chunk with the
socket timeout capped by what is left of the overall deadline, so a server trickling one byte
every few seconds is cut off on time. `file://` is served only from the bundled demo directory.
"""

from __future__ import annotations

import http.client
import mimetypes
import os
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

from podigest_dagster import settings
from podigest_dagster.core.net import netguard
from podigest_dagster.core.net.netguard import BlockedURL, FetchError
from podigest_dagster.core.net.untrusted import display_url

__all__ = ["BlockedURL", "FetchError", "HttpResult", "get", "stream_to_file", "with_retries"]

USER_AGENT = "podigest/0.1 (podcast digest; +https://github.com/podigest)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 425, 429})
CHUNK_BYTES = 64 * 1024

T = TypeVar("T")
Sink = Callable[[bytes], None]
HeadersCheck = Callable[[dict[str, str]], None]


@dataclass(frozen=True)
class HttpResult:
    """A finished GET: status, final URL after redirects, lower-cased headers, body (empty when streamed)."""

    status: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class _Deadline:
    """The overall time budget of one fetch, redirects and body included."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def error(self) -> FetchError:
        return FetchError(f"overall deadline of {self.seconds:g}s exceeded")

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.error()
        return left


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    connect_timeout_s: float
    read_timeout_s: float
    deadline: _Deadline
    allow_private: bool
    max_redirects: int


def get(
    url: str,
    *,
    max_bytes: int,
    connect_timeout_s: float = 10,
    read_timeout_s: float = 30,
    deadline_s: float = 120,
    allow_private: bool | None = None,
    headers: dict[str, str] | None = None,
    max_redirects: int = 5,
) -> HttpResult:
    """GET `url` into memory; FetchError on any failure (size, deadline, redirects, refusal, HTTP >= 400)."""
    limits = _limits(max_bytes, connect_timeout_s, read_timeout_s, deadline_s, allow_private, max_redirects)
    chunks: list[bytes] = []
    result = _fetch(url, chunks.append, None, limits, headers)
    body = _decode(b"".join(chunks), result.headers.get("content-encoding", ""), max_bytes)
    return HttpResult(result.status, result.url, result.headers, body)


def stream_to_file(
    url: str,
    dest_tmp_path: str | Path,
    *,
    max_bytes: int,
    connect_timeout_s: float = 10,
    read_timeout_s: float = 30,
    deadline_s: float = 120,
    allow_private: bool | None = None,
    headers: dict[str, str] | None = None,
    max_redirects: int = 5,
    on_headers: HeadersCheck | None = None,
    on_chunk: Sink | None = None,
) -> HttpResult:
    """GET `url` writing chunks to `dest_tmp_path` as they arrive; the partial file is removed on failure.

    `on_headers` may raise to refuse a response before its body is read; `on_chunk` sees every chunk
    (for hashing). The result has no body.
    """
    limits = _limits(max_bytes, connect_timeout_s, read_timeout_s, deadline_s, allow_private, max_redirects)
    dest = Path(dest_tmp_path)
    try:
        with dest.open("wb") as out:

            def sink(chunk: bytes) -> None:
                out.write(chunk)
                if on_chunk is not None:
                    on_chunk(chunk)

            result = _fetch(url, sink, on_headers, limits, headers)
            out.flush()
            _fsync(out.fileno())
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return result


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    on_retry: Callable[[int, FetchError], None] | None = None,
) -> T:
    """Run `call`, trying again up to `retries` times with exponential backoff, on transient errors only.

    Size caps, refusals, deadlines and 4xx answers are final: trying again would give the same answer.
    """
    for attempt in range(retries + 1):
        try:
            return call()
        except FetchError as exc:
            if not exc.transient or attempt >= retries:
                raise
            if on_retry is not None:
                on_retry(attempt + 1, exc)
            time.sleep(backoff_s * 2**attempt)
    raise AssertionError("unreachable")


def _limits(
    max_bytes: int,
    connect_timeout_s: float,
    read_timeout_s: float,
    deadline_s: float,
    allow_private: bool | None,
    max_redirects: int,
) -> _Limits:
    allowed = settings.allow_private_network() if allow_private is None else allow_private
    return _Limits(
        max_bytes, connect_timeout_s, read_timeout_s, _Deadline(deadline_s), allowed, max_redirects
    )


def _fsync(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass


def _fetch(
    url: str, sink: Sink, on_headers: HeadersCheck | None, limits: _Limits, headers: dict[str, str] | None
) -> HttpResult:
    """Dispatch on scheme: demo files are read from disk, everything else goes through netguard."""
    if urlsplit(url).scheme.lower() == "file":
        return _read_demo_file(url, sink, on_headers, limits.max_bytes)
    conn, resp, final_url, sock = _open(url, limits, headers or {})
    try:
        result_headers = _headers(resp)
        if resp.status >= 400:
            raise _status_error(resp.status, resp.reason, final_url)
        result = HttpResult(resp.status, final_url, result_headers)
        if resp.status == 304:
            return result
        _check_declared_length(result_headers, limits.max_bytes)
        if on_headers is not None:
            on_headers(result_headers)
        _read_body(resp, sock, sink, limits, urlsplit(final_url).hostname or final_url)
        return result
    finally:
        resp.close()
        conn.close()


def _open(
    url: str, limits: _Limits, headers: dict[str, str]
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, str, socket.socket]:
    """Send the request, following redirects by hand and checking every hop."""
    current = _strip_fragment(url)
    seen = {current}
    for _ in range(limits.max_redirects + 1):
        conn, resp, sock = _request(current, limits, headers)
        location = resp.getheader("location")
        if resp.status not in REDIRECT_STATUSES or not location:
            return conn, resp, current, sock
        resp.close()
        conn.close()
        target = _strip_fragment(urljoin(current, location.strip()))
        if target in seen:
            raise FetchError(f"redirect loop: {display_url(target)} was already visited")
        seen.add(target)
        current = target
    raise FetchError(f"too many redirects (more than {limits.max_redirects})")


def _request(
    url: str, limits: _Limits, headers: dict[str, str]
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, socket.socket]:
    scheme, host, port = netguard.split_host_port(url)
    addresses = netguard.checked_addresses(url, limits.allow_private)
    conn = _connection(scheme, host, port, min(limits.connect_timeout_s, limits.deadline.remaining()))
    conn._create_connection = _pinned_connect(addresses)  # type: ignore[attr-defined]
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
    try:
        conn.request("GET", _target(url), headers=request_headers)
        sock = conn.sock
        sock.settimeout(min(limits.read_timeout_s, limits.deadline.remaining()))
        resp = conn.getresponse()
    except FetchError:
        conn.close()
        raise
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise _network_error(exc, host, limits.deadline) from exc
    return conn, resp, sock


def _connection(scheme: str, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _pinned_connect(addresses: list[str]) -> Callable[..., socket.socket]:
    """A replacement for socket.create_connection that dials only the addresses netguard checked."""

    def connect(address: tuple[str, int], timeout: float | None = None, source_address=None) -> socket.socket:
        last: OSError | None = None
        for ip in addresses:
            try:
                return socket.create_connection((ip, address[1]), timeout, source_address)
            except OSError as exc:
                last = exc
        raise last or OSError("no address to connect to")

    return connect


def _read_body(
    resp: http.client.HTTPResponse, sock: socket.socket, sink: Sink, limits: _Limits, host: str
) -> None:
    """Read chunk by chunk, never waiting past the deadline, never keeping more than the cap."""
    total = 0
    while True:
        try:
            sock.settimeout(min(limits.read_timeout_s, limits.deadline.remaining()))
            chunk = resp.read1(CHUNK_BYTES)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, host, limits.deadline) from exc
        if not chunk:
            return
        total += len(chunk)
        if total > limits.max_bytes:
            raise FetchError(f"response is over the size cap of {limits.max_bytes} bytes")
        sink(chunk)


def _network_error(exc: BaseException, host: str, deadline: _Deadline) -> FetchError:
    if deadline.expired():
        return deadline.error()
    if isinstance(exc, TimeoutError | socket.timeout):
        return FetchError(f"timed out waiting for {host}", transient=True)
    reason = str(exc) or type(exc).__name__
    return FetchError(f"connection to {host} failed: {reason}", transient=True)


def _status_error(status: int, reason: str, url: str) -> FetchError:
    transient = status in TRANSIENT_STATUSES or status >= 500
    host = urlsplit(url).hostname or display_url(url)
    return FetchError(f"HTTP {status} {reason} from {host}".strip(), status=status, transient=transient)


def _check_declared_length(headers: dict[str, str], max_bytes: int) -> None:
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response of {int(declared)} bytes is over the size cap of {max_bytes} bytes")


def _headers(resp: http.client.HTTPResponse) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in resp.getheaders():
        name = key.lower()
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def _decode(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """Undo gzip/deflate a server applied anyway, refusing to inflate past the cap (zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding not in {"gzip", "x-gzip", "deflate"}:
        return body
    wbits = 47 if encoding != "deflate" else 15
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(f"corrupt {encoding} response: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise FetchError(f"decompressed response is over the size cap of {max_bytes} bytes")
    return out


URL_SAFE = "/%:@!$&'()*+,;=~?"


def _target(url: str) -> str:
    """The request target, with spaces, control and non-ASCII characters percent-encoded as browsers do."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe=URL_SAFE)
    return f"{path}?{quote(parts.query, safe=URL_SAFE)}" if parts.query else path


def _strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _read_demo_file(url: str, sink: Sink, on_headers: HeadersCheck | None, max_bytes: int) -> HttpResult:
    """Serve a file:// URL, but only from inside the bundled demo directory."""
    path = demo_file_path(url)
    size = path.stat().st_size
    if size > max_bytes:
        raise FetchError(f"file of {size} bytes is over the size cap of {max_bytes} bytes")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"content-type": content_type, "content-length": str(size)}
    if on_headers is not None:
        on_headers(headers)
    with path.open("rb") as src:
        while chunk := src.read(CHUNK_BYTES):
            sink(chunk)
    return HttpResult(200, url, headers)


def demo_file_path(url: str) -> Path:
    """The local path of a file:// URL inside the demo directory; BlockedURL for any other path."""
    parts = urlsplit(url)
    if parts.netloc not in {"", "localhost"}:
        raise BlockedURL("refused file:// URL with a remote host")
    path = Path(url2pathname(parts.path)).resolve()
    if not path.is_relative_to(settings.demo_dir()):
        raise BlockedURL("refused file:// URL outside the bundled demo directory")
    if not path.is_file():
        raise FetchError(f"no such demo file: {path.name}", status=404)
    return path
