"""Search over everything said: BM25 on the transcript segments, cosine on the insight passages'
stored embeddings, fused by reciprocal rank; each hit is a moment (show, episode, time) with a snippet
whose matching words are marked, ready to play from that second.

Every text here comes from feeds and transcripts: hits carry plain strings and each renderer escapes
them for its own output (the site's templates autoescape; the terminal gets clean one-line text). A hit
names its speaker only where the transcript names one, never a diarization placeholder ("Speaker 1").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from podigest_dagster.core.search import store
from podigest_dagster.core.text.display import clean_text
from podigest_dagster.core.transcribe.publisher import speaker_name
from podigest_dagster.warehouse.db import read_connection

MODES = ("both", "words", "meaning")
MAX_QUERY_CHARS = 300
MAX_LIMIT = 100
# all-MiniLM-L6-v2 cosine between a short query and a passage: about 0.3-0.45 when the passage is on the
# query's subject in other words ("furnace replacement in cold climates" / a heat-pump claim: 0.35), while
# a word the model does not know ("zzyzx") still comes within 0.27 of some line; below the floor a
# meaning-only hit is noise and is not shown.
MEANING_FLOOR = 0.3
RRF_K = 60
CANDIDATES_PER_SIDE = 50
SNIPPET_CHARS = 240
_WORD = re.compile(r"[^\W\d_]+")

Embed = Callable[[list[str]], np.ndarray]


class SearchError(ValueError):
    """A query that cannot be run (empty, too long, an unknown mode); the message is one line for a user."""


@dataclass(frozen=True)
class Fragment:
    """A piece of a snippet; `match` marks a word the query matched."""

    text: str
    match: bool = False


@dataclass
class Hit:
    """One moment that matched: where, when, who said it ("" when unnamed), a marked snippet, how it
    matched and its fused score."""

    episode_id: str
    start_s: float
    end_s: float
    text: str
    score: float = 0.0
    matched: set[str] = field(default_factory=set)
    day: str = ""
    podcast: str = ""
    episode: str = ""
    audio_url: str | None = None
    link: str | None = None
    snippet: list[Fragment] = field(default_factory=list)
    speaker: str = ""

    @property
    def how(self) -> str:
        """ "words", "meaning" or "words and meaning"."""
        return " and ".join(kind for kind in ("words", "meaning") if kind in self.matched)

    def play_url(self) -> str | None:
        """The episode's audio starting at the hit (media fragment #t=), else its page."""
        base = self.audio_url or self.link
        if not base:
            return None
        return f"{base.split('#', 1)[0]}#t={max(int(self.start_s), 0)}"


@contextmanager
def open_index(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the search index with the fts extension loaded; SearchError when there is
    no complete index there yet (works while a day is being indexed, between its short writes)."""
    if not Path(path).exists():
        raise SearchError(f"no search index at {path} yet: `podigest run` builds it (asset search_index)")
    with read_connection(path) as conn:
        store.prepare_reader(conn)
        if not store.is_current(conn):
            raise SearchError(
                f"the search index at {path} is incomplete or from another version: "
                "the next `podigest run` rebuilds it"
            )
        yield conn


def clean_query(query: str) -> str:
    """The query as one line; SearchError when it is empty or longer than MAX_QUERY_CHARS."""
    text = clean_text(query)
    if not text:
        raise SearchError('empty query: say what to look for, e.g. podigest search "heat pumps"')
    if len(text) > MAX_QUERY_CHARS:
        raise SearchError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    return text


def search(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    *,
    embed: Embed | None = None,
    mode: str = "both",
    show: str | None = None,
    since: date | None = None,
    limit: int = 10,
) -> list[Hit]:
    """The best `limit` moments for the query on an index connection (fts loaded). `embed` is needed for
    meaning; without it (or in mode "words") only the words count."""
    text = clean_query(query)
    if mode not in MODES:
        raise SearchError(f"unknown search mode {mode!r}: choose one of {', '.join(MODES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    show = clean_text(show) or None
    pool = max(CANDIDATES_PER_SIDE, limit)
    words = store.word_hits(conn, text, show, since, pool) if mode in ("both", "words") else []
    meaning: list[tuple] = []
    if mode in ("both", "meaning") and embed is not None:
        vector = np.asarray(embed([text]), dtype=np.float32)[0].tolist()
        meaning = store.meaning_hits(conn, vector, show, since, pool, MEANING_FLOOR)
    hits = fuse(words, meaning)[:limit]
    _describe(conn, text, hits)
    return hits


def fuse(words: list[tuple], meaning: list[tuple]) -> list[Hit]:
    """Reciprocal-rank fusion of segment hits and passage hits, each (episode_id, start, end, text, score,
    speaker).

    A passage and the matching segments inside it are one moment: it starts at the best segment (where
    the words were said) and scores both ranks."""
    hits: list[Hit] = []
    for rank, (episode_id, start, end, text, _, speaker) in enumerate(words, start=1):
        rrf = 1 / (RRF_K + rank)
        hits.append(Hit(episode_id, float(start), float(end), text, rrf, {"words"}, speaker=speaker or ""))
    for rank, (episode_id, start, end, text, _, speaker) in enumerate(meaning, start=1):
        inside = [h for h in hits if h.episode_id == episode_id and start - 0.5 <= h.start_s <= end]
        bonus = 1 / (RRF_K + rank)
        if inside:
            anchor = max(inside, key=lambda h: h.score)
            anchor.score += bonus
            anchor.matched.add("meaning")
            for other in inside:
                if other is not anchor and other.matched == {"words"}:
                    anchor.score += other.score
                    hits.remove(other)
        else:
            hits.append(
                Hit(episode_id, float(start), float(end), text, bonus, {"meaning"}, speaker=speaker or "")
            )
    return sorted(hits, key=lambda h: (-h.score, h.episode_id, h.start_s))


def _describe(conn: duckdb.DuckDBPyConnection, query: str, hits: list[Hit]) -> None:
    """Fill in each hit's show, episode, day, links and marked snippet."""
    episodes = store.episodes_by_id(conn, [h.episode_id for h in hits])
    terms = store.query_stems(conn, query)
    snippets = [cut_snippet(clean_text(h.text), SNIPPET_CHARS) for h in hits]
    stems = store.word_stems(conn, [w for s in snippets for w in _WORD.findall(s)])
    for hit, snippet in zip(hits, snippets, strict=True):
        day, podcast, title, audio_url, link = episodes.get(hit.episode_id, ("", "", "", None, None))
        hit.day, hit.podcast, hit.episode = day or "", clean_text(podcast), clean_text(title)
        hit.audio_url, hit.link = audio_url, link
        hit.speaker = clean_text(speaker_name(hit.speaker))
        hit.snippet = mark(snippet, lambda word: stems.get(word) in terms)


def cut_snippet(text: str, limit: int) -> str:
    """The text, cut at a word boundary with an ellipsis when longer than `limit`."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def mark(text: str, is_match: Callable[[str], bool]) -> list[Fragment]:
    """The text as fragments, each matching word its own fragment with `match` set."""
    fragments: list[Fragment] = []
    position = 0
    for found in _WORD.finditer(text):
        if is_match(found.group(0)):
            if found.start() > position:
                fragments.append(Fragment(text[position : found.start()]))
            fragments.append(Fragment(found.group(0), True))
            position = found.end()
    if position < len(text):
        fragments.append(Fragment(text[position:]))
    return fragments
