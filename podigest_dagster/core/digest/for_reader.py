"""A reader's own top 5: the day's stories re-ranked by how close they come to the reader's interests, with
the insight stage's own selection still deciding what may be sent.

The same selection as the general digest (insights/selection.py): the value floor, the repeat check against
recent digests, coverage, no two items about one thing, at most two per show; a relevance term is added to a
story's score once it passed the floor. So a reader's digest never holds an item the general selection would
refuse and is never padded. Muted shows are taken out of every story (a story led by a muted show is dropped
whole); a story about a muted topic is dropped. A reader with no interests and no mutes gets the general
digest as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from podigest_dagster.core.digest.readers import Reader
from podigest_dagster.core.digest.render import Digest, DigestItem
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.selection import (
    EpisodeInfo,
    Ranking,
    SelectionConfig,
    build_items,
    choose_stories,
)
from podigest_dagster.core.insights.stories import Story
from podigest_dagster.core.text.display import clean_text

Embed = Callable[[list[str]], np.ndarray]

# all-MiniLM-L6-v2 cosine between an interest phrase ("energy policy") and a passage on that subject is
# about 0.2-0.45, and up to about 0.15 for an unrelated one: above RELEVANCE_NOISE closeness counts,
# RELEVANCE_WEIGHT x (cosine - noise) is added to the story's score (its predicted value, 0.7-3 once past the
# send floor, plus coverage), so a clearly relevant idea (0.35: +0.5) outranks a somewhat better unrelated one, and from MATCH_SIMILARITY on the footer
# says the item matched the interest. MUTE_SIMILARITY: an idea this close to a muted topic is dropped.
RELEVANCE_NOISE = 0.1
RELEVANCE_WEIGHT = 2.0
MATCH_SIMILARITY = 0.25
MUTE_SIMILARITY = 0.35

GENERAL_REASON = "one of the day's top insights"
TOP_REASON = "one of the day's top insights (no interest of yours came close today)"


@dataclass(frozen=True)
class GeneralItem:
    """An item of the day's general digest, by its lead passage, as it was sent: its (possibly rewritten)
    text, topic, speaker, support, sources and coverage."""

    candidate_id: str
    insight: str
    topic: str = ""
    speaker: str = ""
    support: int = 1
    sources: list = field(default_factory=list)
    coverage: list = field(default_factory=list)


@dataclass
class ReaderDigest:
    """What one reader gets on a day: the digest, why each item is there, and which kind it is."""

    reader: Reader
    digest: Digest
    reasons: list[str] = field(default_factory=list)
    candidate_ids: list[str] = field(default_factory=list)
    general: bool = False

    @property
    def kind(self) -> str:
        """`general` or `reader`, as the delivery ledger records it."""
        return "general" if self.general else "reader"

    def ledger_items(self) -> list[dict]:
        """What was sent, for the delivery ledger: rank, passage and why."""
        return [
            {"rank": item.rank, "candidate_id": cid, "why": why}
            for item, cid, why in zip(self.digest.items, self.candidate_ids, self.reasons, strict=False)
        ]


def general_digest_for(
    reader: Reader, digest: Digest, candidate_ids: list[str] | None = None
) -> ReaderDigest:
    """The general digest, for a reader with no interests or mutes."""
    reasons = [GENERAL_REASON] * len(digest.items)
    return ReaderDigest(reader, digest, reasons, list(candidate_ids or []), general=True)


def choose_for_reader(
    reader: Reader,
    date: str,
    stories: list[Story],
    embed: Embed,
    general: dict[str, GeneralItem],
    past_embeddings: np.ndarray | None = None,
    episodes: dict[str, EpisodeInfo] | None = None,
    config: SelectionConfig | None = None,
) -> ReaderDigest:
    """The reader's top items of the day (at most `config.top_n`), each with the reason it is there."""
    config = config or SelectionConfig()
    past = past_embeddings if past_embeddings is not None else np.zeros((0, DIMENSIONS), dtype=np.float32)
    interests = _unit(embed(list(reader.interests))) if reader.interests else None
    mutes = _unit(embed(list(reader.muted_topics))) if reader.muted_topics else None
    kept = []
    for story in stories:
        trimmed = without_shows(story, reader.muted_shows)
        if trimmed is None or muted_topic(trimmed, reader.muted_topics, mutes, general):
            continue
        kept.append(trimmed)
    closeness = {s.story_id: relevance(s, interests, reader.interests) for s in kept}

    def bonus(story: Story) -> float:
        return RELEVANCE_WEIGHT * max(closeness[story.story_id][0] - RELEVANCE_NOISE, 0.0)

    ranking = choose_stories(kept, past, config, bonus=bonus)
    chosen = [s for s, _, _ in ranking.stories]
    fresh = [k for k, s in enumerate(chosen) if s.lead.candidate_id not in general]
    named = build_items(Ranking([ranking.stories[k] for k in fresh], {}), episodes or {}, embed=embed) if fresh else []
    built = dict(zip(fresh, named, strict=True))
    items, reasons, ids = [], [], []
    for k, story in enumerate(chosen):
        known = general.get(story.lead.candidate_id)
        if known:
            muted = {clean_text(s).casefold() for s in reader.muted_shows}
            coverage = [s for s in known.coverage if clean_text(s.podcast).casefold() not in muted]
            support = 1 + len({clean_text(s.podcast).casefold() for s in coverage})
            item = DigestItem(k + 1, known.insight, support, known.sources, known.topic, known.speaker, coverage)
        else:
            top = built[k]
            item = DigestItem(k + 1, top.insight, top.support, top.sources, top.topic, top.speaker, top.coverage)
        items.append(item)
        similarity, interest = closeness[story.story_id]
        reasons.append(_reason(reader, similarity, interest))
        ids.append(story.lead.candidate_id)
    return ReaderDigest(reader, Digest(date, items), reasons, ids)


