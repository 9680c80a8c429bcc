"""Group the day's candidates into ideas: paraphrases across episodes and podcasts share one cluster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from podigest_dagster.core.insights.candidates import Candidate, content_words
from podigest_dagster.core.insights.claims import QUALITY_FLOOR, same_claim
from podigest_dagster.core.insights.embedding import DIMENSIONS, model_vocabulary
from podigest_dagster.core.insights.scoring import NUMBER
from podigest_dagster.core.insights.text import unknown_word_share
from podigest_dagster.core.text.sentences import split_sentences

# Two passages are one idea when their meaning similarity (the higher of whole-passage cosine and the
# best-matching pair of their sentences) plus LEXICAL_WEIGHT x their shared key words reaches
# MERGE_SIMILARITY, on average between two groups. Whisper garbles wording, which pulls cosine of true
# cross-show paraphrases down to 0.4-0.6, but they keep their key words and numbers; distinct ideas on the
# same topic share topic words but not the claim. Dev days (real Whisper output): paraphrase pairs
# 0.61-0.92 on this scale, distinct-idea pairs <= 0.54; hand-written same-topic ideas <= 0.57.
MERGE_SIMILARITY = 0.6
LEXICAL_WEIGHT = 0.3
CENTRALITY_WEIGHT = 0.3
# Readers get the cleanest wording of an idea: a member loses UNKNOWN_WORD_WEIGHT x its share of words
# outside the model's vocabulary (ASR slips like 'maximically') and ASR_WEIGHT x how unsure Whisper was
# (its mean avg_logprob, about -0.1 to -0.5); a publisher's transcript has no such doubt.
UNKNOWN_WORD_WEIGHT = 1.0
ASR_WEIGHT = 0.5


@dataclass
class Cluster:
    """One idea: its member passages, its best representative, and which members support it: per show,
    the member that passes the quality floor and states the same claim as the representative (the
    representative always does). Support is the number of distinct shows with a supporting member."""

    cluster_id: int
    members: list[Candidate]
    embeddings: np.ndarray
    representative: Candidate
    representative_embedding: np.ndarray
    sentence_vectors: list[np.ndarray] | None = field(default=None, repr=False)
    supports: list[bool] | None = None

    def supporting_members(self) -> list[Candidate]:
        """The representative first, then one supporting member per other show."""
        flags = self.supports if self.supports is not None else [m is self.representative for m in self.members]
        backing = [m for m, ok in zip(self.members, flags, strict=True) if ok and m is not self.representative]
        return [self.representative, *backing]

    @property
    def podcasts(self) -> list[str]:
        """Distinct podcasts (by feed) backing the idea, named for readers."""
        seen: dict[str, str] = {}
        for member in self.supporting_members():
            seen.setdefault(member.feed_url or member.podcast, member.podcast)
        return list(seen.values())

    @property
    def support(self) -> int:
        return len({m.feed_url or m.podcast for m in self.supporting_members()})


def key_terms(text: str) -> set[str]:
    """Content-word stems (first four letters, robust to ASR slips) and number words of a text."""
    return {w[:4] for w in content_words(text)} | {n.lower() for n in NUMBER.findall(text)}


def lexical_overlap(a: str, b: str) -> float:
    """Share of key terms two texts have in common, relative to the shorter one."""
    sa, sb = key_terms(a), key_terms(b)
    return len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0


def lexical_matrix(texts: list[str]) -> np.ndarray:
    """Pairwise `lexical_overlap` of many texts at once."""
    terms = [key_terms(t) for t in texts]
    vocabulary = {term: i for i, term in enumerate(sorted(set().union(*terms)))} if terms else {}
    present = np.zeros((len(texts), max(len(vocabulary), 1)), dtype=np.float32)
    for row, found in enumerate(terms):
        present[row, [vocabulary[t] for t in found]] = 1.0
    shared = present @ present.T
    sizes = present.sum(axis=1)
    smaller = np.minimum.outer(sizes, sizes)
    return np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)



def embed_passages(
    texts: list[str], embed: Callable[[list[str]], np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each passage's embedding and its sentences' embeddings, in one batch: the day's one embedding step
    (nothing to embed loads no model)."""
    pieces = [split_sentences(t) or [t] for t in texts]
    everything = list(texts) + [s for piece in pieces for s in piece]
    flat = embed(everything) if everything else np.zeros((0, DIMENSIONS), np.float32)
    flat = np.asarray(flat, dtype=np.float32).reshape(-1, DIMENSIONS)
    passages, start, sentences = flat[: len(texts)], len(texts), []
    for piece in pieces:
        sentences.append(flat[start : start + len(piece)])
        start += len(piece)
    return passages, sentences


def best_sentence_match(sentence_vectors: list[np.ndarray]) -> np.ndarray:
    """For every two candidates, the cosine of their best-matching pair of sentences."""
    counts = [len(v) for v in sentence_vectors]
    stacked = np.concatenate(sentence_vectors).astype(np.float32)
    starts = np.cumsum([0, *counts[:-1]])
    sims = stacked @ stacked.T
    rows = np.maximum.reduceat(sims, starts, axis=0)
    return np.maximum.reduceat(rows, starts, axis=1)


