"""The value model: what a passage is worth to the reader, on the reader's rubric (value 0-3: would they want
it among today's five?), predicted from the passage and its context. Trained by `make train` on passages that
graders graded blind (training/grading/); shipped as small JSON weights (models/value.json).

The inputs are cheap to compute for every whole-thought passage of a day: the passage's mean sentence vector
and that of the sentences just before it (MiniLM, computed once per sentence), how close the passage is to
its episode's title, show notes and whole talk, where in the episode it sits, and a few audited signals of the
text (numbers, reasons, questions, a reference it leaves unresolved)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.features import HAND_FEATURES, extract_features, hand_inputs
from podigest_dagster.core.insights.learned import load_linear_regression
from podigest_dagster.core.insights.text import has_unresolved_reference, refers_back

MODEL_NAME = "value"
CONTEXT_SENTENCES = 3
CONTEXT_FEATURES: tuple[str, ...] = (
    "position", "near_start", "near_end", "speaker_known", "unresolved_start", "refers_back",
    "sim_title", "sim_notes", "sim_episode", "sim_before", "has_notes",
)
FEATURE_NAMES: tuple[str, ...] = (
    HAND_FEATURES + CONTEXT_FEATURES + tuple(f"v{i}" for i in range(DIMENSIONS)) + tuple(f"b{i}" for i in range(DIMENSIONS))
)


@dataclass(frozen=True)
class EpisodeContext:
    """What a reader knows of an episode before any passage: its title and show notes (as unit vectors, or
    None when missing) and the centre of everything said in it."""

    title: np.ndarray | None
    notes: np.ndarray | None
    centre: np.ndarray
    sentences: int


def unit(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def episode_context(sentence_vectors: np.ndarray, title: np.ndarray | None, notes: np.ndarray | None) -> EpisodeContext:
    vectors = np.asarray(sentence_vectors, dtype=np.float64).reshape(-1, DIMENSIONS)
    centre = unit(vectors.mean(axis=0)) if len(vectors) else np.zeros(DIMENSIONS)
    return EpisodeContext(
        None if title is None else unit(title), None if notes is None else unit(notes), centre, len(vectors)
    )


def _cos(a: np.ndarray | None, b: np.ndarray) -> float:
    return 0.0 if a is None else float(np.dot(a, b))


def value_inputs(
    texts: Sequence[str],
    spans: Sequence[tuple[int, int]],
    sentence_vectors: np.ndarray,
    context: EpisodeContext,
    speaker_known: Sequence[bool],
) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) model inputs of the passages `spans` (first, last sentence, inclusive) of one
    episode whose sentences have `sentence_vectors`; `texts` are the passages' raw texts."""
    vectors = np.asarray(sentence_vectors, dtype=np.float64).reshape(-1, DIMENSIONS)
    rows = []
    last = max(context.sentences - 1, 1)
    for text, (first, end), known in zip(texts, spans, speaker_known, strict=True):
        passage = unit(vectors[first : end + 1].mean(axis=0))
        before_rows = vectors[max(0, first - CONTEXT_SENTENCES) : first]
        before = unit(before_rows.mean(axis=0)) if len(before_rows) else np.zeros(DIMENSIONS)
        position = first / last
        head = text.split(". ", 1)[0]
        extra = [
            position, float(position < 0.05), float(position > 0.95), float(known),
            float(has_unresolved_reference(head)), float(refers_back(text)),
            _cos(context.title, passage), _cos(context.notes, passage), float(np.dot(context.centre, passage)),
            float(np.dot(before, passage)), float(context.notes is not None),
        ]
        rows.append(np.concatenate([hand_inputs(extract_features(text)), extra, passage, before]))
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack(rows)


@dataclass(frozen=True)
class Floors:
    """Value floors on the model's scale, chosen at training time and stored with the weights: below `pool` a
    passage is not kept as a candidate; below `send` it is never sent and never counts as coverage."""

    pool: float
    send: float


@lru_cache(maxsize=1)
def shipped_model():
    return load_linear_regression(MODEL_NAME, FEATURE_NAMES)


def shipped_floors() -> Floors:
    return Floors(**shipped_model().meta["floors"])


def predict_value(inputs: np.ndarray) -> np.ndarray:
    """Predicted rubric value (about 0-3) of each row of `value_inputs`."""
    if len(inputs) == 0:
        return np.zeros(0)
    return shipped_model().predict(inputs)


def combine(ridge: np.ndarray, adapter: np.ndarray) -> np.ndarray:
    """The value the product ranks by: the mean of the ridge model's read (context, place, audited signals) and
    the LoRA adapter's (the words in order; value_adapter.py). On the validation episodes the mean ranked as
    well as the adapter alone (Spearman 0.58) and better than the ridge alone (0.54)."""
    mean = (np.asarray(ridge, dtype=np.float64) + np.asarray(adapter, dtype=np.float64)) / 2
    return np.clip(mean, 0.0, 3.0)  # the rubric's scale


def value_of_texts(texts: Sequence[str], embed, title: str = "") -> np.ndarray:
    """Predicted value of passages read on their own, each as if it were a short episode of its own under
    `title`: for tests and benches that score hand-written passages."""
    from podigest_dagster.core.text.sentences import split_sentences

    title_vector = unit(embed([title])[0]) if title.strip() else None
    rows = []
    for text in texts:
        sentences = split_sentences(text) or [text]
        vectors = np.asarray(embed(sentences), dtype=np.float64)
        context = episode_context(vectors, title_vector, None)
        rows.append(value_inputs([text], [(0, len(sentences) - 1)], vectors, context, [False])[0])
    if not rows:
        return np.zeros(0)
    from podigest_dagster.core.insights.value_adapter import adapter_values

    return combine(predict_value(np.vstack(rows)), adapter_values(list(texts)))
