"""Rubric-graded passages: references to spans of real-podcast episodes (never their text) and the grades
graders gave them on the reader's rubric (../shared/reader_rubric.md).

    training/grading/passages.json   the sampled passages: id, episode, sentence range, times, stratum
    training/grading/grades/*.json   one file per graded packet: [{id, grader, clean, standalone, ...}]

A passage's text is rebuilt from the corpus transcript with the product's own sentence builder; each
reference keeps the sentence count and a hash of the text it was sampled on, so a change to how the
pipeline cuts sentences is caught instead of silently grading other words."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from podigest_dagster.core.insights.passages import Sentence, build_sentences
from podigest_dagster.core.insights.text import clean_passage
from podigest_dagster.core.transcribe.publisher import parse_transcript
from training.corpus import REPO, corpus_dir, read_json

GRADING = REPO / "training" / "grading"
PASSAGES = GRADING / "passages.json"
GRADES = GRADING / "grades"
FIELDS = ("clean", "standalone", "substance", "faithful", "value")


@dataclass(frozen=True)
class CorpusTranscript:
    """One corpus episode cut into the pipeline's sentences, with what a reader sees of it."""

    episode_id: str
    show: str
    show_slug: str
    title: str
    has_times: bool
    sentences: tuple[Sentence, ...]


@lru_cache(maxsize=1)
def corpus_index() -> dict[str, dict]:
    return {e["episode_id"]: e for e in read_json(corpus_dir() / "index.json")}


@lru_cache(maxsize=1)
def show_notes() -> dict[str, str]:
    path = corpus_dir() / "show_notes.json"
    return dict(read_json(path).get("notes") or {}) if path.is_file() else {}


@lru_cache(maxsize=256)
def transcript(episode_id: str) -> CorpusTranscript:
    entry = corpus_index()[episode_id]
    body = (corpus_dir() / entry["file"]).read_bytes()
    sentences = build_sentences(parse_transcript(body, entry["mime"], entry["file"]))
    return CorpusTranscript(
        episode_id, entry["show"], entry["show_slug"], entry["title"], bool(entry.get("timestamps")), tuple(sentences)
    )


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def passage_id(episode_id: str, first: int, last: int) -> str:
    return hashlib.sha1(f"{episode_id}|{first}|{last}".encode()).hexdigest()[:12]


def reference(episode: CorpusTranscript, first: int, last: int, stratum: str) -> dict:
    """A passage as stored: where it is, never what it says."""
    window = episode.sentences[first : last + 1]
    raw = " ".join(s.text for s in window)
    return {
        "id": passage_id(episode.episode_id, first, last),
        "episode_id": episode.episode_id,
        "show": episode.show_slug,
        "first_sentence": first,
        "last_sentence": last,
        "sentences": len(episode.sentences),
        "start_s": round(window[0].start_s, 2) if episode.has_times else None,
        "end_s": round(window[-1].end_s, 2) if episode.has_times else None,
        "text_sha1": text_hash(raw),
        "stratum": stratum,
    }


class StaleReference(ValueError):
    """The pipeline now cuts the episode into other sentences than the ones a passage was sampled on."""


def rebuild(ref: dict) -> tuple[CorpusTranscript, list[Sentence]]:
    """The episode and the passage's sentences, checked against the reference."""
    episode = transcript(ref["episode_id"])
    window = list(episode.sentences[ref["first_sentence"] : ref["last_sentence"] + 1])
    raw = " ".join(s.text for s in window)
    if len(episode.sentences) != ref["sentences"] or text_hash(raw) != ref["text_sha1"]:
        raise StaleReference(f"{ref['id']} ({ref['episode_id']}): the pipeline now cuts this episode differently")
    return episode, window


def shown_text(window: list[Sentence]) -> str:
    """The passage as the product would send it (no topic line)."""
    return clean_passage([s.text for s in window])


def load_passages(path: Path = PASSAGES) -> list[dict]:
    return list(read_json(path)["passages"]) if path.is_file() else []


def load_grades(directory: Path = GRADES) -> list[dict]:
    """Every grade of every packet, each with its packet name."""
    out = []
    for path in sorted(directory.glob("*.json")):
        for row in read_json(path)["grades"]:
            out.append({**row, "packet": path.stem})
    return out


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
