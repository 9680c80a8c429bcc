"""A reader's own top 5: the day's quality-passing clusters re-ranked by how close they come to the
reader's interests, with the insights stage's own rules still deciding what may be sent.

The same ranking as the general digest (insights/ranking.py): the quality floor, the repeat check
against recent digests, the base score of support, insightfulness and novelty, and the diversity
selection; a relevance term is added to the base score. So a reader's digest never holds an item the
general ranking would refuse, is never padded, and ties still go to the better-supported claim. Muted
shows are taken out of every idea (an idea worded by a muted show is dropped whole); an idea about a
muted topic is dropped. A reader with no interests and no mutes gets the general digest as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from podigest_dagster.core.digest.readers import Reader
from podigest_dagster.core.digest.render import Digest, DigestItem
from podigest_dagster.core.insights.clustering import Cluster
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.ranking import (
    RankingConfig,
    Source,
    cluster_sources,
    eligible_clusters,
    item_topic,
    select_diverse,
)
from podigest_dagster.core.text.display import clean_text

Embed = Callable[[list[str]], np.ndarray]

# all-MiniLM-L6-v2 cosine between an interest phrase ("energy policy") and a passage on that subject is
# about 0.2-0.45, and up to about 0.15 for an unrelated one: above RELEVANCE_NOISE closeness counts,
# RELEVANCE_WEIGHT x (cosine - noise) is added to the base score (about 0.35-0.95), so a clearly relevant
# idea (0.35: +0.5) outranks a better-supported unrelated one, and from MATCH_SIMILARITY on the footer
# says the item matched the interest. MUTE_SIMILARITY: an idea this close to a muted topic is dropped.
RELEVANCE_NOISE = 0.1
RELEVANCE_WEIGHT = 2.0
MATCH_SIMILARITY = 0.25
MUTE_SIMILARITY = 0.35

GENERAL_REASON = "one of the day's top insights"
TOP_REASON = "one of the day's top insights (no interest of yours came close today)"


@dataclass(frozen=True)
class GeneralItem:
    """An item of the day's general digest, by its representative passage: its (possibly rewritten) text,
    topic, who said it and the other shows that covered the story."""

    candidate_id: str
    insight: str
    topic: str = ""
    speaker: str = ""
    coverage: list[Source] = field(default_factory=list)


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
    clusters: list[Cluster],
    embed: Embed,
    general: dict[str, GeneralItem],
    past_embeddings: np.ndarray | None = None,
    past_texts: list[str] | None = None,
    config: RankingConfig | None = None,
    topics: dict[str, str] | None = None,
) -> ReaderDigest:
    """The reader's top items of the day (at most `config.top_n`), each with the reason it is there.
    `topics` caches the topic lines of ideas outside the general digest, shared by all of a day's readers."""
    config = config or RankingConfig()
    past = past_embeddings if past_embeddings is not None else np.zeros((0, DIMENSIONS), dtype=np.float32)
    interests = _unit(embed(list(reader.interests))) if reader.interests else None
    mutes = _unit(embed(list(reader.muted_topics))) if reader.muted_topics else None
    kept = []
    for cluster in clusters:
        trimmed = without_shows(cluster, reader.muted_shows)
        if trimmed is None or muted_topic(trimmed, reader.muted_topics, mutes, general):
            continue
        kept.append(trimmed)
    scored, _ = eligible_clusters(kept, past, config, past_texts)
    closeness: dict[int, tuple[float, str | None]] = {}
    rescored = []
    for cluster, base, novelty in scored:
        similarity, interest = relevance(cluster, interests, reader.interests)
        closeness[cluster.cluster_id] = (similarity, interest)
        rescored.append((cluster, base + RELEVANCE_WEIGHT * max(similarity - RELEVANCE_NOISE, 0.0), novelty))
    items, reasons, ids = [], [], []
    for rank, (cluster, _, _) in enumerate(select_diverse(rescored, config), start=1):
        rep = cluster.representative
        known = general.get(rep.candidate_id)
        topics = {} if topics is None else topics
        if not known and rep.candidate_id not in topics:
            topics[rep.candidate_id] = item_topic(cluster, embed)
        topic = known.topic if known else topics[rep.candidate_id]
        text = known.insight if known else rep.text
        items.append(_item(rank, cluster, text, topic, known, reader.muted_shows))
        similarity, interest = closeness[cluster.cluster_id]
        reasons.append(_reason(reader, similarity, interest))
        ids.append(rep.candidate_id)
    return ReaderDigest(reader, Digest(date, items), reasons, ids)


