"""Regenerate the committed demo set: speech audio, a WebVTT transcript and one RSS feed per show.

Run `python -m podigest_dagster.demo.build` (needs espeak-ng). Output is deterministic apart from the
audio encoder, so rebuilding only changes files whose scripts changed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from podigest_dagster.core.text.sentences import split_sentences
from podigest_dagster.demo.scripts import DEMO_DAYS, SHOWS, Episode, Show
from podigest_dagster.demo.tts import Rendering, Turn, synthesize

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
CONTENT = "http://purl.org/rss/1.0/modules/content/"


@dataclass(frozen=True)
class Media:
    """An episode's generated files, as URLs relative to the feed, with the enclosure's size and length."""

    audio_url: str
    audio_bytes: int
    duration_s: float
    transcript_url: str | None = None


def episode_turns(episode: Episode, show: Show) -> list[Turn]:
    """The episode's lines as TTS turns in each host's voice; a longer pause where the speaker changes."""
    turns = []
    for index, line in enumerate(episode.lines):
        following = episode.lines[index + 1].speaker if index + 1 < len(episode.lines) else None
        turns.append(
            Turn(show.host(line.speaker).voice, line.text, 0.45 if following == line.speaker else 0.8)
        )
    return turns


def _timestamp(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def vtt_cues(
    episode: Episode, spans: Sequence[tuple[float, float]]
) -> Iterable[tuple[float, float, str, str]]:
    """One cue per sentence, timed by sharing each turn's span in proportion to sentence length."""
    for line, (start, end) in zip(episode.lines, spans, strict=True):
        sentences = split_sentences(line.text, max_words=None)
        total = sum(len(s) for s in sentences)
        position = start
        for sentence in sentences:
            length = (end - start) * len(sentence) / total
            yield position, position + length, line.speaker, sentence
            position += length


def render_vtt(episode: Episode, spans: Sequence[tuple[float, float]]) -> str:
    """A WebVTT transcript with voice tags, as a publisher would ship it."""
    blocks = ["WEBVTT", ""]
    for number, (start, end, speaker, text) in enumerate(vtt_cues(episode, spans), start=1):
        blocks += [str(number), f"{_timestamp(start)} --> {_timestamp(end)}", f"<v {speaker}>{text}", ""]
    return "\n".join(blocks)


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _item(channel: ET.Element, show: Show, episode: Episode, number: int, media: Media) -> None:
    item = _sub(channel, "item")
    _sub(item, "title", episode.title)
    _sub(item, "link", f"{show.link}episodes/{episode.key}")
    _sub(item, "guid", f"{show.key}:{episode.key}", isPermaLink="false")
    _sub(item, "pubDate", format_datetime(datetime.fromisoformat(episode.published), usegmt=True))
    _sub(item, "description", episode.notes)
    _sub(item, f"{{{CONTENT}}}encoded", f"<p>{episode.notes}</p><p>Hosted by {show.author}.</p>")
    _sub(item, "enclosure", url=media.audio_url, length=str(media.audio_bytes), type="audio/mpeg")
    _sub(item, f"{{{ITUNES}}}title", episode.title)
    _sub(item, f"{{{ITUNES}}}episode", str(number))
    _sub(item, f"{{{ITUNES}}}duration", _duration(media.duration_s))
    _sub(item, f"{{{ITUNES}}}summary", episode.notes)
    _sub(item, f"{{{ITUNES}}}explicit", "false")
    _sub(item, f"{{{ITUNES}}}episodeType", "full")
    if media.transcript_url:
        _sub(item, f"{{{PODCAST}}}transcript", url=media.transcript_url, type="text/vtt", language="en")


def render_feed(show: Show, episodes: Sequence[Episode], media: dict[str, Media]) -> str:
    """An RSS 2.0 feed with iTunes tags for the show, newest episode first."""
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("podcast", PODCAST)
    ET.register_namespace("content", CONTENT)
    rss = ET.Element("rss", version="2.0")
    channel = _sub(rss, "channel")
    _sub(channel, "title", show.name)
    _sub(channel, "link", show.link)
    _sub(channel, "description", show.description)
    _sub(channel, "language", "en")
    _sub(channel, f"{{{ITUNES}}}author", show.author)
    _sub(channel, f"{{{ITUNES}}}summary", show.description)
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": show.category})
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    _sub(channel, f"{{{ITUNES}}}type", "episodic")
    ordered = sorted(episodes, key=lambda e: e.published)
    numbered = {episode.key: number for number, episode in enumerate(ordered, start=1)}
    for episode in reversed(ordered):
        _item(channel, show, episode, numbered[episode.key], media[episode.key])
    ET.indent(rss)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def build_episode(episode: Episode, show: Show, root: Path) -> Media:
    """Synthesise one episode's audio (and its transcript when it ships one) under root."""
    audio = root / "audio" / f"{episode.key}.mp3"
    rendering: Rendering = synthesize(episode_turns(episode, show), audio)
    transcript_url = None
    if episode.vtt:
        vtt = root / "transcripts" / f"{episode.key}.vtt"
        vtt.parent.mkdir(parents=True, exist_ok=True)
        vtt.write_text(render_vtt(episode, rendering.spans), encoding="utf-8")
        transcript_url = f"../transcripts/{vtt.name}"
    return Media(f"../audio/{audio.name}", audio.stat().st_size, rendering.duration_s, transcript_url)


def build(root: Path) -> list[Path]:
    """Rebuild every demo file under root and return the feed paths."""
    episodes = [episode for day in DEMO_DAYS for episode in day.episodes]
    feeds = []
    for show in SHOWS:
        own = [episode for episode in episodes if episode.show == show.key]
        media = {episode.key: build_episode(episode, show, root) for episode in own}
        feed = root / "feeds" / f"{show.key}.xml"
        feed.parent.mkdir(parents=True, exist_ok=True)
        feed.write_text(render_feed(show, own, media), encoding="utf-8")
        feeds.append(feed)
    return feeds


def main() -> None:
    """Regenerate the demo set in the package directory and print what was written."""
    root = Path(__file__).resolve().parent
    for feed in build(root):
        print(feed.relative_to(root))
    for audio in sorted((root / "audio").glob("*.mp3")):
        print(f"{audio.relative_to(root)}  {audio.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    sys.exit(main())
