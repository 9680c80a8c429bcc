"""Evaluation days composed from the real-podcast corpus, and a local server that publishes them as feeds.

    python3 bench/real_corpus.py build  [--corpus DIR] [--out bench/real_days.json]   # remake the manifest
    python3 bench/real_corpus.py show   [--manifest bench/real_days.json]             # list the days
    python3 bench/real_corpus.py serve  --day 2026-09-07                               # serve one day's feeds

The corpus (../shared/real-podcasts, or --corpus / $PODIGEST_REAL_PODCASTS) holds real transcripts of
13 shows with their index.json and labels.json; its README lists the public repositories it is built
from. The transcripts belong to their shows and never enter this repository: the manifest
(bench/real_days.json) holds only references (episode ids, shows, titles and the synthetic publication
times).

Composition (deterministic, standard library only): NUM_DAYS days, each a mix of shows that could
plausibly talk about the same things on one day: an AI show as the anchor, two more AI/tech shows, a
long-interview show, a history/economics show, a gadget or craft show and a comedy show (Harmontown; on
every third day a science show takes its slot, since it has only 8 episodes), plus a second science show
on some days. Within a slot the unused episode closest to the day so far (TF-IDF cosine over the
transcript words) is chosen, so shows overlap in topic where the corpus allows; no episode is used twice.
Each chosen episode gets a synthetic publication time on its day (UTC). The last third of the days is
held out: never tune on them.

Shared-topic days (SHARED_TOPIC_DAYS, after the composed ones): days of unrelated shows give no real
cross-show support, so support precision and recall cannot be measured on them. These few days put
episodes of DIFFERENT shows about one subject together (chosen by hand from the MiniLM cosine of their
titles and labels.json key points, then by reading the key points), so that real cross-show support can
occur. Their held-out days use only episodes that no model was trained on (training/manifest.json split
train) and that no dev day uses: never tune on them either.

The server (`CorpusServer`) is a real http.server on 127.0.0.1 (random port) in a thread; each show of a
day is an RSS feed whose items carry guid = the corpus episode_id, a pubDate on the composed day, a tiny
silent WAV enclosure (unique per episode) and a `<podcast:transcript>` pointing at the transcript file,
served by the same server with the MIME type from index.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import struct
import sys
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "real-podcasts"
DEFAULT_MANIFEST = REPO / "bench" / "real_days.json"

FIRST_DAY = date(2026, 9, 7)
NUM_DAYS = 12
HELDOUT_SHARE = 1 / 3
FIRST_PUBLISHED_HOUR = 5
PUBLISH_STEP_MIN = 97

COMEDY_SHOWS = ("harmontown",)
# One slot per line: (slot name, shows it may take an episode from). The anchor takes the earliest unused
# episode of its first show that has one left; every other slot takes the closest unused episode.
SLOTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ai_anchor", ("how-i-ai", "ai-engineer")),
    ("ai_peer", ("aboard-podcast", "naval", "ai-engineer", "practical-ai", "oxide-and-friends")),
    ("ai_peer_2", ("aboard-podcast", "naval", "ai-engineer", "practical-ai", "oxide-and-friends")),
    ("long_interview", ("lennys-podcast", "relentless")),
    ("history_economics", ("seen-and-the-unseen",)),
    ("gadget_craft", ("mkbhd", "the-iron-snail")),
    ("comedy", COMEDY_SHOWS),
)
COMEDY_FALLBACK = ("huberman-lab",)
# The comedy show has 8 episodes for 12 days: days 2, 5, 8, 11 take a science show in its slot instead, so
# dev and held-out days both have comedy; days 1, 4, 7, 10 also get a science show as an eighth show.
NO_COMEDY_EVERY = 3
EXTRA_SCIENCE_EVERY = 3
EXTRA_SCIENCE_SHOWS = ("huberman-lab",)

SHARED_TOPIC_SLOT = "shared_topic"
# (day, split, subject, episode ids: one per show): the shared-topic days of the first round, all dev now.
SHARED_TOPIC_DAYS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("2026-09-19", "dev", "coding agents and vibe coding", (
        "how-i-ai-22b6225598", "ai-engineer-d9600735fc", "naval-609327b939", "aboard-podcast-3b5bb0a1c2",
        "lennys-podcast-02c600b96c",
    )),
    ("2026-09-20", "dev", "evals, observability and AI inside products and companies", (
        "how-i-ai-fb50828b46", "ai-engineer-b9fd6608b6", "aboard-podcast-bfa8524bd3", "naval-243c961424",
        "lennys-podcast-076e3f10b8",
    )),
    ("2026-09-21", "dev", "AI compute: local models, GPU clouds, NVIDIA, benchmarks, data-center power", (
        "how-i-ai-4f0ff0b6af", "ai-engineer-689dc72dd8", "oxide-and-friends-55333b5414", "relentless-548f423159",
        "practical-ai-ed23c2d110",
    )),
    ("2026-09-22", "dev", "building with AI: harnesses, design craft, long context, iteration", (
        "how-i-ai-ac5ec878e3", "aboard-podcast-172aa4e8e0", "ai-engineer-9d8350a929", "naval-4c5e8a1018",
        "lennys-podcast-3e43595d4b",
    )),
    # Two more dev days on one named product or idea that three or four shows discuss (found by counting the
    # shows whose transcripts name it), since two shows on one broad subject rarely state one claim.
    ("2026-09-23", "dev", "OpenClaw and always-on personal agents", (
        "aboard-podcast-545a3a25c5", "ai-engineer-d9600735fc", "naval-4c0a9c937e", "how-i-ai-4a90a5f02b",
    )),
    ("2026-09-24", "dev", "context windows and long-running coding agents", (
        "ai-engineer-552fa074ac", "naval-609327b939", "how-i-ai-65042a8d61", "lennys-podcast-6bc9bc8fd2",
    )),
)
# The first round's held-out days (the last third of the composed days, and 2026-09-21/22) were read while
# fixing the product; they are dev days now.
FORMERLY_HELDOUT = frozenset(
    {"2026-09-15", "2026-09-16", "2026-09-17", "2026-09-18", "2026-09-21", "2026-09-22"}
)

ORDINARY_SLOT = "day"
# The held-out days of the reader-value round: (day, kind, subject, episode ids in publication order). Every
# episode is one that no earlier day used (so none of them was read in a digest) except the two Harmontown
# episodes, whose show has none left (their earlier days served no item of theirs); none is in a training
# split (training/manifest.json lists them as held out). Composed from titles, the publishers' show notes and
# the named entities that transcripts of different shows share (counted by spaCy over the whole corpus, not
# read). Three are shared-topic days: shows on one subject, so that one story can be covered by several.
# A show may publish two episodes on one day. Nobody reads them before the measurement that reports them.
HELDOUT_DAYS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("2026-10-05", SHARED_TOPIC_SLOT, "Elon Musk: how he competes, his companies and his Twitter", (
        "relentless-02de0577ea", "oxide-and-friends-cafc350adf", "naval-b7d858926e", "relentless-f7111078e0",
        "naval-0451d7a1b0", "mkbhd-9cb5092f7d", "seen-and-the-unseen-3f66acc7fa",
    )),
    ("2026-10-06", ORDINARY_SLOT, "", (
        "oxide-and-friends-3692ad5782", "aboard-podcast-efadc94aec", "lennys-podcast-ada5e544c6",
        "mkbhd-728e9a01c0", "practical-ai-f7e78ba342", "naval-d285ac8810", "harmontown-eef1cbbcf7",
    )),
    ("2026-10-07", SHARED_TOPIC_SLOT, "AGI, the labs building it and where AI is heading", (
        "naval-fd24bf32c9", "practical-ai-be06208625", "aboard-podcast-fda6bf05ad", "aboard-podcast-4264dec8ef",
        "naval-6f952c14ea", "mkbhd-0a53407992", "lennys-podcast-2c85c0a684",
    )),
    ("2026-10-08", SHARED_TOPIC_SLOT, "drones and building hardware in America", (
        "relentless-575995a0f4", "mkbhd-cda02c8618", "relentless-7a219b88ac", "the-iron-snail-f57083bb87",
        "lennys-podcast-c71d357922", "seen-and-the-unseen-ad7255177f",
    )),
    ("2026-10-09", ORDINARY_SLOT, "", (
        "lennys-podcast-39ac8c58fd", "aboard-podcast-5ecab3ddb0", "relentless-7198bee818",
        "practical-ai-962dd9965d", "mkbhd-2732b97312", "the-iron-snail-ff25b6d1e4",
    )),
    ("2026-10-10", ORDINARY_SLOT, "", (
        "lennys-podcast-ef505806d9", "aboard-podcast-25ec687312", "oxide-and-friends-d7ed3c99e9",
        "relentless-dd042bd7ab", "mkbhd-931c8e690b", "naval-bf44213711", "harmontown-cdfb8eff33",
    )),
    ("2026-10-11", ORDINARY_SLOT, "", (
        "lennys-podcast-f3965e8a42", "aboard-podcast-510b551941", "practical-ai-bff3f6a091",
        "relentless-6a9cbf22ae", "mkbhd-7c4b657b47", "naval-83e5d24498", "the-iron-snail-53538a7a8b",
        "seen-and-the-unseen-a67920ecc3",
    )),
    ("2026-10-12", ORDINARY_SLOT, "", (
        "lennys-podcast-519c645c81", "aboard-podcast-d1e85e26c6", "oxide-and-friends-c95b700ea4",
        "relentless-71b5d5d6b6", "practical-ai-d5cba5137f", "mkbhd-e68fe04595", "the-iron-snail-2c3a18077f",
    )),
)


# Episodes of earlier days that a held-out day may take (the comedy show has no unused episode left).
REUSED_ON_HELDOUT = frozenset({"harmontown-eef1cbbcf7", "harmontown-cdfb8eff33"})


def heldout_episode_ids() -> frozenset[str]:
    """Every episode of a held-out day: never in a training split, never read before the measurement."""
    return frozenset(eid for _, _, _, ids in HELDOUT_DAYS for eid in ids)


_WORD = re.compile(r"[a-z]{4,}")
_TIMING = re.compile(r"-->")
_TAG = re.compile(r"<[^>]*>")
_STOP = frozenset(
    "that this with have they there their what when where which would could should about just really know "
    "like think going yeah okay right because people things thing something some more very well been were "
    "then than them these those into your from will said also much many even only other over want make "
    "kind sort lot lots mean actually gonna here back time good great little being doing does didn "
    "dont thats youre theyre isnt wasnt whats okay alright cause maybe sure guess feel yes".split()
)


# --- corpus ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """One corpus episode as index.json describes it (the transcript stays in the corpus directory)."""

    episode_id: str
    show: str
    show_slug: str
    title: str
    date: str | None
    duration_s: float | None
    file: str
    mime: str
    timestamps: bool


def corpus_dir(path: str | os.PathLike | None = None) -> Path:
    """The corpus directory: the argument, else $PODIGEST_REAL_PODCASTS, else ../shared/real-podcasts."""
    chosen = path or os.environ.get("PODIGEST_REAL_PODCASTS") or DEFAULT_CORPUS
    found = Path(chosen).expanduser().resolve()
    if not (found / "index.json").is_file():
        raise SystemExit(f"no real-podcast corpus at {found} (index.json missing); pass --corpus DIR")
    return found


def load_index(corpus: Path) -> dict[str, Episode]:
    """episode_id -> Episode from index.json."""
    entries = json.loads((corpus / "index.json").read_text(encoding="utf-8"))
    return {
        e["episode_id"]: Episode(
            e["episode_id"], e["show"], e["show_slug"], e.get("title") or e["episode_id"], e.get("date"),
            e.get("duration_s"), e["file"], e["mime"], bool(e.get("timestamps", True)),
        )
        for e in entries
    }


def load_labels(corpus: Path) -> dict[str, dict]:
    """episode_id -> {"ad_spans": [[start_s, end_s], ...], "highlights": [...]} (Focus-AI episodes only)."""
    path = corpus / "labels.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def index_fingerprint(corpus: Path) -> str:
    return hashlib.sha256((corpus / "index.json").read_bytes()).hexdigest()[:16]


def transcript_words(corpus: Path, episode: Episode) -> list[str]:
    """The transcript's words, lower case, for topic similarity only (timing lines and markup dropped)."""
    raw = (corpus / episode.file).read_text(encoding="utf-8", errors="replace")
    if episode.mime == "application/json":
        try:
            text = " ".join(str(s.get("body") or "") for s in json.loads(raw).get("segments") or [])
        except (ValueError, AttributeError):
            text = raw
    elif episode.mime in ("text/vtt", "application/x-subrip"):
        lines = [ln for ln in raw.splitlines() if not _TIMING.search(ln) and not ln.strip().isdigit()]
        text = _TAG.sub(" ", "\n".join(lines))
    else:
        text = raw
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


