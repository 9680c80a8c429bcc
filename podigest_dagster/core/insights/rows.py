"""Warehouse rows of the insight stage <-> its dataclasses: pure shaping, no SQL, no Dagster."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate, EpisodeTranscript
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.selection import Source, TopItem
from podigest_dagster.core.insights.stories import Story
from podigest_dagster.core.transcribe.segments import Segment

PAST_EPISODES_PER_SHOW = 5

Row = Sequence[Any]


def vector_matrix(vectors: Sequence[Sequence[float]]) -> np.ndarray:
    """Stored FLOAT[384] embeddings as one (n, 384) float32 matrix, also when there are none."""
    return np.array(vectors, dtype=np.float32).reshape(len(vectors), DIMENSIONS)


def transcripts_from_rows(episode_rows: Iterable[Row], segment_rows: Iterable[Row]) -> list[EpisodeTranscript]:
    """Episodes (id, podcast, title, feed, link, enclosure, language, show notes) with their (episode id,
    segment...) rows in order."""
    segments: dict[str, list[Segment]] = defaultdict(list)
    for episode_id, seq, start_s, end_s, text, avg_logprob, speaker in segment_rows:
        segments[episode_id].append(Segment(seq, start_s, end_s, text, avg_logprob, speaker=speaker))
    return [
        EpisodeTranscript(eid, podcast, title, feed, segments[eid], link, enclosure, language, notes)
        for eid, podcast, title, feed, link, enclosure, language, notes in episode_rows
    ]


def latest_texts_per_show(rows: Iterable[Row], limit: int = PAST_EPISODES_PER_SHOW) -> dict[str, list[str]]:
    """Each feed's first `limit` episode texts from (feed, episode, date, text) rows sorted newest first."""
    texts: dict[str, list[str]] = defaultdict(list)
    for feed, _, _, text in rows:
        if len(texts[feed]) < limit:
            texts[feed].append(text)
    return dict(texts)


def candidate_from_row(r: Row) -> Candidate:
    """A stored candidate joined with its episode; its sentence span is not stored, so it is the segment span."""
    return Candidate(
        candidate_id=r[0], episode_id=r[1], podcast=r[2], feed_url=r[3], episode_title=r[4], link=r[5],
        enclosure_url=r[6], seq_start=r[7], seq_end=r[8], sent_start=r[7], sent_end=r[8], start_s=r[9],
        end_s=r[10], raw_text=r[11], text=r[12], score=r[13], features=json.loads(r[14] or "{}"),
    )


def stories_from_memberships(
    candidates: list[Candidate], vectors: np.ndarray, memberships: Iterable[Row]
) -> list[Story]:
    """Stories rebuilt from (story id, candidate id, is lead, is coverage) rows over the loaded candidates."""
    position = {c.candidate_id: i for i, c in enumerate(candidates)}
    groups: dict[int, list[tuple[int, bool, bool]]] = defaultdict(list)
    for story_id, candidate_id, is_lead, is_coverage in memberships:
        if candidate_id in position:
            groups[story_id].append((position[candidate_id], bool(is_lead), bool(is_coverage)))
    stories = []
    for story_id, entries in sorted(groups.items()):
        lead = next((i for i, is_lead, _ in entries if is_lead), entries[0][0])
        coverage = [i for i, is_lead, cov in entries if cov and i != lead]
        same_show = [i for i, is_lead, cov in entries if not cov and i != lead]
        members = [lead, *coverage, *same_show]
        stories.append(Story(
            story_id, candidates[lead], vectors[lead], [candidates[i] for i in coverage],
            [candidates[i] for i in same_show], vectors[members],
        ))
    return stories


def candidate_row(day: date, c: Candidate) -> list[Any]:
    """One insight_candidates row, features as sorted JSON."""
    return [c.candidate_id, day, c.episode_id, c.seq_start, c.seq_end, c.start_s, c.end_s, c.raw_text, c.text,
            c.score, json.dumps(c.features, sort_keys=True)]


def membership_rows(day: date, stories: list[Story]) -> list[list[Any]]:
    """One insight_clusters row per passage of a story: the lead flagged as representative, the other shows'
    passages as coverage (supports_claim), the number of shows as support."""
    return [
        [day, s.story_id, m.candidate_id, m is s.lead, s.shows, m is s.lead or any(m is c for c in s.coverage)]
        for s in stories
        for m in s.members
    ]


def sources_json(sources: Sequence[Source]) -> str:
    """Sources as the JSON list stored in top_insights.sources and .coverage."""
    return json.dumps([asdict(s) for s in sources], ensure_ascii=False)


def top_item_row(day: date, i: TopItem) -> list[Any]:
    """One top_insights row, its embedding as a plain float list."""
    return [day, i.rank, i.cluster_id, i.candidate_id, i.insight, i.extractive_text, i.support, i.score,
            sources_json(i.sources), i.rewrite_status, np.asarray(i.embedding, dtype=np.float32).tolist(), i.topic or None,
            i.speaker or None, sources_json(i.coverage)]
