"""Insight benchmark: synthetic podcast days, spoken by TTS, through Whisper and the real insight pipeline.

    .venv/bin/python bench/insights_eval.py [--split dev|heldout|all] [-v]

For each scenario in bench/synthetic_days.py (the held-out ones are listed there) the day before is run
first, its top items become the "already sent" history, then the evaluated day is run. The top 5 is
scored against the planted insights, next to a naive baseline on the same transcripts (split sentences,
embed, take the 5 most central). Coverage is scored too: each other show an item's coverage cites counts
as right when its own cited passage matches the item's planted insight (precision), out of the other
shows that insight was planted in (recall).

Matching an item to the script: the item's embedding is compared with every scripted line and sentence
(all-MiniLM-L6-v2); the best one counts if cosine >= MATCH_SIMILARITY and at least MIN_WORD_OVERLAP of
the item's content words (compared by their first five letters, to survive ASR slips) occur in that
line. An item matching a fresh planted insight is a hit; one matching an insight said the day before is
a leak; one matching an intro, banter, question, sponsor read, call to subscribe or outro is filler; a
second item on an already matched insight is a duplicate.

Audio and transcripts are cached under $PODIGEST_BENCH_CACHE or $PODIGEST_HOME/bench-cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from podigest_dagster import settings  # noqa: E402

settings.use_offline_environment()

import numpy as np  # noqa: E402
from synthetic_days import Scenario, scenarios  # noqa: E402

from podigest_dagster.core.insights.candidates import EpisodeTranscript  # noqa: E402
from podigest_dagster.core.insights.embedding import Embedder  # noqa: E402
from podigest_dagster.core.insights.passages import build_sentences  # noqa: E402
from podigest_dagster.core.insights.pipeline import DayResult, run_day  # noqa: E402
from podigest_dagster.core.insights.selection import source_of  # noqa: E402
from podigest_dagster.core.transcribe import audio as audio_module  # noqa: E402
from podigest_dagster.core.transcribe import engine as transcribe_module  # noqa: E402
from podigest_dagster.core.transcribe.engine import Transcriber  # noqa: E402
from podigest_dagster.core.transcribe.segments import Segment  # noqa: E402
from podigest_dagster.demo import demo_dir  # noqa: E402
from podigest_dagster.demo.build import episode_turns  # noqa: E402
from podigest_dagster.demo.scripts import DEMO_DAYS, Day, Episode, Show  # noqa: E402
from podigest_dagster.demo.tts import synthesize  # noqa: E402

MATCH_SIMILARITY = 0.6
MIN_WORD_OVERLAP = 0.3
TOP_N = 5
FILLER_KINDS = frozenset({"intro", "banter", "question", "sponsor", "subscribe", "outro"})
_STOP = frozenset(
    "about after also because been before being could does from have here into just like made make more most "
    "much only over said same some than that their them then there these they this those very were what when "
    "where which while will with would your you".split()
)


@dataclass(frozen=True)
class Reference:
    """A scripted line or one of its sentences, labelled with what it is."""

    text: str
    line_text: str
    kind: str
    insight: str | None
    date: str


@dataclass
class Score:
    """How one ranked list did against the planted insights."""

    items: int = 0
    hits: int = 0
    filler: int = 0
    duplicates: int = 0
    leaks: int = 0
    unmatched: int = 0
    expected: int = 0
    recalled: int = 0
    coverage_claimed: int = 0
    coverage_right: int = 0
    coverage_possible: int = 0
    labels: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "items", "hits", "filler", "duplicates", "leaks", "unmatched", "expected", "recalled",
            "coverage_claimed", "coverage_right", "coverage_possible",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def recall(self) -> float:
        return self.recalled / self.expected if self.expected else 0.0

    @property
    def precision(self) -> float:
        return self.hits / self.items if self.items else 0.0

    def coverage_figures(self) -> str:
        """Coverage precision (coverage shows whose cited passage says the item's planted insight, of those
        shown) and recall (of the other shows the hit insights were planted in)."""
        right, claimed, possible = self.coverage_right, self.coverage_claimed, self.coverage_possible
        precision = f"{right / claimed:.2f}" if claimed else "-"
        recall = f"{right / possible:.2f}" if possible else "-"
        return f"{precision} ({right}/{claimed}), recall {recall} ({right}/{possible})"


def cache_dir() -> Path:
    """Where generated audio and transcripts are kept between runs."""
    return Path(os.environ.get("PODIGEST_BENCH_CACHE") or settings.podigest_home() / "bench-cache")


def feed_url(show: Show) -> str:
    return f"https://{show.key}.example.org/feed.xml"


def episode_audio(episode: Episode, show: Show) -> Path:
    """The episode's speech: the committed demo file when it is a demo episode, else rendered once and cached."""
    if episode.key in {e.key for day in DEMO_DAYS for e in day.episodes}:
        return demo_dir() / "audio" / f"{episode.key}.mp3"
    turns = episode_turns(episode, show)
    digest = hashlib.sha256(repr(turns).encode()).hexdigest()[:12]
    path = cache_dir() / "audio" / f"{episode.key}-{digest}.mp3"
    if not path.exists():
        synthesize(turns, path)
    return path


