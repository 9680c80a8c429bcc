"""core.http against a real server on 127.0.0.1: caps, deadlines, redirects and refusals."""

from __future__ import annotations

import gzip

import pytest

from podigest_dagster import settings
from podigest_dagster.core.net import http
from podigest_dagster.core.net.http import BlockedURL, FetchError
from podigest_dagster_tests.support.http_server import trickle

KB = 1024


def redirect_to(location: str, status: int = 302):
    def handle(req):
        req.send_response(status)
        req.send_header("Location", location)
        req.send_header("Content-Length", "0")
        req.end_headers()

    return handle


def unsized_body(body: bytes):
    """A response without Content-Length: only the running total can enforce the cap."""

    def handle(req):
        req.send_response(200)
        req.send_header("Content-Type", "application/octet-stream")
        req.send_header("Connection", "close")
        req.end_headers()
        req.wfile.write(body)
        req.close_connection = True

    return handle


def test_get_returns_status_body_final_url_and_lowercase_headers(http_server):
    url = http_server.add("/feed.xml", b"<rss/>", Content_Type="application/rss+xml", ETag='"v1"')
    result = http.get(url, max_bytes=KB, allow_private=True)
    assert (result.status, result.body, result.url) == (200, b"<rss/>", url)
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.headers["etag"] == '"v1"'


def test_redirect_is_followed_and_the_final_url_reported(http_server):
    target = http_server.add("/new.xml", b"moved here")
    url = http_server.add_handler("/old.xml", redirect_to("/new.xml", 301))
    result = http.get(url, max_bytes=KB, allow_private=True)
    assert result.body == b"moved here"
    assert result.url == target


def test_redirect_loop_is_refused(http_server):
    http_server.add_handler("/a", redirect_to("/b"))
    url = http_server.add_handler("/b", redirect_to("/a"))
    with pytest.raises(FetchError, match="redirect loop"):
        http.get(url, max_bytes=KB, allow_private=True)


def test_a_redirect_loop_error_leaves_out_the_private_feed_token(http_server):
    http_server.add_handler("/a?token=SECRET", redirect_to("/b?token=SECRET"))
    url = http_server.add_handler("/b?token=SECRET", redirect_to("/a?token=SECRET"))
    with pytest.raises(FetchError, match="redirect loop") as caught:
        http.get(url, max_bytes=KB, allow_private=True)
    assert "SECRET" not in str(caught.value)
    assert "/b?…" in str(caught.value)


def test_too_many_redirects_are_refused(http_server):
    for i in range(4):
        http_server.add_handler(f"/r{i}", redirect_to(f"/r{i + 1}"))
    http_server.add("/r4", b"end")
    with pytest.raises(FetchError, match="too many redirects"):
        http.get(http_server.url("/r0"), max_bytes=KB, allow_private=True, max_redirects=2)
    assert http.get(http_server.url("/r0"), max_bytes=KB, allow_private=True).body == b"end"


def test_redirect_to_cloud_metadata_is_refused_without_connecting(http_server):
    url = http_server.add_handler("/evil", redirect_to("http://169.254.169.254/latest/meta-data/"))
    with pytest.raises(BlockedURL, match="metadata"):
        http.get(url, max_bytes=KB, allow_private=True)


def test_redirect_to_file_scheme_is_refused(http_server):
    url = http_server.add_handler("/evil", redirect_to("file:///etc/passwd"))
    with pytest.raises(BlockedURL, match="scheme"):
        http.get(url, max_bytes=KB, allow_private=True)


def test_http_error_status_raises_with_the_status(http_server):
    with pytest.raises(FetchError, match="HTTP 404") as info:
        http.get(http_server.url("/missing"), max_bytes=KB, allow_private=True)
    assert info.value.status == 404
    assert not info.value.transient


def test_server_error_is_marked_transient(http_server):
    url = http_server.add("/busy", b"", status=503)
    with pytest.raises(FetchError) as info:
        http.get(url, max_bytes=KB, allow_private=True)
    assert info.value.status == 503 and info.value.transient


def test_not_modified_is_returned_not_raised(http_server):
    url = http_server.add("/feed.xml", b"", status=304, ETag='"v1"')
    result = http.get(url, max_bytes=KB, allow_private=True, headers={"If-None-Match": '"v1"'})
    assert result.status == 304 and result.body == b""
    assert http_server.requests[-1][1]["If-None-Match"] == '"v1"'


def test_declared_length_over_the_cap_is_refused(http_server):
    url = http_server.add("/big", b"x" * (4 * KB))
    with pytest.raises(FetchError, match="size cap"):
        http.get(url, max_bytes=KB, allow_private=True)


