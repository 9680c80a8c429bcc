"""The web archive built from a real warehouse, and `podigest site serve` over real HTTP (Range requests,
the search page, nothing outside the site folder)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import feedparser
import pytest

from podigest_dagster import settings
from podigest_dagster.core.digest.site import NOTHING_TODAY, build_site, load_archive, show_slug
from podigest_dagster.core.digest.site_server import SiteServer, byte_range, index_search
from podigest_dagster.core.search import store as search_store
from podigest_dagster.warehouse.db import derived_write_connection, read_connection, write_connection
from podigest_dagster_tests.support.archive import (
    HOSTILE_EPISODE,
    HOSTILE_INSIGHT,
    HOSTILE_SHOW,
    HOSTILE_SPEAKER,
    HOSTILE_TOPIC,
    add_digest,
    site_archive,
    source,
)

DEMO_MP3 = settings.demo_dir() / "audio" / "city-signals-2026-11-27.mp3"
WEB_AUDIO = "https://cdn.example.org/city-1.mp3"


@pytest.fixture
def site(podigest_home, monkeypatch) -> Path:
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", "https://digest.example.org/archive")
    with write_connection(settings.warehouse_path()) as conn:
        site_archive(conn, settings.audio_dir(), WEB_AUDIO, DEMO_MP3)
    with read_connection(settings.warehouse_path()) as conn:
        build_site(load_archive(conn, settings.audio_dir(), settings.public_url()), settings.site_dir())
    return settings.site_dir()


def _get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_site_has_an_index_a_page_per_day_and_per_show_and_players_from_the_cited_second(site):
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    slugs = {f"shows/{show_slug(name)}.html" for name in ("City Signals", "Night Owls", HOSTILE_SHOW)}
    assert {"index.html", "2024-03-05.html", "2024-03-04.html", "shows.html", "search.html", "style.css",
            "digests.xml"} | slugs <= names  # fmt: skip
    day = (site / "2024-03-05.html").read_text(encoding="utf-8")
    assert f'src="{WEB_AUDIO}#t=24"' in day
    assert re.search(r'<audio controls preload="none" src="audio/[0-9a-f]{16}\.mp3#t=41"', day)
    assert 'aria-label="Play City Signals — Cooler streets from 0:24"' in day
    assert ">Heat pumps</h2>" in day and '<p class="speaker">— Jane Doe, City Signals</p>' in day
    assert "javascript:" not in day
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="2024-03-05.html"' in index and 'href="2024-03-04.html"' in index
    show = (site / "shows" / f"{show_slug('Night Owls')}.html").read_text(encoding="utf-8")
    assert 'src="../audio/' in show and 'href="../2024-03-05.html"' in show
    css = (site / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html and "<iframe" not in html and "<img" not in html
        assert not re.findall(r'<link[^>]+href="(?:https?:)?//', html)
        assert '<link rel="icon" href="data:,">' in html and "<main" in html and 'lang="en"' in html


def test_hostile_feed_text_is_escaped_everywhere(site):
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<img" not in html and "<b>" not in html and "<script" not in html
    day = (site / "2024-03-05.html").read_text(encoding="utf-8")
    for text in (HOSTILE_SHOW, HOSTILE_EPISODE, HOSTILE_INSIGHT, HOSTILE_TOPIC, HOSTILE_SPEAKER):
        assert text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in day


def test_coverage_gets_a_line_linking_each_show_from_its_second_and_the_same_players_as_sources(site):
    day = (site / "2024-03-05.html").read_text(encoding="utf-8")
    heat, hostile = day.split('<li class="item">')[1:3]
    assert '<p class="support">Covered by 2 shows</p>' in heat
    also = re.search(r'<p class="also">Also discussed on: <a href="(audio/[0-9a-f]{16}\.mp3#t=41)">Night Owls @ 0:41</a></p>', heat)
    assert also is not None
    coverage = heat.split('<ul class="sources coverage" aria-label="Also discussed on">', 1)[1]
    assert f'<audio controls preload="none" src="{also.group(1)}" aria-label="Play Night Owls — Winter from 0:41">' in coverage
    assert f'href="shows/{show_slug("Night Owls")}.html">Night Owls</a>' in coverage
    assert heat.index('class="speaker"') < heat.index('class="sources"') < heat.index('class="support"')
    assert "Covered by" not in hostile and "Also discussed on" not in hostile and 'class="support"' not in hostile
    owls = (site / "shows" / f"{show_slug('Night Owls')}.html").read_text(encoding="utf-8")
    assert f'<a href="../{also.group(1)}">Night Owls @ 0:41</a>' in owls and "Jane Doe, City Signals" in owls


def test_an_item_stored_before_speakers_and_coverage_still_gets_its_page(site):
    with write_connection(settings.warehouse_path()) as conn:
        add_digest(conn, "2024-03-06", [("Heat pumps", "Old claim.", 2, [source("City Signals", "Cooler streets", "city-1", 24.0)])])
    with read_connection(settings.warehouse_path()) as conn:
        build_site(load_archive(conn, settings.audio_dir()), site)
    day = (site / "2024-03-06.html").read_text(encoding="utf-8")
    assert "Old claim." in day and 'class="speaker"' not in day and 'class="support"' not in day


def test_an_empty_day_gets_an_honest_page_and_the_feed_links_to_the_day_pages(site):
    empty = (site / "2024-03-04.html").read_text(encoding="utf-8")
    assert NOTHING_TODAY in empty and "<ol" not in empty
    feed = feedparser.parse((site / "digests.xml").read_bytes())
    assert [e.link for e in feed.entries] == ["https://digest.example.org/archive/2024-03-05.html"]


def test_a_rebuild_removes_pages_of_days_no_longer_stored_and_copies_no_audio_from_outside_the_cache(site):
    (site / "2023-01-01.html").write_text("old", encoding="utf-8")
    with write_connection(settings.warehouse_path()) as conn:
        conn.execute("UPDATE episode_audio SET path = '/etc/passwd'")
    with read_connection(settings.warehouse_path()) as conn:
        report = build_site(load_archive(conn, settings.audio_dir()), site)
    assert report.removed == 1 and not (site / "2023-01-01.html").exists()
    assert "audio/" not in (site / "2024-03-05.html").read_text(encoding="utf-8").split("Night Owls", 1)[1][:400]


def test_range_requests_are_answered_with_partial_content():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=10-", 100) == (10, 99)
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=-30", 100) == (70, 99)
    assert byte_range("bytes=90-500", 100) == (90, 99)
    assert byte_range("bytes=100-", 100) is False
    assert byte_range("bytes=0-1,5-9", 100) is None
    assert byte_range("items=0-5", 100) is None


def test_site_serve_serves_the_site_with_ranges_and_nothing_outside_it(site):
    server = SiteServer(site).start()
    try:
        status, headers, body = _get(server.url)
        assert status == 200 and b"Top insights for" in body and "script-src" not in headers["Content-Security-Policy"]
        assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
        audio = next((site / "audio").glob("*.mp3"))
        size = audio.stat().st_size
        status, headers, body = _get(server.url + f"audio/{audio.name}", Range="bytes=1000-")
        assert (status, headers["Content-Range"], len(body)) == (206, f"bytes 1000-{size - 1}/{size}", size - 1000)
        assert headers["Content-Type"] == "audio/mpeg" and headers["Accept-Ranges"] == "bytes"
        assert body == audio.read_bytes()[1000:]
        assert _get(server.url + f"audio/{audio.name}", Range=f"bytes={size}-")[0] == 416
        for path in ["../warehouse.duckdb", "%2e%2e/warehouse.duckdb", "audio/.x.tmp", "shows/", "nope.html",
                     "..%2f..%2fetc%2fpasswd"]:  # fmt: skip
            assert _get(server.url + path)[0] == 404, path
    finally:
        server.stop()


def test_the_search_page_of_site_serve_finds_what_was_said_and_plays_it_from_there(site):
    with read_connection(settings.warehouse_path()) as conn:
        days = [search_store.load_day(conn, d) for d in search_store.warehouse_days(conn)]
    with derived_write_connection(settings.search_index_path()) as conn:
        search_store.rebuild(conn, iter(days))
    server = SiteServer(site, search=index_search(settings.search_index_path())).start()
    try:
        status, _, body = _get(server.url + "search.html?q=parking+thousands")
        page = body.decode("utf-8")
        assert status == 200 and "1 moment for" in page
        assert "<mark>parking</mark>" in page and "<mark>thousands</mark>" in page
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "<script>" not in page
        assert 'src="https://cdn.example.org/evil-1.mp3#t=0"' in page
        page = _get(server.url + "search.html?q=parking&show=radio&since=2024-03-05")[2].decode("utf-8")
        assert "1 moment for" in page and 'id="show" name="show" type="text" value="radio"' in page
        assert 'value="2024-03-05"' in page and '<label for="since">' in page
        page = _get(server.url + "search.html?q=parking&show=City+Signals")[2].decode("utf-8")
        assert "0 moments for" in page and 'value="City Signals"' in page
        page = _get(server.url + "search.html?q=parking&since=2024-03-06")[2].decode("utf-8")
        assert "0 moments for" in page and "since 2024-03-06" in page
        page = _get(server.url + "search.html?q=parking&since=yesterday")[2].decode("utf-8")
        assert "not a date (YYYY-MM-DD): &#39;yesterday&#39;" in page
        status, _, body = _get(server.url + "search.html?q=" + "x" * 400)
        assert status == 200 and "query too long" in body.decode("utf-8")
        assert "Search runs on" in _get(server.url + "search.html")[2].decode("utf-8")
    finally:
        server.stop()
