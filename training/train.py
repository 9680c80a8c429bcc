"""Rebuild the shipped models from training/manifest.json and training/examples.json, and print their
held-out figures (episodes of the held-out split are never fitted on, nor used to pick settings).

    make train                          # = .venv/bin/python -m training.train
    .venv/bin/python -m training.train --no-write     # fit and report, leave the shipped weights alone

Three models (podigest_dagster/core/insights/models/):
- ads.json: p(sentence is part of a sponsor read) over MiniLM vectors and cues (core/insights/ads.py), plus
  the span rule, tuned on out-of-fold predictions of the training episodes and hand-written reads. Labels: labels.json ad_spans,
  the manifest's hand-checked spans, the hand-written reads of examples.json.
- value_adapter/: the same value read by the bundled MiniLM fine-tuned with a LoRA adapter and a linear head
  (training/value_adapter.py); the product scores a passage by the mean of both.
- value.json: the reader's rubric value (0-3) of a passage (core/insights/value.py): a ridge regression over
  its audited text signals, its place in the episode, its closeness to the title, show notes and the talk
  around it, and its MiniLM embeddings, fitted on the passages graders graded blind (training/grading/,
  training/value.py); the validation fifth of the graded episodes is never fitted on. With its floors.

Deterministic: folds and samples come from hashes of episode ids, L-BFGS starts from zero.
Sentence vectors are cached under $PODIGEST_TRAIN_CACHE (default $PODIGEST_HOME/train-cache)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from podigest_dagster import settings

settings.use_offline_environment()

import numpy as np  # noqa: E402

from podigest_dagster.core.insights import ads  # noqa: E402
from podigest_dagster.core.insights import value as value_model  # noqa: E402
from podigest_dagster.core.insights.embedding import Embedder  # noqa: E402
from podigest_dagster.core.insights.learned import LinearModel, save_model, train_model  # noqa: E402
from training.corpus import (  # noqa: E402
    EXAMPLES,
    MANIFEST,
    CorpusEpisode,
    VectorCache,
    corpus_dir,
    corpus_index_hash,
    load_episodes,
    manifest_hash,
    read_json,
)
from training.value import train_value  # noqa: E402

FOLDS = 4
HAND_WEIGHT = 10.0
# (share of the total weight given to sponsor-read sentences, L2 penalty): picked by out-of-fold span and
# sentence F1 on the training episodes. Reads are about 3% of sentences; weighting them up to half the weight
# made the model call every product mention a read.
AD_SETTINGS = ((0.05, 1000.0), (0.05, 3000.0), (0.2, 1000.0), (0.2, 3000.0))
HAND_EPISODE_LENGTH = 1000
# Sentence-level F-beta in the span rule's score: a show sentence swallowed by a read can be a lost insight,
# an ad sentence left over rarely scores as one (ad windows score low), so precision weighs more.
SENTENCE_BETA = 0.5

def stable_int(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16)


def fold_of(group: str) -> int:
    return stable_int(group) % FOLDS


# --- ads -------------------------------------------------------------------------------------------


@dataclass
class Sequence_:
    """Consecutive sentences with their features and labels: one episode, or one hand-written block."""

    group: str
    split: str
    x: np.ndarray
    y: np.ndarray
    hand: bool = False


def ad_sequences(episodes: list[CorpusEpisode], examples: dict, cache: VectorCache) -> list[Sequence_]:
    out = []
    for e in episodes:
        if not e.ad_labels_usable:
            continue
        texts = e.texts()
        out.append(Sequence_(e.episode_id, e.split, ads.ad_features(texts, cache.vectors(e.episode_id, texts)), e.ad_labels()))
    blocks = [(b["before"] + b["read"] + b["after"], [0] * len(b["before"]) + [1] * len(b["read"]) + [0] * len(b["after"]))
              for b in examples["ad_blocks"]] + [(talk, [0] * len(talk)) for talk in examples["show_talk"]]
    for k, (texts, labels) in enumerate(blocks):
        offset = 150 + (k * 53) % 700
        vectors = cache.vectors("examples-ads", texts)
        x = ads.ad_features(texts, vectors, np.arange(offset, offset + len(texts)), HAND_EPISODE_LENGTH)
        out.append(Sequence_(f"hand-{k}", "train", x, np.asarray(labels, dtype=np.int8), hand=True))
    return out


def balanced_weights(y: np.ndarray, hand: np.ndarray, share: float = 0.5) -> np.ndarray:
    """Positives get `share` of the total weight, negatives the rest; hand-written rows count HAND_WEIGHT."""
    pos, neg = max(int(y.sum()), 1), max(int((1 - y).sum()), 1)
    w = np.where(y == 1, share * len(y) / pos, (1 - share) * len(y) / neg)
    return w * np.where(hand, HAND_WEIGHT, 1.0)


def fit_ads(seqs: list[Sequence_], setting: tuple[float, float], meta: dict | None = None) -> LinearModel:
    share, penalty = setting
    x = np.vstack([s.x for s in seqs])
    y = np.concatenate([s.y for s in seqs]).astype(np.float64)
    hand = np.concatenate([np.full(len(s.y), s.hand) for s in seqs])
    return train_model(ads.MODEL_NAME, ads.FEATURE_NAMES, x, y, penalty, balanced_weights(y, hand, share), meta)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal [start, end) runs of True."""
    out, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