def transcriber_fingerprint(transcriber: Transcriber) -> str:
    """Changes whenever the transcription code, its options or its model change, so stale caches are never reused."""
    code = b"".join(Path(module.__file__).read_bytes() for module in (transcribe_module, audio_module))
    options = repr(sorted(transcriber.decode_options().items())) + transcriber.model_label
    return hashlib.sha256(code + options.encode()).hexdigest()[:12]


def transcript_segments(audio: Path, transcriber: Transcriber) -> list[Segment]:
    """Whisper's segments for the audio file, cached by audio content and transcriber fingerprint."""
    digest = hashlib.sha256(audio.read_bytes()).hexdigest()[:16]
    path = cache_dir() / "transcripts" / f"{audio.stem}-{digest}-{transcriber_fingerprint(transcriber)}.json"
    if not path.exists():
        result = transcriber.transcribe(audio)
        rows = [[s.seq, s.start_s, s.end_s, s.text, s.avg_logprob] for s in result.segments]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows), encoding="utf-8")
    return [
        Segment(int(seq), float(a), float(b), text, logprob)
        for seq, a, b, text, logprob in json.loads(path.read_text())
    ]


def day_transcripts(day: Day, shows: Sequence[Show], transcriber: Transcriber) -> list[EpisodeTranscript]:
    """The day's episodes as the pipeline sees them: identity plus Whisper segments."""
    by_key = {show.key: show for show in shows}
    transcripts = []
    for episode in day.episodes:
        show = by_key[episode.show]
        audio = episode_audio(episode, show)
        transcripts.append(
            EpisodeTranscript(
                episode_id=episode.key,
                podcast=show.name,
                title=episode.title,
                feed_url=feed_url(show),
                segments=transcript_segments(audio, transcriber),
                link=f"{show.link}episodes/{episode.key}",
                enclosure_url=f"{show.link}audio/{episode.key}.mp3",
            )
        )
    return transcripts


def references(days: Sequence[Day]) -> list[Reference]:
    """Every scripted line of the days, whole and sentence by sentence."""
    refs = []
    for day in days:
        for episode in day.episodes:
            for line in episode.lines:
                pieces = [line.text] + [
                    s for s in re.split(r"(?<=[.!?])\s+", line.text) if len(s.split()) >= 4
                ]
                refs.extend(
                    Reference(piece, line.text, line.kind, line.insight, day.date) for piece in pieces
                )
    return refs


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}


def word_overlap(item: str, line: str) -> float:
    """Share of the item's content words that the scripted line also contains."""
    words = _stems(item)
    return len(words & _stems(line)) / len(words) if words else 0.0


def match(
    item_vector: np.ndarray, item_text: str, refs: list[Reference], ref_vectors: np.ndarray
) -> Reference | None:
    """The scripted line the item reproduces, or None when nothing is close enough."""
    sims = ref_vectors @ item_vector
    best = int(np.argmax(sims))
    if sims[best] < MATCH_SIMILARITY or word_overlap(item_text, refs[best].line_text) < MIN_WORD_OVERLAP:
        return None
    return refs[best]


def score_items(texts: list[str], scenario: Scenario, embedder: Embedder) -> Score:
    """Label each item (hit, leak, filler, duplicate, unmatched) and measure recall of the expected insights."""
    refs = references([scenario.previous, scenario.day])
    ref_vectors = embedder.embed([r.text for r in refs])
    item_vectors = embedder.embed(texts) if texts else np.zeros((0, ref_vectors.shape[1]), np.float32)
    fresh = {p.key for p in scenario.day.planted if not p.repeated}
    expected = {p.key for p in scenario.day.expected_top()}
    score = Score(items=len(texts), expected=len(expected))
    seen: set[str] = set()
    for text, vector in zip(texts, item_vectors, strict=True):
        ref = match(vector, text, refs, ref_vectors)
        if ref is None:
            score.unmatched += 1
            label = "unmatched"
        elif ref.kind in FILLER_KINDS:
            score.filler += 1
            label = f"filler:{ref.kind}"
        elif ref.insight in seen:
            score.duplicates += 1
            label = f"duplicate:{ref.insight}"
        elif ref.insight in fresh and ref.date == scenario.day.date:
            score.hits += 1
            label = f"hit:{ref.insight}"
        else:
            score.leaks += 1
            label = f"leak:{ref.insight}"
        if ref is not None and ref.insight:
            seen.add(ref.insight)
        score.labels.append(label)
    score.recalled = len(expected & seen & fresh)
    score.missed = sorted(expected - seen)
    return score


def naive_top(transcripts: list[EpisodeTranscript], embedder: Embedder, top_n: int = TOP_N) -> list[str]:
    """The baseline: every sentence of the day, embedded, the most central ones first."""
    sentences = [s.text for t in transcripts for s in build_sentences(t.segments) if s.text.strip()]
    if not sentences:
        return []
    vectors = embedder.embed(sentences)
    centrality = (vectors @ vectors.T).mean(axis=1)
    return [sentences[i] for i in np.argsort(-centrality)[:top_n]]