def _item(
    rank: int, cluster: Cluster, text: str, topic: str, known: GeneralItem | None, muted: tuple[str, ...]
) -> DigestItem:
    """The reader's item of an idea: an idea of the general digest keeps its speaker and its coverage (less
    the muted shows, the support counted again from what is left); the insights stage names neither for the
    ideas it did not choose, so those have none."""
    if known is None:
        return DigestItem(rank, text, cluster.support, cluster_sources(cluster), topic=topic)
    shows = {clean_text(s).casefold() for s in muted}
    coverage = [s for s in known.coverage if clean_text(s.podcast).casefold() not in shows]
    support = cluster.support
    if known.coverage:
        support = 1 + len({clean_text(s.podcast).casefold() for s in coverage})
    return DigestItem(
        rank, text, support, cluster_sources(cluster), topic=topic, speaker=known.speaker, coverage=coverage
    )


def _reason(reader: Reader, similarity: float, interest: str | None) -> str:
    if interest and similarity >= MATCH_SIMILARITY:
        return f"matched your interest: {interest}"
    return TOP_REASON if reader.interests else GENERAL_REASON


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _member_vectors(cluster: Cluster) -> np.ndarray:
    """Every passage's embedding and every sentence's, so a one-sentence match inside a passage counts."""
    parts = [np.asarray(cluster.embeddings, dtype=np.float32).reshape(-1, DIMENSIONS)]
    for vectors in cluster.sentence_vectors or []:
        parts.append(np.asarray(vectors, dtype=np.float32).reshape(-1, DIMENSIONS))
    return np.concatenate(parts)


def relevance(
    cluster: Cluster, interests: np.ndarray | None, names: tuple[str, ...]
) -> tuple[float, str | None]:
    """The closest any interest comes to any passage or sentence of the idea (cosine), and which interest."""
    if interests is None or not len(interests):
        return 0.0, None
    closeness = _member_vectors(cluster) @ interests.T
    best = np.unravel_index(int(np.argmax(closeness)), closeness.shape)
    return float(closeness[best]), names[int(best[1])]


def _same_show(member, shows: set[str]) -> bool:
    return (
        clean_text(member.podcast).casefold() in shows or (member.feed_url or "").strip().casefold() in shows
    )


def without_shows(cluster: Cluster, muted: tuple[str, ...]) -> Cluster | None:
    """The idea without the muted shows' passages; None when a muted show worded it (its representative)."""
    shows = {clean_text(s).casefold() for s in muted}
    if not shows:
        return cluster
    if _same_show(cluster.representative, shows):
        return None
    keep = [i for i, m in enumerate(cluster.members) if not _same_show(m, shows)]
    if len(keep) == len(cluster.members):
        return cluster
    supports = getattr(cluster, "supports", None)
    changes = {
        "members": [cluster.members[i] for i in keep],
        "embeddings": np.asarray(cluster.embeddings)[keep],
        "sentence_vectors": [cluster.sentence_vectors[i] for i in keep] if cluster.sentence_vectors else None,
    }
    if supports is not None:
        changes["supports"] = [supports[i] for i in keep]
    return replace(cluster, **changes)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", clean_text(text).casefold())


def muted_topic(
    cluster: Cluster, phrases: tuple[str, ...], vectors: np.ndarray | None, general: dict[str, GeneralItem]
) -> bool:
    """Whether the idea is about a muted topic: the phrase is in its topic line or its words in the
    passage, or a passage or sentence comes within MUTE_SIMILARITY of it in meaning."""
    if not phrases:
        return False
    known = general.get(cluster.representative.candidate_id)
    texts = [known.topic if known else "", *(m.text for m in cluster.members)]
    for phrase in phrases:
        wanted = _words(phrase)
        for text in texts:
            words = _words(text)
            if wanted and any(words[i : i + len(wanted)] == wanted for i in range(len(words))):
                return True
    if vectors is None or not len(vectors):
        return False
    return float(np.max(_member_vectors(cluster) @ vectors.T)) >= MUTE_SIMILARITY