@dataclass
class Counts:
    """Precision = right / predicted, recall = found / labelled (for sentences right = found)."""

    right: int = 0
    predicted: int = 0
    found: int = 0
    labelled: int = 0

    def add(self, other: Counts) -> None:
        for name in ("right", "predicted", "found", "labelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3), "right": self.right,
                "predicted": self.predicted, "found": self.found, "labelled": self.labelled}


def sentence_counts(y: np.ndarray, predicted: np.ndarray) -> Counts:
    hits = int((predicted & (y == 1)).sum())
    return Counts(hits, int(predicted.sum()), hits, int((y == 1).sum()))


def span_counts(y: np.ndarray, spans: list[tuple[int, int]]) -> tuple[Counts, Counts]:
    """(span level, sentence level): a predicted span is right when it shares a sentence with a labelled
    read; a labelled read is found when a predicted span shares a sentence with it."""
    truth = runs(y.astype(bool))
    predicted = np.zeros(len(y), dtype=bool)
    for a, b in spans:
        predicted[a:b] = True
    level = Counts(
        right=sum(1 for a, b in spans if y[a:b].any()),
        predicted=len(spans),
        found=sum(1 for a, b in truth if predicted[a:b].any()),
        labelled=len(truth),
    )
    return level, sentence_counts(y, predicted)


def evaluate_ads(probs: dict[str, np.ndarray], seqs: list[Sequence_], rule: ads.SpanRule) -> dict:
    span_total, sentence_total, raw = Counts(), Counts(), Counts()
    for s in seqs:
        p = probs[s.group]
        level, sentences = span_counts(s.y, ads.ad_spans(p, rule))
        span_total.add(level)
        sentence_total.add(sentences)
        raw.add(sentence_counts(s.y, p >= 0.5))
    return {"spans": span_total.as_dict(), "sentences": sentence_total.as_dict(), "sentences_p_0_5": raw.as_dict(),
            "episodes": len(seqs), "labelled_reads": span_total.labelled}