def coverage_passages(result: DayResult) -> list[list[str]]:
    """Per item, the text of each coverage source's passage (the other shows' passages the item cites)."""
    stories = {story.story_id: story for story in result.stories}
    passages = []
    for item in result.top:
        story = stories[item.cluster_id]
        cited = {source_of(c): c.text for c in story.coverage}
        passages.append([cited[source] for source in item.coverage])
    return passages


def pipeline_top(
    scenario: Scenario, transcriber: Transcriber, embedder: Embedder
) -> tuple[list[str], list[str], list[list[str]]]:
    """Run the previous day then the evaluated day through the insight pipeline; return both days' top texts
    and, per evaluated-day item, its coverage passages."""
    before = day_transcripts(scenario.previous, scenario.shows, transcriber)
    history = run_day(before, None, None, embedder, top_n=TOP_N)
    past, sent_texts = history.sent_evidence()
    past_texts: dict[str, list[str]] = {}
    for transcript in before:
        past_texts.setdefault(transcript.feed_url, []).append(" ".join(s.text for s in transcript.segments))
    today = day_transcripts(scenario.day, scenario.shows, transcriber)
    result = run_day(today, past, past_texts, embedder, top_n=TOP_N, past_sent_texts=sent_texts)
    return [item.insight for item in result.top], [item.insight for item in history.top], coverage_passages(result)


def score_coverage(score: Score, coverage: list[list[str]], scenario: Scenario, embedder: Embedder) -> None:
    """Coverage precision and recall of a ranked list already labelled by `score_items`: each coverage
    show's cited passage is right when it matches the item's planted insight; the possible coverage shows
    are the other shows each hit insight was planted in."""
    refs = references([scenario.previous, scenario.day])
    ref_vectors = embedder.embed([r.text for r in refs])
    planted = {p.key: p for p in scenario.day.planted}
    for label, passages in zip(score.labels, coverage, strict=True):
        key = label.split(":", 1)[1] if label.startswith("hit:") else None
        if key in planted:
            score.coverage_possible += len(planted[key].shows) - 1
        score.coverage_claimed += len(passages)
        if not passages or key is None:
            continue
        for passage, vector in zip(passages, embedder.embed(passages), strict=True):
            ref = match(vector, passage, refs, ref_vectors)
            score.coverage_right += int(ref is not None and ref.insight == key)


def _row(split: str, name: str, method: str, s: Score) -> str:
    return (
        f"{split:8} {name:22} {method:9} {s.recall:8.2f} {s.precision:11.2f} {s.filler:10d} "
        f"{s.duplicates:10d} {s.leaks:6d} {s.unmatched:9d} {s.items:6d}"
    )


def evaluate(split: str, verbose: bool) -> dict[str, dict[str, Score]]:
    """Run every scenario of the split, print the table, and return the totals per split and method."""
    transcriber = Transcriber(model=os.environ.get("PODIGEST_WHISPER_MODEL", "base"))
    embedder = Embedder()
    totals: dict[str, dict[str, Score]] = {}
    rows = []
    for scenario in scenarios(split):
        today = day_transcripts(scenario.day, scenario.shows, transcriber)
        texts, history, coverage = pipeline_top(scenario, transcriber, embedder)
        baseline = naive_top(today, embedder)
        for method, items in (("pipeline", texts), ("naive", baseline)):
            score = score_items(items, scenario, embedder)
            if method == "pipeline":
                score_coverage(score, coverage, scenario, embedder)
            totals.setdefault(scenario.split, {}).setdefault(method, Score()).add(score)
            rows.append(_row(scenario.split, scenario.name, method, score))
            if verbose:
                for label, text in zip(score.labels, items, strict=True):
                    rows.append(f"    [{label}] {text}")
                if score.missed:
                    rows.append(f"    (missed: {', '.join(score.missed)})")
        if verbose:
            rows.append(f"    (previous day's digest: {len(history)} items)")
    header = (
        f"{'split':8} {'scenario':22} {'method':9} {'recall@5':>8} {'precision@5':>11} {'ads/filler':>10} "
        f"{'duplicates':>10} {'leaks':>6} {'unmatched':>9} {'items':>6}"
    )
    print(header)
    print("-" * len(header))
    print("\n".join(rows))
    print("-" * len(header))
    for split_name, methods in totals.items():
        for method, score in methods.items():
            print(_row(split_name, "(all)", method, score))
    for split_name, methods in totals.items():
        print(f"coverage ({split_name}, pipeline): precision {methods['pipeline'].coverage_figures()}")
    print(
        f"\nmatch: cosine >= {MATCH_SIMILARITY} and word overlap >= {MIN_WORD_OVERLAP}; "
        f"targets: recall@5 >= 0.8, precision@5 = 1.0, zero filler, duplicates and leaks"
    )
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the benchmark; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every item with its label")
    args = parser.parse_args(argv)
    totals = evaluate(args.split, args.verbose)
    pipeline = [methods["pipeline"] for methods in totals.values()]
    met = all(
        s.recall >= 0.8 and s.precision == 1.0 and not (s.filler or s.duplicates or s.leaks) for s in pipeline
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
