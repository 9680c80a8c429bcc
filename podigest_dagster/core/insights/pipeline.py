"""One day's insights without Dagster, made of exactly the steps the four insight assets call:
extract_candidates -> embed_passages -> find_stories -> choose_stories -> build_items (-> the optional LLM
rewrite). The evaluation benches run this, so what they measure is what the assets do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate, EpisodeTranscript, extract_candidates
from podigest_dagster.core.insights.embedding import DIMENSIONS, embed_passages
from podigest_dagster.core.insights.rewrite import InsightRewriter
from podigest_dagster.core.insights.selection import (
    EpisodeInfo,
    SelectionConfig,
    TopItem,
    build_items,
    choose_stories,
)
from podigest_dagster.core.insights.stories import Story, find_stories
from podigest_dagster.core.insights.value import shipped_floors


class TextEmbedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


def episode_texts(episodes: list[EpisodeTranscript]) -> dict[str, str]:
    """Each episode's whole transcript, for how often it says a story's subject."""
    return {e.episode_id: " ".join(s.text for s in e.segments) for e in episodes}


def episode_infos(episodes: list[EpisodeTranscript]) -> dict[str, EpisodeInfo]:
    """What the items' names and wording draw on, per episode."""
    return {
        e.episode_id: EpisodeInfo(sorted(e.segments, key=lambda s: s.seq), e.title, e.show_notes or "")
        for e in episodes
    }


@dataclass
class DayResult:
    """Everything one day produced: kept candidates (aligned with `embeddings`), drops by reason, the
    stories, the items sent, and how many stories the selection left out and why."""

    candidates: list[Candidate]
    dropped_by_reason: dict[str, int]
    stories: list[Story]
    top: list[TopItem]
    embeddings: np.ndarray
    excluded_by_reason: dict[str, int] = field(default_factory=dict)

    def sent_evidence(self) -> tuple[np.ndarray, list[str]]:
        """What the day's digest sent, for later days' repeat checks: each item and its story's passages."""
        by_id = {s.story_id: s for s in self.stories}
        vectors, texts = [], []
        for item in self.top:
            vectors.append(np.asarray(item.embedding, dtype=np.float32))
            texts.append(item.insight)
            story = by_id.get(item.cluster_id)
            if story is not None and story.embeddings is not None:
                vectors.extend(np.asarray(story.embeddings, dtype=np.float32))
                texts.extend(m.text for m in story.members)
        if not vectors:
            return np.zeros((0, DIMENSIONS), np.float32), []
        return np.stack(vectors), texts


def run_day(
    episodes_segments: list[EpisodeTranscript],
    past_insight_embeddings: np.ndarray | None,
    past_show_texts: dict[str, list[str]] | None,
    embedder: TextEmbedder,
    llm: InsightRewriter | None = None,
    top_n: int = 5,
    config: SelectionConfig | None = None,
    past_sent_texts: Sequence[str] = (),
) -> DayResult:
    """Run the whole insight chain for one day's episodes, step by step as the assets do."""
    config = replace(config or SelectionConfig(), top_n=top_n)
    found = extract_candidates(episodes_segments, past_show_texts or {}, embed=embedder.embed,
                               sent_before=past_sent_texts)
    embeddings, sentence_vectors = embed_passages([c.text for c in found.kept], embedder.embed)
    stories = find_stories(found.kept, embeddings, sentence_vectors, shipped_floors().pool, episode_texts(episodes_segments))
    ranking = choose_stories(stories, past_insight_embeddings, config)
    items = build_items(ranking, episode_infos(episodes_segments), embed=embedder.embed)
    if llm is not None:
        llm.rewrite_items(items)
    return DayResult(found.kept, found.dropped_by_reason, stories, items, embeddings, ranking.excluded_by_reason)
