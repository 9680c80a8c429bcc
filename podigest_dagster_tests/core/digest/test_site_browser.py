"""The web archive in a real headless Chromium, served by `podigest site serve` on 127.0.0.1: one browser
and one built site for the whole module. Web audio comes from the test HTTP server, a local copy from the
site server; both answer Range requests, as a browser needs to start playing at `#t=`."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import pytest

from podigest_dagster import settings
from podigest_dagster.core.digest.site import NOTHING_TODAY, build_site, load_archive, show_slug
from podigest_dagster.core.digest.site_server import SiteServer, index_search
from podigest_dagster.core.ingest.audio_cache import prune
from podigest_dagster.core.search import store as search_store
from podigest_dagster.warehouse.db import derived_write_connection, read_connection, write_connection
from podigest_dagster_tests.support.archive import (
    HEAT_INSIGHT,
    HOSTILE_EPISODE,
    HOSTILE_INSIGHT,
    HOSTILE_SHOW,
    HOSTILE_SPEAKER,
    HOSTILE_TOPIC,
    site_archive,
)
from podigest_dagster_tests.support.browser import chromium_available, console_errors, headless_chrome
from podigest_dagster_tests.support.http_server import TestHTTPServer

pytestmark = pytest.mark.skipif(chromium_available() is not None, reason=str(chromium_available()))

DEMO_MP3 = settings.demo_dir() / "audio" / "city-signals-2026-11-27.mp3"
PAGES = ["index.html", "2024-03-05.html", "2024-03-04.html", "shows.html", f"shows/{show_slug('Night Owls')}.html",
         "search.html", "search.html?q=heat", "search.html?q=heat&show=city&since=2024-03-01"]  # fmt: skip

CONTRAST_JS = """
function lum(c) { const v = c / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; }
function L(c) { return 0.2126 * lum(c.r) + 0.7152 * lum(c.g) + 0.0722 * lum(c.b); }
function background(el) {
  for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; }
  return {r: 255, g: 255, b: 255, a: 1};
}
const failures = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const box = el.getBoundingClientRect();
  if (!own || box.width === 0 || box.right < 0) continue;
  const style = getComputedStyle(el);
  const a = L(rgb(style.color)), b = L(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  if (ratio < (large ? 3 : 4.5)) failures.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + el.textContent.slice(0, 40));
}
return failures;
"""
A11Y_JS = """
const names = el => (el.getAttribute('aria-label') || el.textContent || '').trim();
return {
  banner: document.querySelectorAll('header').length, nav: document.querySelectorAll('nav').length,
  main: document.querySelectorAll('main').length, contentinfo: document.querySelectorAll('footer').length,
  h1: document.querySelectorAll('h1').length, lang: document.documentElement.lang,
  unnamed_audio: [...document.querySelectorAll('audio')].filter(a => !a.getAttribute('aria-label')).length,
  unlabelled_inputs: [...document.querySelectorAll('input')].filter(i => !(i.id && document.querySelector('label[for="' + i.id + '"]'))).length,
  unnamed_links: [...document.querySelectorAll('a')].filter(a => !names(a)).length,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
};
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The archive's site and search served on 127.0.0.1, its web audio on the test HTTP server."""
    home = tmp_path_factory.mktemp("site-home")
    audio_server = TestHTTPServer().start()
    web_audio = audio_server.add("/city-1.mp3", DEMO_MP3.read_bytes(), Content_Type="audio/mpeg")
    warehouse = home / "warehouse.duckdb"
    with write_connection(warehouse) as conn:
        starts = site_archive(conn, home / "audio", web_audio, DEMO_MP3)
    with read_connection(warehouse) as conn:
        archive = load_archive(conn, home / "audio")
        days = [search_store.load_day(conn, d) for d in search_store.warehouse_days(conn)]
    build_site(archive, home / "site")
    with derived_write_connection(home / "search.duckdb") as conn:
        search_store.rebuild(conn, iter(days))
    site = SiteServer(home / "site", search=index_search(home / "search.duckdb")).start()
    try:
        yield site.url, starts, audio_server, home
    finally:
        site.stop()
        audio_server.stop()


@pytest.fixture(scope="module")
def browser(served):
    with headless_chrome(1280, 900) as driver:
        yield driver


def _open(browser, served, page: str) -> None:
    browser.get(urljoin(served[0], page))
    browser.find_element("css selector", "main")


