"""The day's candidate passages: every whole-thought passage of every episode (passages.py), sponsor reads,
the show's housekeeping (intros, outros, calls to subscribe), its boilerplate and garbled script removed first, each scored by the value model (value.py); per episode
the best passages that share no sentence are kept, above the model's pool floor."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from podigest_dagster.core.insights import language
from podigest_dagster.core.insights.ads import ad_sentences
from podigest_dagster.core.insights.embedding import Embedder, embed_groups
from podigest_dagster.core.insights.passages import (
    Sentence,
    build_boilerplate_index,
    build_sentences,
    is_housekeeping,
    passage_windows,
)
from podigest_dagster.core.insights.text import clean_passage, leans_on_unnamed, remove_fillers
from podigest_dagster.core.insights.value import (
    combine,
    episode_context,
    predict_value,
    shipped_floors,
    value_inputs,
)
from podigest_dagster.core.insights.value_adapter import adapter_values
from podigest_dagster.core.text.sentences import split_sentences
from podigest_dagster.core.transcribe.segments import Segment

MAX_PER_EPISODE = 40
SENT_KEY_MIN_WORDS = 6  # shorter sentences ('That's exactly right.') recur without being a re-aired item
# The ridge model reads every window; the adapter (value_adapter.py) re-reads the best this many per episode.
PRESELECT_PER_EPISODE = 60
# ... among those the ridge model puts no further than this below the floor (the two reads differ by about this)
PRESELECT_MARGIN = 0.2
NOTES_CHARS = 1000
# A passage whose first sentence leans on a referent it never names ('it', 'they', 'that one') reads cold
# only with guessing: graders of whole digests mark it down on standalone (1 of 2 for most such items on the
# dev days), while graders of single passages barely lower its value. It is worth this much less.
UNNAMED_REFERENT_COST = 0.2


@dataclass
class EpisodeTranscript:
    """An episode's identity (from `episodes`) and its ordered transcript segments."""

    episode_id: str
    podcast: str
    title: str
    feed_url: str
    segments: list[Segment]
    link: str | None = None
    enclosure_url: str | None = None
    language: str | None = None
    """As Whisper detected it or the publisher declared it; None when unknown."""
    show_notes: str | None = None
    """The publisher's episode description (the feed's description or content:encoded), as plain text."""


@dataclass
class Candidate:
    """A kept passage: where it was said, who said it, its raw and cleaned text, and its score: the value the
    model predicts, less UNNAMED_REFERENT_COST when its first sentence leans on a referent it never names
    (`features` keep the value itself)."""

    candidate_id: str
    episode_id: str
    podcast: str
    feed_url: str
    episode_title: str
    link: str | None
    enclosure_url: str | None
    seq_start: int
    seq_end: int
    sent_start: int
    sent_end: int
    start_s: float
    end_s: float
    raw_text: str
    text: str
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    speaker: str | None = None


SKIPPED_FOR_LANGUAGE = "language"
"""The dropped_by_reason key that counts episodes (not passages) skipped for their language."""


@dataclass
class CandidateSet:
    """The candidates kept for a day, how many sentences or passages each step left out, and the episodes
    skipped for their language."""

    kept: list[Candidate]
    dropped_by_reason: dict[str, int]
    skipped_episodes: dict[str, str] = field(default_factory=dict)


def candidate_id(episode_id: str, window: Sequence[Sentence], text: str) -> str:
    """Stable id: the episode, the sentence range and segment range, and the cleaned text."""
    key = f"{episode_id}|{window[0].seq_start}|{window[-1].seq_end}|{window[0].index}|{window[-1].index}|{text}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def asr_confidence(segments: list[Segment], seq_start: int, seq_end: int) -> float | None:
    """Mean Whisper avg_logprob of the segments a passage spans; None for text with no recogniser score
    (a publisher's transcript)."""
    values = [s.avg_logprob for s in segments if seq_start <= s.seq <= seq_end and s.avg_logprob is not None]
    return round(sum(values) / len(values), 4) if values else None