# --- composition -----------------------------------------------------------------------------------


def tfidf_vectors(docs: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Unit-length TF-IDF vectors (sublinear tf), words in fewer than two documents left out."""
    df: Counter[str] = Counter()
    for words in docs.values():
        df.update(set(words))
    n = len(docs)
    vectors = {}
    for key, words in docs.items():
        tf = Counter(w for w in words if df[w] >= 2)
        vec = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors[key] = {w: v / norm for w, v in vec.items()}
    return vectors


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(v * large.get(w, 0.0) for w, v in small.items())


def _add(profile: dict[str, float], vec: dict[str, float]) -> None:
    for w, v in vec.items():
        profile[w] = profile.get(w, 0.0) + v


def _normalised(profile: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in profile.values())) or 1.0
    return {w: v / norm for w, v in profile.items()}


def _sort_key(ep: Episode) -> tuple[str, str]:
    return (ep.date or "9999", ep.episode_id)


def compose_days(
    index: dict[str, Episode], vectors: dict[str, dict[str, float]], num_days: int = NUM_DAYS
) -> list[dict]:
    """The days: for each, the chosen episodes by slot (each corpus episode used at most once)."""
    by_show: dict[str, list[Episode]] = {}
    for ep in sorted(index.values(), key=_sort_key):
        by_show.setdefault(ep.show_slug, []).append(ep)
    used: set[str] = set()
    days = []
    for number in range(num_days):
        slots = list(SLOTS)
        comedy_left = any(e.episode_id not in used for s in COMEDY_SHOWS for e in by_show.get(s, []))
        if number % NO_COMEDY_EVERY == NO_COMEDY_EVERY - 1 or not comedy_left:
            slots[-1] = ("science_instead_of_comedy", COMEDY_FALLBACK)
        if number % EXTRA_SCIENCE_EVERY == 1:
            slots.append(("science", EXTRA_SCIENCE_SHOWS))
        chosen: list[tuple[str, Episode]] = []
        profile: dict[str, float] = {}
        for slot, shows in slots:
            taken_shows = {e.show_slug for _, e in chosen}
            pool = [
                e for s in shows if s not in taken_shows for e in by_show.get(s, []) if e.episode_id not in used
            ]
            if not pool:
                continue
            if not chosen:
                first_show = next(s for s in shows if any(e.show_slug == s for e in pool))
                pick = min((e for e in pool if e.show_slug == first_show), key=_sort_key)
            else:
                unit = _normalised(profile)
                pick = max(pool, key=lambda e: (round(cosine(unit, vectors[e.episode_id]), 9), e.episode_id))
            chosen.append((slot, pick))
            used.add(pick.episode_id)
            _add(profile, vectors[pick.episode_id])
        days.append({"number": number, "chosen": chosen})
    return days


def _published(when: date, i: int) -> str:
    published = datetime(when.year, when.month, when.day, FIRST_PUBLISHED_HOUR, tzinfo=UTC) + timedelta(
        minutes=PUBLISH_STEP_MIN * i
    )
    return published.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed_day(index: dict[str, Episode], day: str, split: str, kind: str, subject: str, ids: tuple[str, ...],
                one_per_show: bool) -> dict:
    """The manifest entry of a hand-listed day (ids checked against index.json)."""
    missing = [eid for eid in ids if eid not in index]
    if missing:
        raise SystemExit(f"day {day}: not in index.json: {', '.join(missing)}")
    if one_per_show and len({index[eid].show_slug for eid in ids}) != len(ids):
        raise SystemExit(f"shared-topic day {day}: two episodes of one show")
    if len(set(ids)) != len(ids):
        raise SystemExit(f"day {day}: an episode listed twice")
    when = date.fromisoformat(day)
    episodes = [
        {"episode_id": eid, "show": index[eid].show, "show_slug": index[eid].show_slug,
         "slot": kind, "title": index[eid].title, "published_at": _published(when, i)}
        for i, eid in enumerate(ids)
    ]
    entry = {"split": split, "kind": kind, "episode_ids": list(ids), "episodes": episodes}
    if subject:
        entry["subject"] = subject
    if day in FORMERLY_HELDOUT:
        entry["formerly_heldout"] = True
    return entry


def shared_topic_days(index: dict[str, Episode]) -> dict[str, dict]:
    """The manifest entries of SHARED_TOPIC_DAYS (one show per episode)."""
    return {
        day: _listed_day(index, day, split, SHARED_TOPIC_SLOT, subject, ids, one_per_show=True)
        for day, split, subject, ids in SHARED_TOPIC_DAYS
    }


def heldout_days(index: dict[str, Episode], used: set[str]) -> dict[str, dict]:
    """The manifest entries of HELDOUT_DAYS; no episode of them may be on another day."""
    days = {}
    for day, kind, subject, ids in HELDOUT_DAYS:
        reused = [eid for eid in ids if eid in used and eid not in REUSED_ON_HELDOUT]
        if reused:
            raise SystemExit(f"held-out day {day}: on another day already: {', '.join(reused)}")
        used.update(ids)
        days[day] = _listed_day(index, day, "heldout", kind, subject, ids, one_per_show=False)
    return days


def build_manifest(corpus: Path, num_days: int = NUM_DAYS) -> dict:
    """The manifest of composed days (references only: ids, shows, titles, synthetic times, split), then the
    shared-topic days, then the held-out days."""
    index = load_index(corpus)
    slots_shows = {s for _, shows in SLOTS for s in shows} | set(COMEDY_FALLBACK) | set(EXTRA_SCIENCE_SHOWS)
    docs = {eid: transcript_words(corpus, ep) for eid, ep in index.items() if ep.show_slug in slots_shows}
    vectors = tfidf_vectors(docs)
    composed = compose_days({k: v for k, v in index.items() if k in docs}, vectors, num_days)
    days = {}
    for day in composed:
        when = FIRST_DAY + timedelta(days=day["number"])
        episodes = []
        for i, (slot, ep) in enumerate(day["chosen"]):
            episodes.append(
                {
                    "episode_id": ep.episode_id,
                    "show": ep.show,
                    "show_slug": ep.show_slug,
                    "slot": slot,
                    "title": ep.title,
                    "published_at": _published(when, i),
                }
            )
        days[when.isoformat()] = {
            "split": "dev",
            "episode_ids": [e["episode_id"] for e in episodes],
            "episodes": episodes,
        }
        if when.isoformat() in FORMERLY_HELDOUT:
            days[when.isoformat()]["formerly_heldout"] = True
    days.update(shared_topic_days(index))
    used = {eid for entry in days.values() for eid in entry["episode_ids"]}
    days.update(heldout_days(index, used))
    return {
        "about": "Evaluation days composed from the real-podcast corpus: references only, no transcript text. "
        "Rebuild with: python3 bench/real_corpus.py build. Dev days (2026-09-07 to 2026-09-24) are read "
        "while fixing; the days marked formerly_heldout were the first round's held-out days. The held-out "
        "days (2026-10-05 to 2026-10-12, bench/real_corpus.py HELDOUT_DAYS) use episodes no earlier day "
        "used and no model trains on; nobody reads them before the measurement that reports them. Days "
        "with kind shared_topic put episodes of different shows about one subject together, so that one "
        "story can be covered by several shows.",
        "corpus_index_sha256_16": index_fingerprint(corpus),
        "num_days": num_days,
        "heldout_days": [d for d, v in days.items() if v["split"] == "heldout"],
        "shared_topic_days": [d for d, v in days.items() if v.get("kind") == SHARED_TOPIC_SLOT],
        "days": days,
    }


def load_manifest(path: str | os.PathLike | None = None) -> dict:
    """The manifest written by `build` (bench/real_days.json by default)."""
    found = Path(path or DEFAULT_MANIFEST)
    if not found.is_file():
        raise SystemExit(f"no manifest at {found}: run python3 bench/real_corpus.py build")
    return json.loads(found.read_text(encoding="utf-8"))


def select_days(manifest: dict, split: str = "all", days: Iterable[str] | None = None) -> list[str]:
    """The composed days to run, in date order: the listed ones, else all days of a split."""
    known = manifest["days"]
    if days:
        wanted = list(days)
        unknown = [d for d in wanted if d not in known]
        if unknown:
            raise SystemExit(f"not composed days: {', '.join(unknown)} (see python3 bench/real_corpus.py show)")
        return sorted(wanted)
    return sorted(d for d, v in known.items() if split == "all" or v["split"] == split)


# --- serving ---------------------------------------------------------------------------------------


def silent_wav(episode_id: str) -> bytes:
    """A tiny valid WAV (8 kHz mono, ~0.1 s of near-silence), its length and samples unique per episode."""
    digest = hashlib.sha256(episode_id.encode()).digest()
    samples = 800 + digest[0]
    data = b"".join(struct.pack("<h", (digest[i % len(digest)] % 3) - 1) for i in range(samples))
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


def load_show_notes(corpus: Path) -> dict[str, str]:
    """episode_id -> the publisher's own episode description (show_notes.json), where the corpus has one."""
    path = corpus / "show_notes.json"
    return dict(json.loads(path.read_text(encoding="utf-8")).get("notes") or {}) if path.is_file() else {}


def feed_xml(show: str, items: list[dict], base: str, notes: dict[str, str] | None = None) -> bytes:
    """An RSS 2.0 feed with iTunes and Podcasting 2.0 namespaces for one show's items of a day; an item's
    `<description>` is its show notes, as publishers write them."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0">\n<channel>\n'
        f"<title>{escape(show)}</title>\n<link>{escape(base)}/</link>\n"
        f"<description>{escape(show)} (real-podcast corpus, served locally for evaluation)</description>\n"
        "<language>en</language>\n"
    ]
    for item in items:
        ep: Episode = item["episode"]
        published = datetime.strptime(item["published_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        audio_url = f"{base}/audio/{quote(ep.episode_id)}.wav"
        transcript_url = f"{base}/transcripts/{quote(ep.file)}"
        duration = f"<itunes:duration>{int(ep.duration_s)}</itunes:duration>\n" if ep.duration_s else ""
        note = (notes or {}).get(ep.episode_id)
        description = f"<description>{escape(note)}</description>\n" if note else ""
        parts.append(
            "<item>\n"
            f"<title>{escape(ep.title)}</title>\n"
            f'<guid isPermaLink="false">{escape(ep.episode_id)}</guid>\n'
            f"<pubDate>{format_datetime(published)}</pubDate>\n"
            f'<enclosure url={quoteattr(audio_url)} length="{len(silent_wav(ep.episode_id))}" type="audio/wav"/>\n'
            f"{duration}{description}"
            f"<podcast:transcript url={quoteattr(transcript_url)} type={quoteattr(ep.mime)}/>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


class CorpusServer:
    """Serves composed days as RSS feeds, transcripts and enclosures on 127.0.0.1 (random port), in a thread.

    Use as a context manager; `feeds(day)` gives [{"url", "name"}] for a feeds.yaml."""

    def __init__(self, corpus: Path, manifest: dict, host: str = "127.0.0.1", port: int = 0) -> None:
        self.corpus = corpus
        self.manifest = manifest
        self.index = load_index(corpus)
        self.notes = load_show_notes(corpus)
        self._files = {ep.file: ep for ep in self.index.values()}
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="corpus-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def day_items(self, day: str) -> dict[str, list[dict]]:
        """show_slug -> the day's items of that show (the episode and its synthetic publication time)."""
        shows: dict[str, list[dict]] = {}
        for entry in self.manifest["days"][day]["episodes"]:
            ep = self.index[entry["episode_id"]]
            shows.setdefault(ep.show_slug, []).append({"episode": ep, "published_at": entry["published_at"]})
        return shows

    def feeds(self, day: str) -> list[dict[str, str]]:
        out = []
        for slug, items in self.day_items(day).items():
            out.append({"url": f"{self.base_url}/feeds/{day}/{slug}.xml", "name": items[0]["episode"].show})
        return out

    def feeds_yaml(self, day: str) -> str:
        lines = ["feeds:"]
        for feed in self.feeds(day):
            lines += [f"  - url: {json.dumps(feed['url'])}", f"    name: {json.dumps(feed['name'])}"]
        return "\n".join(lines) + "\n"

    def _route(self, path: str) -> tuple[int, str, bytes]:
        parts = unquote(urlsplit(path).path).lstrip("/").split("/", 1)
        if len(parts) == 2 and parts[0] == "feeds":
            day, _, name = parts[1].partition("/")
            slug = name.removesuffix(".xml")
            items = self.day_items(day).get(slug) if day in self.manifest["days"] else None
            if items:
                return 200, "application/rss+xml; charset=utf-8", feed_xml(
                    items[0]["episode"].show, items, self.base_url, self.notes
                )
        elif len(parts) == 2 and parts[0] == "transcripts" and parts[1] in self._files:
            ep = self._files[parts[1]]
            mime = ep.mime + ("; charset=utf-8" if ep.mime.startswith("text/") else "")
            return 200, mime, (self.corpus / ep.file).read_bytes()
        elif len(parts) == 2 and parts[0] == "audio" and parts[1].removesuffix(".wav") in self.index:
            return 200, "audio/wav", silent_wav(parts[1].removesuffix(".wav"))
        return 404, "text/plain", b"not found\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, with_body: bool) -> None:
                status, mime, body = server._route(self.path)
                self.send_response(status)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._respond(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._respond(False)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler


# --- command line ----------------------------------------------------------------------------------


def _show(manifest: dict) -> None:
    for day, entry in sorted(manifest["days"].items()):
        subject = f"  shared topic: {entry['subject']}" if entry.get("subject") else ""
        print(f"{day}  {entry['split']:<8} {len(entry['episodes'])} shows{subject}")
        for ep in entry["episodes"]:
            print(f"    {ep['slot']:<24} {ep['show']:<26} {ep['title'][:70]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="compose the days and write the manifest")
    build.add_argument("--corpus", help="corpus dir (default $PODIGEST_REAL_PODCASTS or ../shared/real-podcasts)")
    build.add_argument("--out", default=str(DEFAULT_MANIFEST))
    build.add_argument("--days", type=int, default=NUM_DAYS)
    show = sub.add_parser("show", help="list the composed days")
    show.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    serve = sub.add_parser("serve", help="serve one day's feeds until interrupted and print its feeds.yaml")
    serve.add_argument("--day", required=True)
    serve.add_argument("--corpus")
    serve.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    serve.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    if args.command == "build":
        manifest = build_manifest(corpus_dir(args.corpus), args.days)
        Path(args.out).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        _show(manifest)
        print(f"wrote {args.out}")
        return 0
    manifest = load_manifest(args.manifest)
    if args.command == "show":
        _show(manifest)
        return 0
    select_days(manifest, days=[args.day])
    with CorpusServer(corpus_dir(args.corpus), manifest, port=args.port) as server:
        print(server.feeds_yaml(args.day), end="", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