def _reason(reader: Reader, similarity: float, interest: str | None) -> str:
    if interest and similarity >= MATCH_SIMILARITY:
        return f"matched your interest: {interest}"
    return TOP_REASON if reader.interests else GENERAL_REASON


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _member_vectors(story: Story) -> np.ndarray:
    """Every passage's embedding of the story."""
    vectors = story.embeddings if story.embeddings is not None else story.lead_embedding[None, :]
    return np.asarray(vectors, dtype=np.float32).reshape(-1, DIMENSIONS)


def relevance(
    story: Story, interests: np.ndarray | None, names: tuple[str, ...]
) -> tuple[float, str | None]:
    """The closest any interest comes to any passage of the story (cosine), and which interest."""
    if interests is None or not len(interests):
        return 0.0, None
    closeness = _member_vectors(story) @ interests.T
    best = np.unravel_index(int(np.argmax(closeness)), closeness.shape)
    return float(closeness[best]), names[int(best[1])]


def _same_show(member, shows: set[str]) -> bool:
    return (
        clean_text(member.podcast).casefold() in shows or (member.feed_url or "").strip().casefold() in shows
    )


def without_shows(story: Story, muted: tuple[str, ...]) -> Story | None:
    """The story without the muted shows' passages; None when a muted show leads it."""
    shows = {clean_text(s).casefold() for s in muted}
    if not shows:
        return story
    if _same_show(story.lead, shows):
        return None
    members = story.members
    keep = [i for i, m in enumerate(members) if not _same_show(m, shows)]
    if len(keep) == len(members):
        return story
    vectors = story.embeddings if story.embeddings is not None else np.zeros((len(members), DIMENSIONS), np.float32)
    return replace(
        story,
        coverage=[c for c in story.coverage if not _same_show(c, shows)],
        same_show=[c for c in story.same_show if not _same_show(c, shows)],
        embeddings=np.asarray(vectors)[keep],
    )


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", clean_text(text).casefold())


def muted_topic(
    story: Story, phrases: tuple[str, ...], vectors: np.ndarray | None, general: dict[str, GeneralItem]
) -> bool:
    """Whether the story is about a muted topic: the phrase is in its topic line or its words in a
    passage, or a passage comes within MUTE_SIMILARITY of it in meaning."""
    if not phrases:
        return False
    known = general.get(story.lead.candidate_id)
    texts = [known.topic if known else "", *(m.text for m in story.members)]
    for phrase in phrases:
        wanted = _words(phrase)
        for text in texts:
            words = _words(text)
            if wanted and any(words[i : i + len(wanted)] == wanted for i in range(len(words))):
                return True
    if vectors is None or not len(vectors):
        return False
    return float(np.max(_member_vectors(story) @ vectors.T)) >= MUTE_SIMILARITY
