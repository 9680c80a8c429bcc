"""The committed demo set is complete, small, correctly dated and agrees with its scripts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import feedparser
import pytest
import yaml

from podigest_dagster import demo
from podigest_dagster.demo.scripts import DEMO_DAY, DEMO_DAYS, PREVIOUS_DAY, SHOWS
from podigest_dagster.demo.tts import audio_duration_s

MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 8_000_000


def _parsed() -> list[tuple[str, feedparser.FeedParserDict]]:
    return [(url, feedparser.parse(url)) for url, _ in demo.demo_feed_urls()]


def _local(feed_url: str, href: str) -> Path:
    return Path(url2pathname(urlparse(urljoin(feed_url, href)).path))


def _enclosures() -> list[Path]:
    return [_local(url, entry.enclosures[0].href) for url, feed in _parsed() for entry in feed.entries]


def test_every_demo_feed_parses_as_a_well_formed_podcast_feed() -> None:
    parsed = _parsed()
    assert len(parsed) == len(SHOWS) >= 3
    for (_, feed), show in zip(parsed, SHOWS, strict=True):
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.feed.title == show.name
        assert feed.feed.author == show.author
        for entry in feed.entries:
            assert entry.id and entry.link.startswith("https://") and entry.summary
            assert entry.itunes_duration.count(":") == 2
            assert len(entry.enclosures) == 1 and entry.enclosures[0].type == "audio/mpeg"


def test_enclosures_are_relative_to_the_feed_and_exist_inside_the_demo_dir() -> None:
    for url, feed in _parsed():
        for entry in feed.entries:
            href = entry.enclosures[0].href
            assert href.startswith("../audio/")
            path = _local(url, href)
            assert path.is_file() and demo.demo_dir() in path.parents
            assert int(entry.enclosures[0].length) == path.stat().st_size


def test_audio_files_are_small_enough_to_ship() -> None:
    sizes = [path.stat().st_size for path in _enclosures()]
    assert all(size < MAX_FILE_BYTES for size in sizes)
    assert sum(sizes) < MAX_TOTAL_BYTES


def test_demo_day_episodes_last_between_one_and_a_half_and_three_minutes() -> None:
    for episode in DEMO_DAY.episodes:
        seconds = audio_duration_s(demo.demo_dir() / "audio" / f"{episode.key}.mp3")
        assert 90 <= seconds <= 180, (episode.key, seconds)


def test_episodes_are_published_on_their_scripted_utc_day() -> None:
    scripted = {f"{e.show}:{e.key}": e.date for day in DEMO_DAYS for e in day.episodes}
    seen = {}
    for _, feed in _parsed():
        for entry in feed.entries:
            published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
            seen[entry.id] = published.date().isoformat()
    assert seen == scripted
    assert {e.date for e in PREVIOUS_DAY.episodes} == {demo.DEMO_PREVIOUS_DATE}
    assert {e.show for e in PREVIOUS_DAY.episodes} == {s.key for s in SHOWS}


def test_one_episode_ships_a_webvtt_transcript_next_to_its_audio() -> None:
    transcripts = [
        (url, e.podcast_transcript)
        for url, feed in _parsed()
        for e in feed.entries
        if "podcast_transcript" in e
    ]
    assert len(transcripts) == 1
    url, link = transcripts[0]
    assert link["type"] == "text/vtt" and link["url"].startswith("../transcripts/")
    text = _local(url, link["url"]).read_text(encoding="utf-8")
    assert text.startswith("WEBVTT") and "-->" in text
    assert "<v Tom>Welcome back to City Signals, I'm Tom." in text


def test_demo_day_plants_at_least_five_fresh_insights_said_by_two_or_more_shows() -> None:
    expected = DEMO_DAY.expected_top()
    assert len(expected) >= 5
    assert sum(1 for p in expected if len(p.shows) >= 2) >= 3
    repeated = [p for p in DEMO_DAY.planted if p.repeated]
    assert repeated and all(p.key in {q.key for q in PREVIOUS_DAY.planted} for p in repeated)


def test_each_show_repeats_its_outro_word_for_word_in_every_episode() -> None:
    for show in SHOWS:
        episodes = [e for day in DEMO_DAYS for e in day.episodes if e.show == show.key]
        assert len(episodes) >= 2
        for episode in episodes:
            assert any(line.kind == "outro" and line.text == show.outro for line in episode.lines)
            assert any(line.kind == "sponsor" and "code" in line.text for line in episode.lines)


def test_demo_feeds_yaml_lists_every_show_by_file_url(tmp_path: Path) -> None:
    written = demo.write_demo_feeds_yaml(tmp_path / "feeds.yaml")
    feeds = yaml.safe_load(written.read_text())["feeds"]
    assert [f["name"] for f in feeds] == [s.name for s in SHOWS]
    assert all(
        f["url"].startswith("file://") and Path(url2pathname(urlparse(f["url"]).path)).is_file()
        for f in feeds
    )


@pytest.mark.parametrize("day", DEMO_DAYS, ids=lambda d: d.date)
def test_every_planted_insight_is_spoken_by_the_shows_listed_for_it(day) -> None:
    for planted in day.planted:
        speakers = {e.show for e in day.episodes for line in e.lines if line.insight == planted.key}
        assert speakers == set(planted.shows)