def similarity_matrix(
    candidates: list[Candidate],
    embeddings: np.ndarray,
    sentence_vectors: list[np.ndarray] | None = None,
    lexical_weight: float = LEXICAL_WEIGHT,
) -> np.ndarray:
    """Hybrid similarity of every two candidates: best of passage and sentence-pair cosine, plus shared words."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    meaning = vectors @ vectors.T
    if sentence_vectors is not None and len(sentence_vectors) == len(candidates) and candidates:
        meaning = np.maximum(meaning, best_sentence_match(sentence_vectors))
    return meaning + lexical_weight * lexical_matrix([c.text for c in candidates])


def meaning_similarity(a: Cluster, b: Cluster) -> float:
    """How close two ideas are in meaning: the best cosine between their members' passages or sentences."""
    best = float(np.max(a.embeddings @ b.embeddings.T))
    if a.sentence_vectors and b.sentence_vectors:
        left, right = np.concatenate(a.sentence_vectors), np.concatenate(b.sentence_vectors)
        best = max(best, float(np.max(left @ right.T)))
    return best


def claim_support(
    members: list[Candidate],
    embeddings: np.ndarray,
    rep: int,
    sentence_vectors: list[np.ndarray] | None = None,
    floor: float = QUALITY_FLOOR,
) -> list[bool]:
    """Which members back the representative's claim: per other show, its closest member if that passes
    the quality floor and states the same specific claim; the representative itself always does."""
    cosines = np.asarray(embeddings, dtype=np.float32) @ np.asarray(embeddings[rep], dtype=np.float32)
    if sentence_vectors is not None:
        for i, vectors in enumerate(sentence_vectors):
            cosines[i] = max(cosines[i], float(np.max(vectors @ sentence_vectors[rep].T)))
    flags = [i == rep for i in range(len(members))]
    rep_show = members[rep].feed_url or members[rep].podcast
    best: dict[str, int] = {}
    for i in np.argsort(-cosines):
        show = members[i].feed_url or members[i].podcast
        if show != rep_show and show not in best:
            best[show] = int(i)
    for i in best.values():
        member = members[i]
        flags[i] = member.score >= floor and same_claim(members[rep].text, member.text, float(cosines[i]))
    return flags


def cluster_labels(similarity: np.ndarray, merge_similarity: float = MERGE_SIMILARITY) -> np.ndarray:
    """Average-linkage agglomerative labels over a similarity matrix, cut where it drops below the bar."""
    n = len(similarity)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.ones(1, dtype=int)
    distance = np.clip(1.0 - np.asarray(similarity, dtype=np.float64), 0.0, None)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return fcluster(tree, t=1.0 - merge_similarity, criterion="distance")


def garble_penalty(candidate: Candidate, vocabulary: frozenset[str]) -> float:
    """How much a member's wording looks mis-recognised: unknown words and Whisper's own doubt."""
    unknown = unknown_word_share(candidate.text, vocabulary)
    logprob = min(candidate.features.get("asr_logprob", 0.0), 0.0)
    return UNKNOWN_WORD_WEIGHT * unknown - ASR_WEIGHT * logprob


def pick_representative(members: list[Candidate], embeddings: np.ndarray) -> int:
    """The member with the best insight score and the cleanest wording, favouring the one closest to the
    cluster's centre."""
    if len(members) == 1:
        return 0
    sims = embeddings @ embeddings.T
    centrality = (sims.sum(axis=1) - 1.0) / (len(members) - 1)
    vocabulary = model_vocabulary()
    penalty = np.array([garble_penalty(m, vocabulary) for m in members])
    value = np.array([m.score for m in members]) + CENTRALITY_WEIGHT * centrality - penalty
    return int(np.argmax(value))


def cluster_candidates(
    candidates: list[Candidate],
    embeddings: np.ndarray,
    merge_similarity: float = MERGE_SIMILARITY,
    sentence_vectors: list[np.ndarray] | None = None,
) -> list[Cluster]:
    """Cluster candidates (rows of `embeddings`, unit vectors) into ideas, numbered by support then score.

    `sentence_vectors` (from `embed_passages`) lets a paraphrase match on its best sentence."""
    labels = cluster_labels(similarity_matrix(candidates, embeddings, sentence_vectors), merge_similarity)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    clusters = []
    for indices in groups.values():
        members = [candidates[i] for i in indices]
        vectors = np.asarray(embeddings[indices], dtype=np.float32)
        rep = pick_representative(members, vectors)
        sentences = [sentence_vectors[i] for i in indices] if sentence_vectors is not None else None
        supports = claim_support(members, vectors, rep, sentences)
        clusters.append(Cluster(-1, members, vectors, members[rep], vectors[rep], sentences, supports))
    clusters.sort(key=lambda c: (-c.support, -c.representative.score, c.representative.candidate_id))
    for number, cluster in enumerate(clusters):
        cluster.cluster_id = number
    return clusters
