"""The day's five: stories ranked by their lead passage's predicted value and by how many shows covered them
(and how well), never below the value floor (fewer items, or none, rather than padding), nothing the reader
got in the last days again, two items never about the same thing, and no show filling more than two of the
five while another show has a story above the floor."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.stories import Story, show_of
from podigest_dagster.core.insights.value import shipped_floors
from podigest_dagster.core.text.alike import alike


@dataclass(frozen=True)
class SelectionConfig:
    """The selection's knobs, with the defaults the product ships.

    `coverage_weight` x log2(1 + the other shows' passages' value, each up to 1) is added to the lead's value:
    a story three shows told well outranks a slightly better remark of one show. `repeat_similarity`: a
    story whose passages come this close (cosine) to what was sent in the lookback window is not sent again.
    `same_thing_similarity`: two stories whose passages come this close are one thing for the reader."""

    top_n: int = 5
    per_show: int = 2
    coverage_weight: float = 0.3
    repeat_similarity: float = 0.8
    same_thing_similarity: float = 0.72
    send_floor: float | None = None
    """Default: the value model's send floor."""


@dataclass(frozen=True)
class Source:
    """Where an insight was said: podcast, episode, time span and a link that starts playback there
    (the one source type, from ranking to the rendered digest; times are None when the transcript had none)."""

    podcast: str
    episode: str
    url: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    episode_id: str | None = None


@dataclass
class TopItem:
    """One digest item: its topic line, the text sent, its extractive origin, the story it leads, its score,
    its source and the other shows' coverage."""

    rank: int
    cluster_id: int
    candidate_id: str
    insight: str
    extractive_text: str
    support: int
    score: float
    sources: list[Source]
    embedding: np.ndarray
    evidence: list[str] = field(default_factory=list)
    novelty: float = 1.0
    rewrite_status: str = "extractive"
    topic: str = ""
    speaker: str = ""
    """Who said it, as the transcript names them ("" when it does not, or names only a placeholder)."""
    coverage: list[Source] = field(default_factory=list)
    """The other shows' passages on the same story, one per show (empty when one show told it)."""
    names: list[str] = field(default_factory=list)
    """Names shown in brackets for referents the passage leaves unnamed (the LLM gets them too)."""


def is_untimed(candidate: Candidate) -> bool:
    """A passage of a transcript that had no timing (plain text): every time is 0 and means nothing."""
    return candidate.end_s <= 0


def timed_url(candidate: Candidate) -> str | None:
    """The episode's audio (or page) with a media fragment `#t=<seconds>` at the passage's start; the
    episode's page (or audio) without a time when the transcript had none."""
    if is_untimed(candidate):
        return candidate.link or candidate.enclosure_url
    base = candidate.enclosure_url or candidate.link
    if not base:
        return None
    return f"{base.split('#', 1)[0]}#t={max(int(candidate.start_s), 0)}"


def source_of(candidate: Candidate) -> Source:
    if is_untimed(candidate):
        return Source(candidate.podcast, candidate.episode_title, timed_url(candidate), None, None, candidate.episode_id)
    return Source(candidate.podcast, candidate.episode_title, timed_url(candidate), candidate.start_s, candidate.end_s,
                  candidate.episode_id)


def shown_coverage(story: Story, floor: float) -> list[Candidate]:
    """The other shows' passages a reader is pointed to: only those that reach `floor` themselves."""
    return [c for c in story.coverage if c.score >= floor]


def story_score(story: Story, coverage_floor: float, config: SelectionConfig) -> float:
    covered = shown_coverage(story, coverage_floor)
    breadth = sum(min(max(c.score, 0.0), 1.0) for c in covered)
    return story.lead.score + config.coverage_weight * math.log2(1.0 + breadth)


def _vectors(story: Story) -> np.ndarray:
    vectors = story.embeddings if story.embeddings is not None else story.lead_embedding[None, :]
    return np.asarray(vectors, dtype=np.float32).reshape(-1, DIMENSIONS)


def closest_past(story: Story, past: np.ndarray) -> float:
    if past is None or len(past) == 0:
        return 0.0
    return float(np.max(_vectors(story) @ np.asarray(past, dtype=np.float32).T))


def same_thing(a: Story, b: Story, config: SelectionConfig) -> bool:
    """Two stories the reader would take for one: their passages this close in meaning, or their leads in
    nearly the same words (what the digest's blocking check refuses: a show repeating itself in an episode)."""
    return float(np.max(_vectors(a) @ _vectors(b).T)) >= config.same_thing_similarity or alike(a.lead.text, b.lead.text)


@dataclass
class Ranking:
    """The chosen stories (best first) and how many were left out and why."""

    stories: list[tuple[Story, float, float]]
    excluded_by_reason: dict[str, int]