def test_the_index_lists_every_day_and_shows_the_latest_digest(browser, served):
    _open(browser, served, "")
    days = [a.text for a in browser.find_elements("css selector", "ul.days a")]
    assert days == ["2024-03-05", "2024-03-04"]
    assert browser.find_element("css selector", "h1").text == "Top insights for 2024-03-05"
    assert browser.find_elements("css selector", "li.item p.insight")[0].text == HEAT_INSIGHT
    assert console_errors(browser) == []


def test_a_day_page_shows_its_items_and_an_empty_day_says_so(browser, served):
    _open(browser, served, "2024-03-05.html")
    items = browser.find_elements("css selector", "li.item")
    assert len(items) == 2
    first = items[0]
    assert first.find_element("css selector", ".topic").get_attribute("textContent") == "Heat pumps"
    assert first.find_element("css selector", ".speaker").text == "— Jane Doe, City Signals"
    assert first.find_element("css selector", ".support").text == "Covered by 2 shows"
    assert first.find_element("css selector", ".also").text == "Also discussed on: Night Owls @ 0:41"
    names = [e.text for e in first.find_elements("css selector", ".source-name a")]
    assert names == ["City Signals", "Night Owls"]
    assert len(first.find_elements("css selector", "ul.coverage audio")) == 1
    assert len(first.find_elements("css selector", "audio")) == 2
    assert items[1].find_elements("css selector", ".support, .also") == []
    _open(browser, served, "2024-03-04.html")
    assert NOTHING_TODAY in browser.find_element("css selector", "main").text
    assert browser.find_elements("css selector", "li.item") == []


def test_a_show_page_lists_its_items_with_their_days_and_players(browser, served):
    _open(browser, served, "")
    browser.find_element("link text", "Night Owls").click()
    assert browser.find_element("css selector", "h1").text == "Night Owls"
    (item,) = browser.find_elements("css selector", "li.item")
    assert item.find_element("css selector", ".date a").text == "2024-03-05"
    assert item.find_element("css selector", ".insight").text == HEAT_INSIGHT
    assert [a.get_attribute("src").rsplit("#", 1)[1] for a in item.find_elements("css selector", "audio")] == [
        "t=24", "t=41"
    ]  # fmt: skip
    assert console_errors(browser) == []


def _press_play(browser, audio) -> float:
    """Click the player's own play button; the position the audio is at when it starts playing."""
    from selenium.webdriver.common.action_chains import ActionChains

    browser.execute_script(
        "const a = arguments[0]; a.scrollIntoView({block: 'center'}); window.__started = null;"
        "a.addEventListener('playing', () => { window.__started = a.currentTime; }, {once: true});",
        audio,
    )
    ActionChains(browser).move_to_element_with_offset(audio, -audio.rect["width"] / 2 + 22, 0).click().perform()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        started = browser.execute_script("return window.__started")
        if started is not None:
            browser.execute_script("arguments[0].pause()", audio)
            return float(started)
        time.sleep(0.05)
    state = browser.execute_script("const a = arguments[0]; return [a.paused, a.readyState, a.error && a.error.code]", audio)
    raise AssertionError(f"the audio never started playing (paused, readyState, error): {state}")


def test_pressing_play_starts_each_source_at_the_second_it_cites(browser, served):
    _, starts, audio_server, _ = served
    _open(browser, served, "2024-03-05.html")
    players = browser.find_elements("css selector", "li.item audio")
    for audio, show in zip(players[:2], ["City Signals", "Night Owls"], strict=True):
        assert abs(_press_play(browser, audio) - starts[show]) < 1.0, show
    assert any(headers.get("Range", "").startswith("bytes=") for path, headers in audio_server.requests)
    assert console_errors(browser) == []


def test_hostile_feed_text_shows_as_text_and_runs_nothing(browser, served):
    _open(browser, served, "2024-03-05.html")
    hostile = browser.find_elements("css selector", "li.item")[1]
    text = lambda selector: hostile.find_element("css selector", selector).get_attribute("textContent")  # noqa: E731
    assert text(".topic") == HOSTILE_TOPIC
    assert text(".insight") == HOSTILE_INSIGHT
    assert text(".speaker") == f"— {HOSTILE_SPEAKER}, {HOSTILE_SHOW}"
    assert text(".source-name") .startswith(f"{HOSTILE_SHOW} — {HOSTILE_EPISODE}")
    assert browser.execute_script("return document.querySelectorAll('img, script, iframe, b, i').length") == 0
    assert console_errors(browser) == []