def _make_candidate(
    episode: EpisodeTranscript, window: Sequence[Sentence], value: float, leans: bool, parts: dict[str, float]
) -> Candidate:
    text = clean_passage([s.text for s in window])
    features = {"value": round(float(value), 4), "sentences": float(len(window)), "leans_on_unnamed": float(leans),
                **{k: round(float(v), 4) for k, v in parts.items()}}
    confidence = asr_confidence(episode.segments, window[0].seq_start, window[-1].seq_end)
    if confidence is not None:
        features["asr_logprob"] = confidence
    return Candidate(
        candidate_id=candidate_id(episode.episode_id, window, text),
        episode_id=episode.episode_id,
        podcast=episode.podcast,
        feed_url=episode.feed_url,
        episode_title=episode.title,
        link=episode.link,
        enclosure_url=episode.enclosure_url,
        seq_start=window[0].seq_start,
        seq_end=window[-1].seq_end,
        sent_start=window[0].index,
        sent_end=window[-1].index,
        start_s=window[0].start_s,
        end_s=window[-1].end_s,
        raw_text=" ".join(s.text for s in window),
        text=text,
        score=round(float(value) - UNNAMED_REFERENT_COST * leans, 4),
        features=features,
        speaker=window[0].speaker,
    )


def best_separate(
    windows: Sequence[tuple[int, int]], values: np.ndarray, floor: float, limit: int, dropped: Counter[str]
) -> list[int]:
    """Indices of the best windows that share no sentence, at or above `floor`, at most `limit`."""
    chosen: list[int] = []
    used: set[int] = set()
    below = values < floor
    dropped["below_value_floor"] += int(below.sum())
    for i in np.argsort(-values, kind="stable"):
        first, last = windows[i]
        if below[i]:
            break
        if any(k in used for k in range(first, last + 1)):
            dropped["overlap"] += 1
        elif len(chosen) >= limit:
            dropped["episode_limit"] += 1
        else:
            chosen.append(int(i))
            used.update(range(first, last + 1))
    return sorted(chosen, key=lambda i: windows[i])


