"""The web archive: a static site of every stored digest, rendered from Jinja2 templates (autoescape).

    index.html            the latest digest, every day, every show, the search form
    YYYY-MM-DD.html       one page per day (an honest "nothing worth your time" page for an empty day)
    shows.html, shows/<slug>.html    each show's items over time
    search.html           the search form (results come from `podigest site serve`)
    style.css, digests.xml, audio/   the one stylesheet, the RSS feed, local copies of non-web audio

Every source, and every other show's moment on the same story (coverage), has an HTML5 player that starts
at the cited second (media fragment `#t=`) and a link to its episode. Nothing is loaded from elsewhere but
the episodes' own audio: no font, script or CDN. All text comes from strangers' feeds and transcripts and
only reaches the page through autoescape; only http(s) links are written (and our own relative paths).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined

from podigest_dagster.core.digest import store
from podigest_dagster.core.digest.render import (
    ALSO_DISCUSSED,
    BRAND,
    coverage_line,
    format_timestamp,
    safe_url,
    speaker_line,
)
from podigest_dagster.core.digest.rss import FEED_FILE, build_feed
from podigest_dagster.core.text.display import clean_text

TEMPLATE_PACKAGE = "podigest_dagster.core.digest"
TEMPLATE_FOLDER = "templates/site"
STYLESHEET = "style.css"
AUDIO_FOLDER = "audio"
AUDIO_INDEX = "episodes.json"
NOTHING_TODAY = "Nothing worth your time today."
NOTHING_WHY = (
    "No new episode said anything that passed the quality bar: no specific claim with its reason, number or "
    "consequence. Nothing was padded in to fill the page."
)
_DAY_PAGE = re.compile(r"^\d{4}-\d{2}-\d{2}\.html$")
AUDIO_SUFFIXES = {"audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a", "audio/ogg": ".ogg",
                  "audio/opus": ".opus", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/flac": ".flac",
                  "audio/webm": ".webm", "audio/aac": ".aac"}  # fmt: skip


def templates() -> Environment:
    """The site's templates; every value is escaped on output."""
    env = Environment(
        loader=PackageLoader(TEMPLATE_PACKAGE, TEMPLATE_FOLDER),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["also_discussed"] = ALSO_DISCUSSED
    return env


@dataclass(frozen=True)
class Media:
    """Where an episode can be heard and read about: its audio (a web URL or a local copy) and its page."""

    audio: str | None = None
    page: str | None = None
    local_file: Path | None = None


@dataclass(frozen=True)
class Player:
    """One source as a page shows it: a player from the cited second and a link to the episode."""

    podcast: str
    episode: str
    stamp: str | None
    start_s: float | None
    audio: str | None
    link: str | None
    show_slug: str
    local: bool = False

    @property
    def label(self) -> str:
        """The player's accessible name: what it plays and from when."""
        what = " — ".join(p for p in (self.podcast, self.episode) if p) or "the episode"
        return f"Play {what} from {self.stamp}" if self.stamp else f"Play {what}"

    @property
    def moment(self) -> str:
        """ "Show @ 45:00": the show and the cited second, as the "Also discussed on" line names it."""
        show = self.podcast or "Untitled show"
        return f"{show} @ {self.stamp}" if self.stamp else show

    @property
    def timed_link(self) -> str | None:
        """Where a link to this moment goes: the audio from its second (site-relative when a local copy),
        else the episode."""
        return self.audio or self.link


@dataclass(frozen=True)
class Item:
    """A digest item on a page: who said it ("Name, Show" or ""), its sources and the other shows that
    covered the story (`covered_by` is "" when one show told it)."""

    date: str
    rank: int
    topic: str
    insight: str
    speaker: str
    players: list[Player]
    covered_by: str = ""
    coverage: list[Player] = field(default_factory=list)


@dataclass
class Day:
    date: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Show:
    name: str
    slug: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Archive:
    """Everything the site shows, newest day first."""

    days: list[Day]
    shows: list[Show]
    media: dict[str, Media]
    feed: str = ""


def show_slug(name: str) -> str:
    """A file name for a show's page: readable ASCII plus a short hash (names collide once folded)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:50].strip("-")
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]
    return f"{words}-{digest}" if words else f"show-{digest}"


def _media(row: tuple | None, audio_root: Path | None) -> Media:
    """An episode's audio and page: web URLs when it has them, else its cached audio (copied into the site)."""
    if row is None:
        return Media()
    enclosure, _, link, cached, _ = row
    audio = safe_url(enclosure.split("#", 1)[0]) if enclosure else None
    local = None
    if audio is None and cached and audio_root is not None:
        path = Path(cached).resolve()
        if path.is_file() and path.is_relative_to(audio_root.resolve()):
            local = path
    return Media(audio=audio, page=safe_url(link), local_file=local)


def local_audio_name(media: Media, content_type: str | None = None) -> str | None:
    """The file name a cached audio file gets under audio/ (content-addressed by the cache already)."""
    if media.local_file is None:
        return None
    suffix = media.local_file.suffix.lower() or AUDIO_SUFFIXES.get((content_type or "").lower(), ".mp3")
    return hashlib.sha1(str(media.local_file).encode()).hexdigest()[:16] + suffix


def load_archive(
    conn: duckdb.DuckDBPyConnection, audio_root: Path | None, public_url: str | None = None
) -> Archive:
    """Every stored digest as pages, with each cited episode's audio and page."""
    days = {date: Day(date) for date, _ in store.load_archive_days(conn)}
    rows = store.load_archive_items(conn)
    episode_ids = [s.episode_id for _, i in rows for s in [*i.sources, *i.coverage] if s.episode_id]
    media_rows = store.load_episode_media(conn, episode_ids)
    media = {eid: _media(row, audio_root) for eid, row in media_rows.items()}
    shows: dict[str, Show] = {}
    for date, stored in rows:
        players = [_player(s, media.get(s.episode_id or "")) for s in stored.sources]
        coverage = [_player(s, media.get(s.episode_id or "")) for s in stored.coverage]
        item = Item(
            date, int(stored.rank), clean_text(stored.topic), clean_text(stored.insight), speaker_line(stored),
            players, coverage_line(stored), coverage,
        )  # fmt: skip
        days.setdefault(date, Day(date)).items.append(item)
        for player in [*players, *coverage]:
            show = shows.setdefault(
                player.show_slug, Show(player.podcast or "Untitled show", player.show_slug)
            )
            if not show.items or show.items[-1] is not item:
                show.items.append(item)
    feed = build_feed(store.load_feed_entries(conn), public_url=public_url)
    ordered_days = sorted(days.values(), key=lambda d: d.date, reverse=True)
    for show in shows.values():
        show.items.sort(key=lambda i: (i.date, -i.rank), reverse=True)
    ordered_shows = sorted(shows.values(), key=lambda s: s.name.casefold())
    return Archive(ordered_days, ordered_shows, media, feed)


def _player(source, media: Media | None) -> Player:
    media = media or Media()
    podcast, episode = clean_text(source.podcast), clean_text(source.episode)
    start = source.start_s if source.start_s is not None and source.start_s >= 0 else None
    fragment = f"#t={int(start)}" if start is not None else ""
    if media.audio:
        audio = media.audio + fragment
    elif media.local_file is not None:
        audio = f"{AUDIO_FOLDER}/{local_audio_name(media)}{fragment}"
    else:
        audio = None
    link = media.page or media.audio or safe_url(source.url)
    local = media.audio is None and audio is not None
    return Player(
        podcast, episode, format_timestamp(start), start, audio, link, show_slug(podcast or "untitled"), local
    )


@dataclass
class BuildReport:
    """What a build wrote: pages by kind, audio files copied, stale pages removed."""

    folder: Path
    days: int = 0
    shows: int = 0
    audio_copied: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int | str]:
        return {"folder": str(self.folder), "days": self.days, "shows": self.shows,
                "audio_copied": self.audio_copied, "stale_pages_removed": self.removed}  # fmt: skip


