"""The real-podcast corpus as training data, read through the product's own code: each transcript file is
parsed by the publisher-transcript parser and cut into the pipeline's sentences, so the models learn on
exactly what they will see. Sentence vectors (bundled all-MiniLM-L6-v2) are cached outside the repo.

The corpus lives at ../shared/real-podcasts beside the repo ($PODIGEST_REAL_PODCASTS overrides it); its
transcripts never enter this repository: the manifest names episodes by episode_id and spans by times."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from podigest_dagster import settings
from podigest_dagster.core.insights.embedding import DIMENSIONS, MODEL_NAME
from podigest_dagster.core.insights.passages import Sentence, build_sentences
from podigest_dagster.core.transcribe.publisher import parse_transcript

REPO = Path(__file__).resolve().parent.parent
TRAINING = REPO / "training"
MANIFEST = TRAINING / "manifest.json"
EXAMPLES = TRAINING / "examples.json"


def corpus_dir() -> Path:
    return Path(os.environ.get("PODIGEST_REAL_PODCASTS") or REPO.parent / "shared" / "real-podcasts")


def cache_dir() -> Path:
    return Path(os.environ.get("PODIGEST_TRAIN_CACHE") or settings.podigest_home() / "train-cache")


@dataclass
class CorpusEpisode:
    """One corpus episode as the pipeline sees it, with its corpus labels (times in seconds)."""

    episode_id: str
    show: str
    title: str
    split: str
    sentences: list[Sentence]
    has_times: bool
    uses: tuple[str, ...] = ()
    ad_spans: list[tuple[float, float]] = field(default_factory=list)
    ad_sentence_spans: list[tuple[int, int]] = field(default_factory=list)
    highlights: list[str] = field(default_factory=list)

    @property
    def ads_labelled(self) -> bool:
        """Its sponsor reads are labelled (every read in it is listed), so its other sentences are not ads."""
        return "ads" in self.uses

    @property
    def ad_labels_usable(self) -> bool:
        """Its sponsor labels can be placed on its sentences: by time, or (untimed transcripts) by index."""
        return self.ads_labelled and (self.has_times or bool(self.ad_sentence_spans))

    def texts(self) -> list[str]:
        return [s.text for s in self.sentences]

    def ad_labels(self) -> np.ndarray:
        """1 for each sentence whose middle falls inside a labelled sponsor span, or whose index lies in a
        labelled sentence span (first and last index, inclusive)."""
        mids = np.array([(s.start_s + s.end_s) / 2 for s in self.sentences])
        out = np.zeros(len(mids), dtype=np.int8)
        if self.has_times:
            for a, b in self.ad_spans:
                out[(mids >= a) & (mids <= b)] = 1
        for first, last in self.ad_sentence_spans:
            out[first : last + 1] = 1
        return out

    def sentences_between(self, start_s: float, end_s: float) -> list[int]:
        """Indices of the sentences whose middle lies in [start_s, end_s]."""
        return [i for i, s in enumerate(self.sentences) if start_s <= (s.start_s + s.end_s) / 2 <= end_s]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_hash() -> str:
    """sha256 of the manifest and the hand-written examples: what a set of weights was trained from."""
    digest = hashlib.sha256()
    for path in (MANIFEST, EXAMPLES):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def corpus_index_hash(root: Path) -> str:
    return hashlib.sha256((root / "index.json").read_bytes()).hexdigest()[:16]


def load_episodes(manifest: dict, root: Path | None = None) -> list[CorpusEpisode]:
    """Every manifest episode, parsed; its ad spans are labels.json's plus the manifest's hand-checked ones."""
    root = root or corpus_dir()
    index = {e["episode_id"]: e for e in read_json(root / "index.json")}
    labels = read_json(root / "labels.json")
    extra: dict[str, list[tuple[float, float]]] = {}
    by_index: dict[str, list[dict]] = {}
    for span in manifest.get("ad_spans", []):
        if "first_sentence" in span:
            by_index.setdefault(span["episode_id"], []).append(span)
        else:
            extra.setdefault(span["episode_id"], []).append((float(span["start_s"]), float(span["end_s"])))
    episodes = []
    for ref in manifest["episodes"]:
        entry = index.get(ref["episode_id"])
        if entry is None:
            raise SystemExit(f"episode {ref['episode_id']} is not in {root / 'index.json'}: rebuild the corpus")
        body = (root / entry["file"]).read_bytes()
        segments = parse_transcript(body, entry["mime"], entry["file"])
        label = labels.get(entry["episode_id"], {})
        spans = [tuple(map(float, s)) for s in label.get("ad_spans", [])] + extra.get(entry["episode_id"], [])
        sentences = build_sentences(segments)
        episodes.append(
            CorpusEpisode(
                episode_id=entry["episode_id"],
                show=entry["show_slug"],
                title=entry["title"],
                split=ref["split"],
                sentences=sentences,
                has_times=bool(entry.get("timestamps")),
                uses=tuple(ref.get("use", [])),
                ad_spans=sorted(spans),
                ad_sentence_spans=sentence_spans(entry["episode_id"], by_index.get(entry["episode_id"], []), len(sentences)),
                highlights=list(label.get("highlights", [])),
            )
        )
    return episodes


def sentence_spans(episode_id: str, spans: list[dict], count: int) -> list[tuple[int, int]]:
    """Sponsor spans given by sentence index (for transcripts without times), checked against the sentence
    count they were labelled on: when the pipeline cuts the episode into other sentences, the indices no
    longer point at the read, and training stops rather than learn from shifted labels."""
    out = []
    for span in spans:
        if int(span["sentences"]) != count:
            raise SystemExit(
                f"{episode_id}: its ad span {span['first_sentence']}-{span['last_sentence']} was labelled on "
                f"{span['sentences']} sentences, the pipeline now makes {count}: re-check the span by hand"
            )
        out.append((int(span["first_sentence"]), int(span["last_sentence"])))
    return sorted(out)


class VectorCache:
    """Sentence vectors by text, one .npz per key (an episode), computed once with the bundled model."""

    def __init__(self, embed, directory: Path | None = None) -> None:
        self.embed = embed
        self.directory = (directory or cache_dir()) / MODEL_NAME
        self.directory.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    def vectors(self, key: str, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) unit vectors; only texts not cached under `key` are embedded."""
        path = self.directory / f"{key}.npz"
        known: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        keys = [self._key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
        if missing:
            fresh = self.embed([t for _, t in missing])
            known.update({k: v for (k, _), v in zip(missing, fresh, strict=True)})
            np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())).astype(np.float32))
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([known[k] for k in keys]).astype(np.float32)