def test_undeclared_length_over_the_cap_is_cut_off(http_server):
    url = http_server.add_handler("/big", unsized_body(b"x" * (200 * KB)))
    with pytest.raises(FetchError, match="size cap"):
        http.get(url, max_bytes=10 * KB, allow_private=True)


def test_trickling_server_is_cut_off_by_the_overall_deadline(http_server):
    url = http_server.add_handler("/slow", trickle(chunks=1000, delay_s=0.05))
    with pytest.raises(FetchError, match="deadline"):
        http.get(url, max_bytes=10 * KB, read_timeout_s=5, deadline_s=0.5, allow_private=True)


def test_loopback_is_refused_when_private_network_is_not_allowed(http_server):
    url = http_server.add("/feed.xml", b"<rss/>")
    with pytest.raises(BlockedURL, match="non-public"):
        http.get(url, max_bytes=KB, allow_private=False)
    assert http_server.hits("/feed.xml") == 0


def test_private_network_default_comes_from_the_environment(http_server, monkeypatch):
    url = http_server.add("/feed.xml", b"<rss/>")
    monkeypatch.setenv("PODIGEST_ALLOW_PRIVATE_NETWORK", "0")
    with pytest.raises(BlockedURL):
        http.get(url, max_bytes=KB)
    monkeypatch.setenv("PODIGEST_ALLOW_PRIVATE_NETWORK", "1")
    assert http.get(url, max_bytes=KB).body == b"<rss/>"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "gopher://example.com/", "data:,hello"])
def test_non_http_schemes_are_refused(url):
    with pytest.raises(BlockedURL, match="scheme"):
        http.get(url, max_bytes=KB, allow_private=True)


def test_connection_refused_is_a_transient_fetch_error():
    with pytest.raises(FetchError, match="connection") as info:
        http.get("http://127.0.0.1:9/", max_bytes=KB, allow_private=True)
    assert info.value.transient


def test_gzip_body_is_decoded_within_the_cap(http_server):
    url = http_server.add("/gz", gzip.compress(b"a" * 1000), Content_Encoding="gzip")
    assert http.get(url, max_bytes=2 * KB, allow_private=True).body == b"a" * 1000
    bomb = http_server.add("/bomb", gzip.compress(b"\0" * (1024 * KB)), Content_Encoding="gzip")
    with pytest.raises(FetchError, match="size cap"):
        http.get(bomb, max_bytes=16 * KB, allow_private=True)


def test_file_url_outside_the_demo_directory_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    with pytest.raises(BlockedURL, match="outside"):
        http.get(secret.as_uri(), max_bytes=KB)
    with pytest.raises(BlockedURL, match="outside"):
        http.get(f"file://{settings.demo_dir()}/../../pyproject.toml", max_bytes=KB)


def test_file_url_inside_the_demo_directory_is_served(tmp_path, monkeypatch):
    demo = tmp_path / "demo"
    (demo / "feeds").mkdir(parents=True)
    (demo / "feeds" / "show.xml").write_bytes(b"<rss/>")
    monkeypatch.setattr(settings, "demo_dir", lambda: demo.resolve())
    result = http.get((demo / "feeds" / "show.xml").as_uri(), max_bytes=KB)
    assert result.status == 200 and result.body == b"<rss/>"
    with pytest.raises(FetchError, match="size cap"):
        http.get((demo / "feeds" / "show.xml").as_uri(), max_bytes=3)


def test_stream_to_file_writes_chunks_and_reports_headers(http_server, tmp_path):
    body = bytes(range(256)) * 400
    url = http_server.add("/audio.mp3", body, Content_Type="audio/mpeg")
    seen: list[bytes] = []
    dest = tmp_path / "a.part"
    result = http.stream_to_file(url, dest, max_bytes=len(body), allow_private=True, on_chunk=seen.append)
    assert dest.read_bytes() == body == b"".join(seen)
    assert result.headers["content-type"] == "audio/mpeg" and result.body == b""


def test_stream_to_file_removes_the_partial_file_on_failure(http_server, tmp_path):
    url = http_server.add_handler("/big", unsized_body(b"x" * (200 * KB)))
    dest = tmp_path / "a.part"
    with pytest.raises(FetchError, match="size cap"):
        http.stream_to_file(url, dest, max_bytes=10 * KB, allow_private=True)
    assert not dest.exists()


def test_headers_check_refuses_before_the_body_is_read(http_server, tmp_path):
    url = http_server.add("/page", b"<html></html>", Content_Type="text/html")

    def refuse(headers):
        raise FetchError(f"not audio: {headers['content-type']}")

    with pytest.raises(FetchError, match="not audio"):
        http.stream_to_file(url, tmp_path / "a.part", max_bytes=KB, allow_private=True, on_headers=refuse)