def choose_stories(
    stories: list[Story],
    past_embeddings: np.ndarray | None,
    config: SelectionConfig | None = None,
    bonus: Callable[[Story], float] | None = None,
) -> Ranking:
    """The day's stories to send: (story, score, novelty) best first, and the exclusions by reason. `bonus`
    adds to a story's score once it passed the floor (a reader's interests), never letting it in."""
    config = config or SelectionConfig()
    floors = shipped_floors()
    send = floors.send if config.send_floor is None else config.send_floor
    excluded: Counter[str] = Counter()
    eligible = []
    for story in stories:
        if story.lead.score < send:
            excluded["below_value_floor"] += 1
            continue
        seen = closest_past(story, past_embeddings)
        if seen >= config.repeat_similarity:
            excluded["repeats_past_digest"] += 1
            continue
        score = story_score(story, floors.pool, config) + (bonus(story) if bonus else 0.0)
        eligible.append((story, score, max(0.0, 1.0 - seen)))
    eligible.sort(key=lambda t: (-t[1], t[0].lead.candidate_id))
    chosen: list[tuple[Story, float, float]] = []
    per_show: Counter[str] = Counter()
    for story, score, novelty in eligible:
        if len(chosen) >= config.top_n:
            break
        if any(same_thing(story, c, config) for c, _, _ in chosen):
            excluded["same_thing_as_a_chosen_item"] += 1
            continue
        show = show_of(story.lead)
        if per_show[show] >= config.per_show and any(
            show_of(s.lead) != show and s not in (c for c, _, _ in chosen) for s, _, _ in eligible
        ):
            excluded["show_has_two_items"] += 1
            continue
        chosen.append((story, score, novelty))
        per_show[show] += 1
    return Ranking(chosen, dict(excluded))


# --- the items a reader gets -----------------------------------------------------------------------

CONTEXT_WORDS_BEFORE, CONTEXT_WORDS_AFTER = 60, 40


@dataclass(frozen=True)
class EpisodeInfo:
    """What an item's names and its LLM wording may draw on besides the passage: the episode's segments
    (for what was said just before and after), its title and show notes."""

    segments: list
    title: str = ""
    show_notes: str = ""


def around(info: EpisodeInfo | None, candidate: Candidate) -> tuple[str, str]:
    """What was said just before and just after a passage (about 60 and 40 words)."""
    if info is None:
        return "", ""
    before = " ".join(s.text for s in info.segments if s.seq < candidate.seq_start)
    head = " ".join(s.text for s in info.segments if s.seq == candidate.seq_start)
    cut = head.find(candidate.raw_text[:40]) if candidate.raw_text else -1
    if cut > 0:
        before = f"{before} {head[:cut]}"
    after = " ".join(s.text for s in info.segments if s.seq > candidate.seq_end)
    return " ".join(before.split()[-CONTEXT_WORDS_BEFORE:]), " ".join(after.split()[:CONTEXT_WORDS_AFTER])


def speaker_at(info: EpisodeInfo | None, seq: int) -> str | None:
    """The speaker the transcript names for the segment a passage starts in."""
    if info is None:
        return None
    return next((s.speaker for s in info.segments if s.seq == seq), None)


def _last_sentences(text: str, count: int = 3) -> str:
    from podigest_dagster.core.text.sentences import split_sentences

    return " ".join((split_sentences(text) or [text])[-count:]) if text.strip() else ""


def selection_fingerprint(extraction: str, sent_before: Sequence[str], config: SelectionConfig, *extra: str) -> str:
    """A digest of everything the day's choice reads beyond the code and transcripts the candidates'
    `extraction` fingerprint already covers: what the lookback window sent, the selection's settings and
    `extra` (the embedding model). Equal digests choose and name the same items."""
    digest = hashlib.sha256(extraction.encode("utf-8"))
    digest.update(repr((sorted(sent_before), sorted(asdict(config).items()), extra)).encode("utf-8"))
    return digest.hexdigest()


def build_items(
    ranking: Ranking, episodes: dict[str, EpisodeInfo], coverage_floor: float | None = None, embed=None
) -> list[TopItem]:
    """The chosen stories as digest items: the lead passage with its topic line, a bracketed name for an
    unnamed referent the transcript names just before, who said it, its source and the coverage. `embed`
    (texts -> unit vectors) picks the topic's phrase by meaning."""
    from podigest_dagster.core.insights import names

    floor = shipped_floors().pool if coverage_floor is None else coverage_floor
    leads = [story.lead for story, _, _ in ranking.stories]
    contexts = [around(episodes.get(c.episode_id), c) for c in leads]
    befores = [_last_sentences(before) for before, _ in contexts]
    titles = [episodes[c.episode_id].title if c.episode_id in episodes else c.episode_title for c in leads]
    docs = names.parse([c.text for c in leads] + [b or " " for b in befores] + [t or " " for t in titles])
    n = len(leads)
    day_counts = names.day_entity_counts(docs[:n])
    items = []
    for k, (story, score, novelty) in enumerate(ranking.stories):
        lead = story.lead
        info = episodes.get(lead.episode_id)
        bracket = names.bracket_referent(docs[k], docs[n + k] if befores[k] else None, docs[2 * n + k] if titles[k] else None)
        text = names.with_bracket(lead.text, bracket)
        topic = names.topic_line(
            lead.text,
            names.TopicContext(befores[k], titles[k], info.show_notes if info else "", day_counts, n),
            {"passage": docs[k], "before": docs[n + k] if befores[k] else None, "title": docs[2 * n + k] if titles[k] else None},
            embed,
        )
        covered = shown_coverage(story, floor)
        evidence = [f"{c.podcast}: {' '.join(around(episodes.get(c.episode_id), c)[0].split()[-30:])} [{c.text}]"
                    for c in [lead, *covered]]
        items.append(TopItem(
            rank=k + 1,
            cluster_id=story.story_id,
            candidate_id=lead.candidate_id,
            insight=text,
            extractive_text=text,
            support=1 + len({show_of(c) for c in covered}),
            score=round(score, 4),
            sources=[source_of(lead)],
            embedding=story.lead_embedding,
            evidence=evidence,
            names=[bracket.name] if bracket else [],
            novelty=round(novelty, 4),
            topic=topic,
            speaker=names.display_speaker(lead.speaker or speaker_at(info, lead.seq_start)),
            coverage=[source_of(c) for c in covered],
        ))
    return items