def build_site(archive: Archive, out: Path) -> BuildReport:
    """Write the whole site into `out` (each file atomically; pages of days or shows no longer stored removed)."""
    out = Path(out)
    (out / "shows").mkdir(parents=True, exist_ok=True)
    env = templates()
    report = BuildReport(out)
    latest = archive.days[0] if archive.days else None
    _write(
        out / STYLESHEET,
        resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_FOLDER, STYLESHEET).read_text("utf-8"),
    )
    _write(
        out / "index.html",
        _page(env, "index.html", "", "index", latest=latest, days=archive.days, shows=archive.shows),
    )
    for day in archive.days:
        _write(
            out / f"{day.date}.html",
            _page(env, "day.html", "", "day", day=day, **_neighbours(archive.days, day)),
        )
        report.days += 1
    _write(out / "shows.html", _page(env, "shows.html", "", "shows", shows=archive.shows))
    for show in archive.shows:
        _write(out / "shows" / f"{show.slug}.html", _page(env, "show.html", "../", "show", show=show))
        report.shows += 1
    _write(out / "search.html", render_search(env, "", None, [], served=False))
    _write(out / FEED_FILE, archive.feed)
    report.audio_copied = _copy_audio(archive, out)
    report.removed = _remove_stale(out, archive)
    return report