def extract_candidates(
    episodes: list[EpisodeTranscript],
    past_show_texts: dict[str, list[str]] | None = None,
    min_value: float | None = None,
    max_per_episode: int = MAX_PER_EPISODE,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    sent_before: Sequence[str] = (),
) -> CandidateSet:
    """The day's candidate passages across episodes, scored by the value model.

    `embed` (texts -> (n, 384) unit vectors; default the bundled model) embeds the day's sentences, titles and
    show notes once (sponsor reads and the value model use them); it is not called when there is no text."""
    floor = shipped_floors().pool if min_value is None else min_value
    skipped = {
        e.episode_id: reason
        for e in episodes
        if (reason := language.skip_reason(e.language, " ".join(s.text for s in e.segments)))
    }
    episodes = [e for e in episodes if e.episode_id not in skipped]
    sentences = {e.episode_id: build_sentences(e.segments) for e in episodes}
    groups = {k: [s.text for s in v] for k, v in sentences.items()}
    for e in episodes:
        groups[f"title:{e.episode_id}"] = [e.title] if e.title.strip() else []
        groups[f"notes:{e.episode_id}"] = [e.show_notes[:NOTES_CHARS]] if (e.show_notes or "").strip() else []
    vectors = embed_groups(groups, embed or _bundled_embed)
    index = build_boilerplate_index([(e.feed_url, e.episode_id, sentences[e.episode_id]) for e in episodes], past_show_texts or {})
    sent = sent_sentence_keys(sent_before)
    dropped: Counter[str] = Counter()
    if skipped:
        dropped[SKIPPED_FOR_LANGUAGE] = len(skipped)
    kept: list[Candidate] = []
    for episode in episodes:
        eid = episode.episode_id
        found = sentences[eid]
        texts = [s.text for s in found]
        ads = ad_sentences(texts, vectors[eid])
        blocked = []
        for i, text in enumerate(texts):
            reason = (
                "ad" if i in ads else "housekeeping" if is_housekeeping(text)
                else "another_script" if language.sentence_in_another_script(text)
                else "boilerplate" if index.is_boilerplate(episode.feed_url, eid, text)
                else "sent_before" if sentence_key(text) in sent else None
            )
            if reason:
                dropped[f"{reason}_sentences"] += 1
            blocked.append(bool(reason))
        windows = passage_windows(found, blocked, vectors=vectors[eid])
        if not windows:
            continue
        title, notes = vectors[f"title:{eid}"], vectors[f"notes:{eid}"]
        context = episode_context(vectors[eid], title[0] if len(title) else None, notes[0] if len(notes) else None)
        window_texts = [" ".join(texts[a : b + 1]) for a, b in windows]
        speakers = [bool(found[a].speaker) for a, _ in windows]
        ridge = predict_value(value_inputs(window_texts, windows, vectors[eid], context, speakers))
        leans = np.array([leans_on_unnamed(found[a].text) for a, _ in windows])
        preselected = best_separate(windows, ridge - UNNAMED_REFERENT_COST * leans, floor - PRESELECT_MARGIN,
                                    max(PRESELECT_PER_EPISODE, max_per_episode), dropped)
        if not preselected:
            continue
        read = adapter_values([window_texts[i] for i in preselected])
        values = combine(ridge[preselected], read)
        worth = values - UNNAMED_REFERENT_COST * leans[preselected]
        for j in best_separate([windows[i] for i in preselected], worth, floor, max_per_episode, dropped):
            i = preselected[j]
            a, b = windows[i]
            parts = {"value_ridge": ridge[i], "value_adapter": read[j]}
            kept.append(_make_candidate(episode, found[a : b + 1], values[j], bool(leans[i]), parts))
    return CandidateSet(kept=kept, dropped_by_reason=dict(sorted(dropped.items())), skipped_episodes=skipped)


def sentence_key(text: str) -> str:
    """A sentence as words only (fillers, case and punctuation aside), to know it again."""
    words = re.findall(r"[a-z0-9]+", remove_fillers(text).lower())
    return " ".join(words) if len(words) >= SENT_KEY_MIN_WORDS else ""


def sent_sentence_keys(sent_before: Sequence[str]) -> frozenset[str]:
    """The sentences of what recent digests sent (items and their stories' passages): a show re-airing one is
    not offered again, not even glued to a new claim."""
    return frozenset(k for text in sent_before for s in split_sentences(text) if (k := sentence_key(s)))


def extraction_fingerprint(
    episodes: list[EpisodeTranscript],
    past_show_texts: dict[str, list[str]],
    min_value: float | None = None,
    max_per_episode: int = MAX_PER_EPISODE,
    sent_before: Sequence[str] = (),
) -> str:
    """A digest of everything `extract_candidates` reads: the episodes and their segments, the shows' past
    texts, the limits, the shipped models and the code of the insight and text packages. Equal digests give
    equal candidates, so a re-run can keep the stored ones (and load no model)."""
    digest = hashlib.sha256()
    for episode in sorted(episodes, key=lambda e: e.episode_id):
        digest.update(repr(episode).encode("utf-8"))
    for feed in sorted(past_show_texts):
        digest.update(repr((feed, past_show_texts[feed])).encode("utf-8"))
    digest.update(repr((min_value, max_per_episode, sorted(sent_sentence_keys(sent_before)))).encode("utf-8"))
    package = Path(__file__).resolve().parent
    code = [*sorted(package.glob("*.py")), *sorted(package.glob("models/**/*.*")), *sorted(
        (package.parent / "text").glob("*.py")
    )]
    for path in code:
        digest.update(path.name.encode("utf-8") + path.read_bytes())
    return digest.hexdigest()


def _bundled_embed(texts: list[str]) -> np.ndarray:
    return Embedder().embed(texts)

