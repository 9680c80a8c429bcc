"""Audio downloads: content-addressed, capped, checked, retried, and never half-written under a final name."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from podigest_dagster.core.ingest.download import (
    DownloadError,
    download_audio,
    remove_stale_parts,
    sniff_audio,
)
from podigest_dagster_tests.support.http_server import trickle

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 16


def fetch(url, audio_dir, **kwargs):
    options = {"allow_private": True, "retries": 0, "backoff_s": 0.01, "max_bytes": 1_000_000}
    return download_audio(url, audio_dir, **(options | kwargs))


def leftovers(audio_dir):
    return list((audio_dir / "tmp").glob("*")) if (audio_dir / "tmp").exists() else []


def test_audio_is_stored_under_its_sha256(http_server, tmp_path):
    url = http_server.add("/ep.mp3", MP3, Content_Type="audio/mpeg")
    result = fetch(url, tmp_path)
    sha = hashlib.sha256(MP3).hexdigest()
    assert result.sha256 == sha and result.bytes == len(MP3) and result.content_type == "audio/mpeg"
    assert result.path == tmp_path / sha[:2] / f"{sha}.mp3"
    assert result.path.read_bytes() == MP3
    assert leftovers(tmp_path) == []


def test_same_audio_from_another_url_reuses_the_stored_file(http_server, tmp_path):
    first = fetch(http_server.add("/a.mp3", MP3, Content_Type="audio/mpeg"), tmp_path)
    second = fetch(http_server.add("/b?sig=2", MP3, Content_Type="application/octet-stream"), tmp_path)
    assert first.path == second.path
    assert len(list(tmp_path.rglob("*.mp3"))) == 1


def test_enclosure_over_the_size_cap_leaves_nothing(http_server, tmp_path):
    url = http_server.add("/big.mp3", MP3 * 10, Content_Type="audio/mpeg")
    with pytest.raises(DownloadError, match="size cap") as info:
        fetch(url, tmp_path, max_bytes=len(MP3), retries=3)
    assert info.value.attempts == 1
    assert leftovers(tmp_path) == [] and list(tmp_path.rglob("*.mp3")) == []


def test_html_content_type_is_refused(http_server, tmp_path):
    url = http_server.add("/ep.mp3", b"<html>login</html>", Content_Type="text/html; charset=utf-8")
    with pytest.raises(DownloadError, match="not audio: content type text/html"):
        fetch(url, tmp_path)
    assert leftovers(tmp_path) == []


def test_audio_content_type_with_non_audio_bytes_is_refused(http_server, tmp_path):
    url = http_server.add("/ep.mp3", b"this is plainly not audio at all" * 100, Content_Type="audio/mpeg")
    with pytest.raises(DownloadError, match="not audio: unrecognised"):
        fetch(url, tmp_path)
    assert leftovers(tmp_path) == [] and list(tmp_path.rglob("*.mp3")) == []


def test_empty_body_is_refused(http_server, tmp_path):
    with pytest.raises(DownloadError, match="empty"):
        fetch(http_server.add("/empty.mp3", b"", Content_Type="audio/mpeg"), tmp_path)


def test_transient_errors_are_retried_with_backoff(http_server, tmp_path):
    calls = []

    def flaky(req):
        calls.append(1)
        ok = len(calls) >= 3
        body = MP3 if ok else b""
        req.send_response(200 if ok else 503)
        req.send_header("Content-Type", "audio/mpeg")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    result = fetch(http_server.add_handler("/flaky.mp3", flaky), tmp_path, retries=3)
    assert result.attempts == 3 and result.path.read_bytes() == MP3


def test_client_errors_are_not_retried(http_server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404") as info:
        fetch(http_server.url("/missing.mp3"), tmp_path, retries=3)
    assert info.value.attempts == 1 and http_server.hits("/missing.mp3") == 1


def test_trickling_download_is_cut_by_the_deadline_and_leaves_no_file(http_server, tmp_path):
    url = http_server.add_handler("/slow.mp3", trickle(1000, 0.05))
    with pytest.raises(DownloadError, match="deadline"):
        fetch(url, tmp_path, deadline_s=0.4, read_timeout_s=5)
    assert leftovers(tmp_path) == []


def test_loopback_enclosure_is_refused_when_private_network_is_not_allowed(http_server, tmp_path):
    url = http_server.add("/ep.mp3", MP3, Content_Type="audio/mpeg")
    with pytest.raises(DownloadError, match="non-public"):
        fetch(url, tmp_path, allow_private=False, retries=3)
    assert http_server.hits("/ep.mp3") == 0


def test_non_http_enclosure_is_refused(tmp_path):
    with pytest.raises(DownloadError, match="scheme"):
        fetch("ftp://example.com/ep.mp3", tmp_path)
    with pytest.raises(DownloadError, match="outside"):
        fetch((tmp_path / "x.mp3").as_uri(), tmp_path)


@pytest.mark.parametrize(
    "head, ext",
    [
        (b"ID3\x03", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"OggS\x00\x02", "ogg"),
        (b"fLaC\x00\x00", "flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00", "m4a"),
        (b"\x00\x00\x00\x18ftypisom\x00", "mp4"),
        (b"\x1a\x45\xdf\xa3\x01", "webm"),
        (b"<?xml version", None),
        (b"PK\x03\x04", None),
    ],
)
def test_magic_bytes(head, ext):
    assert sniff_audio(head) == ext


def test_stale_parts_from_crashed_downloads_are_removed(tmp_path):
    (tmp_path / "tmp").mkdir()
    old, fresh = tmp_path / "tmp" / "old.part", tmp_path / "tmp" / "fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert remove_stale_parts(tmp_path, older_than_s=3600) == 1
    assert not old.exists() and fresh.exists()