def tune_rule(probs: dict[str, np.ndarray], seqs: list[Sequence_]) -> tuple[ads.SpanRule, float]:
    """The span rule with the best mean of span-level F1 and sentence-level F-beta, averaged over the corpus episodes
    and the hand-written blocks as two equal halves (ties: the first, stricter rule). The corpus labels'
    edges are loose (an LLM's runs of flagged segments); the hand-written reads start and end exactly where
    the show stops and resumes, so they decide how far a read may reach."""
    halves = [h for h in ([s for s in seqs if not s.hand], [s for s in seqs if s.hand]) if h]
    best, best_value = ads.SpanRule(), -1.0
    for open_at in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        for keep_at in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
            if keep_at >= open_at:
                continue
            for max_gap in (0, 1, 2, 3):
                rule = ads.SpanRule(open_at, keep_at, max_gap)
                value = 0.0
                for half in halves:
                    m = evaluate_ads(probs, half, rule)
                    value += (f1_of(m["spans"]) + f1_of(m["sentences"], SENTENCE_BETA)) / 2 / len(halves)
                if value > best_value + 1e-9:
                    best, best_value = rule, value
    return best, best_value


def f1_of(m: dict, beta: float = 1.0) -> float:
    """F-beta of a precision/recall dict (beta < 1 weighs precision more)."""
    p, r = m["precision"], m["recall"]
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def out_of_fold(seqs: list[Sequence_], fit, predict, setting) -> dict[str, np.ndarray]:
    """Predictions for every training sequence (episode or hand-written block) from a model fitted without
    its fold."""
    out = {}
    for k in range(FOLDS):
        held = [s for s in seqs if fold_of(s.group) == k]
        if not held:
            continue
        model = fit([s for s in seqs if fold_of(s.group) != k], setting)
        for s in held:
            out[s.group] = predict(model, s)
    return out


def train_ads(seqs: list[Sequence_], base_meta: dict) -> tuple[LinearModel, dict]:
    train = [s for s in seqs if s.split == "train"]
    heldout = [s for s in seqs if s.split == "heldout"]
    corpus_train = [s for s in train if not s.hand]

    def predict(model: LinearModel, s: Sequence_) -> np.ndarray:
        return model.probability(s.x)

    results = {}
    for setting in AD_SETTINGS:
        probs = out_of_fold(train, fit_ads, predict, setting)
        rule, value = tune_rule(probs, train)
        results[setting] = (value, rule, evaluate_ads(probs, corpus_train, rule))
    setting = max(AD_SETTINGS, key=lambda q: (round(results[q][0], 6), q[1]))
    _, rule, oof = results[setting]
    model = fit_ads(train, setting)
    held = evaluate_ads({s.group: model.probability(s.x) for s in heldout}, heldout, rule)
    meta = dict(base_meta)
    meta.update({
        "positive_share": setting[0],
        "penalty": setting[1],
        "span_rule": {"open_at": rule.open_at, "keep_at": rule.keep_at, "max_gap": rule.max_gap},
        "trained_on": {
            "episodes": len(corpus_train), "sentences": int(sum(len(s.y) for s in corpus_train)),
            "ad_sentences": int(sum(int(s.y.sum()) for s in corpus_train)),
            "hand_written_sequences": sum(1 for s in train if s.hand),
        },
        "out_of_fold_train": oof,
        "heldout": held,
        "out_of_fold_f1_by_setting_with_hand_written": {f"{a}:{b}": round(v[0], 4) for (a, b), v in results.items()},
    })
    return LinearModel(model.name, model.feature_names, model.mean, model.scale, model.coef, model.intercept, meta), held


# --- main ------------------------------------------------------------------------------------------


def print_report(ad_meta: dict, value_meta: dict) -> None:
    held = ad_meta["heldout"]
    rule = ad_meta["span_rule"]
    print("\nSponsor reads (held-out episodes: "
          f"{held['episodes']}, {held['labelled_reads']} labelled reads; span rule open {rule['open_at']}, "
          f"keep {rule['keep_at']}, gap {rule['max_gap']})")
    print(f"{'level':28} {'precision':>9} {'recall':>7}")
    for name, key in (("spans", "spans"), ("sentences (after span logic)", "sentences"), ("sentences (p >= 0.5 alone)", "sentences_p_0_5")):
        print(f"{name:28} {held[key]['precision']:9.3f} {held[key]['recall']:7.3f}")
    floors = value_meta["floors"]
    trained = value_meta["trained_on"]
    print(f"\nValue model: ridge over {len(value_model.FEATURE_NAMES)} inputs, penalty {value_meta['penalty']}, fitted on "
          f"{trained['passages']} graded passages of {trained['episodes']} episodes ({trained['shows']} shows); floors "
          f"pool {floors['pool']}, send {floors['send']}")
    print(f"{'held-out episodes (validation)':34} {'Spearman':>9} {'NDCG@5':>7} {'passages':>9} {'episodes':>9}")
    for row in value_meta["validation"]:
        print(f"{row['scorer']:34} {row['spearman']:9.3f} {row['ndcg5']:7.3f} {row['n']:9d} {row['episodes']:9d}")