def test_no_page_logs_a_console_error(browser, served):
    for page in PAGES:
        _open(browser, served, page)
        assert console_errors(browser) == [], page


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_every_page_passes_a_basic_accessibility_check_on_a_phone_and_a_desktop(browser, served, width, height):
    from podigest_dagster_tests.support.browser import set_viewport

    set_viewport(browser, width, height)
    try:
        for page in PAGES:
            _open(browser, served, page)
            found = browser.execute_script(A11Y_JS)
            assert found["lang"] == "en" and found["h1"] == 1, page
            assert min(found["banner"], found["nav"], found["main"], found["contentinfo"]) >= 1, (page, found)
            assert (found["unnamed_audio"], found["unlabelled_inputs"], found["unnamed_links"]) == (0, 0, 0), page
            assert found["overflow"] <= 0, (page, width, found["overflow"])
            assert browser.execute_script(CONTRAST_JS) == [], page
    finally:
        set_viewport(browser, 1280, 900)


def test_the_archive_search_finds_what_was_said_and_plays_it_from_there(browser, served):
    _open(browser, served, "search.html")
    box = browser.find_element("id", "q")
    box.send_keys("thousands parking")
    box.submit()
    marks = browser.find_elements("css selector", "li.hit mark")
    assert [m.text for m in marks] == ["parking", "thousands"]
    assert browser.find_element("css selector", "li.hit .snippet").get_attribute("textContent") == HOSTILE_INSIGHT
    said = browser.find_element("css selector", "li.hit .speaker").get_attribute("textContent")
    assert said == f"— {HOSTILE_SPEAKER}, {HOSTILE_SHOW}"
    assert browser.find_element("css selector", "li.hit audio").get_attribute("src").endswith("#t=0")
    assert console_errors(browser) == []


def test_after_the_audio_cache_is_pruned_every_player_still_plays_from_its_second(browser, served):
    """City Signals' audio was cached and transcribed, then pruned (retention 0) and its host moved it: the
    rebuilt archive plays the new enclosure URL from the cited second. Night Owls has no web URL: its local
    copy is what the archive plays, so pruning keeps it."""
    _, starts, audio_server, home = served
    warehouse = home / "warehouse.duckdb"
    cached = home / "audio" / "cd" / "city-1.mp3"
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(DEMO_MP3.read_bytes())
    moved = audio_server.add("/moved/city-1.mp3", DEMO_MP3.read_bytes(), Content_Type="audio/mpeg")
    with write_connection(warehouse) as conn:
        conn.execute(
            "INSERT INTO episode_audio (episode_id, partition_date, status, sha256, path, bytes) "
            "VALUES ('city-1', '2024-03-05', 'ok', 'cd1', ?, ?)",
            [str(cached), cached.stat().st_size],
        )
        conn.execute(
            "INSERT INTO transcripts (episode_id, status, source, audio_sha256, transcribed_at) VALUES "
            "('city-1', 'ok', 'whisper:base', 'cd1', current_timestamp), "
            "('owls-1', 'ok', 'publisher', NULL, current_timestamp)"
        )
    report = prune(lambda: write_connection(warehouse), home / "audio", retention_days=0)
    assert not cached.exists() and (home / "audio" / "ab" / "night-owls.mp3").exists()
    assert (report.files_pruned, report.archive_files) == (1, 1)
    with write_connection(warehouse) as conn:
        conn.execute("UPDATE episodes SET enclosure_url = ? WHERE episode_id = 'city-1'", [moved])
    with read_connection(warehouse) as conn:
        archive = load_archive(conn, home / "audio")
    build_site(archive, home / "site-pruned")
    site = SiteServer(home / "site-pruned").start()
    try:
        browser.get(urljoin(site.url, "2024-03-05.html"))
        players = browser.find_elements("css selector", "li.item audio")
        assert players[0].get_attribute("src") == f"{moved}#t=24"
        assert players[1].get_attribute("src").startswith(urljoin(site.url, "audio/"))
        for audio, show in zip(players[:2], ["City Signals", "Night Owls"], strict=True):
            assert abs(_press_play(browser, audio) - starts[show]) < 1.0, show
        assert audio_server.hits("/moved/city-1.mp3") >= 1
        assert console_errors(browser) == []
    finally:
        site.stop()