def _neighbours(days: list[Day], day: Day) -> dict[str, str | None]:
    index = days.index(day)
    newer = days[index - 1].date if index > 0 else None
    older = days[index + 1].date if index + 1 < len(days) else None
    return {"newer": newer, "older": older}


def _page(env: Environment, template: str, root: str, current: str, **values) -> str:
    return env.get_template(template).render(
        brand=BRAND, root=root, current=current, nothing=NOTHING_TODAY, nothing_why=NOTHING_WHY, feed=FEED_FILE,
        **values,
    )  # fmt: skip


def render_search(env: Environment, root: str, query: str | None, hits: list, served: bool, error: str | None = None,
                  show: str = "", since: str = "") -> str:  # fmt: skip
    """The search page: the form, and (when served) the moments found, each with a player from its second."""
    return _page(env, "search.html", root, "search", query=query or "", hits=hits, served=served, error=error,
                 show=show, since=since)  # fmt: skip


def _copy_audio(archive: Archive, out: Path) -> int:
    """Copy the cited episodes' cached audio that has no web URL into audio/, and index it by episode."""
    folder = out / AUDIO_FOLDER
    index = {}
    copied = 0
    for episode_id, media in sorted(archive.media.items()):
        name = local_audio_name(media)
        if name is None:
            continue
        folder.mkdir(exist_ok=True)
        target = folder / name
        if not target.exists() or target.stat().st_size != media.local_file.stat().st_size:
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(media.local_file, tmp)
            tmp.replace(target)
            copied += 1
        index[episode_id] = name
    if index or (folder / AUDIO_INDEX).exists():
        folder.mkdir(exist_ok=True)
        _write(folder / AUDIO_INDEX, json.dumps(index, indent=1, sort_keys=True))
    return copied


def _remove_stale(out: Path, archive: Archive) -> int:
    """Delete day and show pages this build did not write (a day or show no longer stored)."""
    wanted = {f"{d.date}.html" for d in archive.days}
    stale = [p for p in out.glob("*.html") if _DAY_PAGE.match(p.name) and p.name not in wanted]
    shows = {f"{s.slug}.html" for s in archive.shows}
    stale += [p for p in (out / "shows").glob("*.html") if p.name not in shows]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _write(path: Path, text: str) -> None:
    store.write_atomic(path, text)


def player_for_hit(hit, audio_index: dict[str, str]) -> Player:
    """A search hit as a player: its episode's web audio, else the site's local copy, from the hit's second."""
    start = max(hit.start_s, 0.0)
    fragment = f"#t={int(start)}"
    web = safe_url((hit.audio_url or "").split("#", 1)[0])
    local = audio_index.get(hit.episode_id)
    audio = web + fragment if web else (f"{AUDIO_FOLDER}/{local}{fragment}" if local else None)
    link = safe_url(hit.link) or web
    podcast = clean_text(hit.podcast)
    slug = show_slug(podcast or "untitled")
    return Player(
        podcast,
        clean_text(hit.episode),
        format_timestamp(start),
        start,
        audio,
        link,
        slug,
        not web and bool(local),
    )