def evaluate_shipped_reads(episodes: list[CorpusEpisode], cache: VectorCache) -> dict:
    """The shipped sponsor model on the held-out episodes, read by read, two ways: the fitted span rule alone,
    and the rule the pipeline applies (read edges, own probabilities past an edge, reads naming the same
    sponsor joined, a named read followed: `ads.read_spans`)."""
    model, rule = ads.shipped_model(), ads.shipped_rule()
    fitted = (Counts(), Counts())
    applied = (Counts(), Counts())
    n = 0
    for e in episodes:
        if e.split != "heldout" or not e.ad_labels_usable:
            continue
        texts = e.texts()
        vectors = cache.vectors(e.episode_id, texts)
        y = e.ad_labels()
        features = ads.ad_features(texts, vectors)
        p, own = model.probability(features), ads.own_probabilities(features, model)
        plain = ads.ad_spans(p, ads.SpanRule(rule.open_at, rule.keep_at, rule.max_gap))
        full = ads.read_spans(texts, p, own, rule)
        for totals, spans in ((fitted, plain), (applied, full)):
            level, sentences = span_counts(y, spans)
            totals[0].add(level)
            totals[1].add(sentences)
        n += 1
    return {
        "episodes": n,
        "fitted_rule": {"spans": fitted[0].as_dict(), "sentences": fitted[1].as_dict()},
        "as_applied": {"spans": applied[0].as_dict(), "sentences": applied[1].as_dict()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="fit and report without replacing the shipped weights")
    parser.add_argument("--no-adapter", action="store_true", help="skip the value adapter (its fine-tuning takes ~12 min)")
    parser.add_argument(
        "--reads-only", action="store_true",
        help="fit nothing: the shipped sponsor model's held-out reads, by the fitted rule and as the pipeline applies it",
    )
    args = parser.parse_args(argv)
    manifest, examples = read_json(MANIFEST), read_json(EXAMPLES)
    root = corpus_dir()
    if not (root / "index.json").exists():
        print(f"no corpus at {root}: set PODIGEST_REAL_PODCASTS", file=sys.stderr)
        return 2
    if corpus_index_hash(root) != manifest["corpus_index_sha256_16"]:
        print(f"warning: {root}/index.json differs from the one the manifest was made from", file=sys.stderr)
    episodes = load_episodes(manifest, root)
    cache = VectorCache(Embedder().embed)
    if args.reads_only:
        print(json.dumps(evaluate_shipped_reads(episodes, cache), indent=1))
        return 0
    base = {"manifest_sha256_16": manifest_hash(), "corpus_index_sha256_16": manifest["corpus_index_sha256_16"]}
    ad_model, _ = train_ads(ad_sequences(episodes, examples, cache), base)
    value, _ = train_value(cache, base)
    if not args.no_write:
        for model in (ad_model, value):
            print(f"wrote {save_model(model)}")
    print_report(ad_model.meta, value.meta)
    if not args.no_adapter:
        from training import value_adapter

        print("\nValue adapter (option b, fine-tuned MiniLM with LoRA; about 4 minutes an epoch):", flush=True)
        value_adapter.main(["--epochs", str(value_adapter.EPOCHS), *([] if args.no_write else ["--write"])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
