"""Rebuild the shipped models from training/manifest.json and training/examples.json, and print their
held-out figures (episodes of the held-out split are never fitted on, nor used to pick settings).

    make train                          # = .venv/bin/python -m training.train
    .venv/bin/python -m training.train --no-write     # fit and report, leave the shipped weights alone

Two models (podigest_dagster/core/insights/models/):
- ads.json: p(sentence is part of a sponsor read) over MiniLM vectors and cues (core/insights/ads.py), plus
  the span rule, tuned on out-of-fold predictions of the training episodes and hand-written reads. Labels: labels.json ad_spans,
  the manifest's hand-checked spans, the hand-written reads of examples.json.
- insight.json: p(passage is a key point) over the audit features and the passage embedding
  (core/insights/scoring.py), with the score floors. Positives: passages close to one of the episode's
  key points (labels.json highlights, MiniLM cosine); negatives: passages far from every key point in the
  same episodes, sponsor reads, intros/outros, calls to subscribe, bare questions, a comedy show's banter,
  and the hand-written examples.

Deterministic: folds and samples come from hashes of episode ids, L-BFGS starts from zero.
Sentence vectors are cached under $PODIGEST_TRAIN_CACHE (default $PODIGEST_HOME/train-cache)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from podigest_dagster import settings

settings.use_offline_environment()

import numpy as np  # noqa: E402

from podigest_dagster.core.insights import ads, scoring  # noqa: E402
from podigest_dagster.core.insights.candidates import MAX_WINDOW, Sentence, sentence_reason, window_reason  # noqa: E402
from podigest_dagster.core.insights.embedding import Embedder  # noqa: E402
from podigest_dagster.core.insights.learned import LinearModel, roc_auc, save_model, train_model  # noqa: E402
from podigest_dagster.core.text.sentences import split_sentences  # noqa: E402
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

FOLDS = 4
HAND_WEIGHT = 10.0
# (share of the total weight given to sponsor-read sentences, L2 penalty): picked by out-of-fold span and
# sentence F1 on the training episodes. Reads are about 3% of sentences; weighting them up to half the weight
# made the model call every product mention a read.
AD_SETTINGS = ((0.05, 1000.0), (0.05, 3000.0), (0.2, 1000.0), (0.2, 3000.0))
INSIGHT_PENALTIES = (160.0, 640.0, 2000.0)
HAND_EPISODE_LENGTH = 1000
# Sentence-level F-beta in the span rule's score: a show sentence swallowed by a read can be a lost insight,
# an ad sentence left over rarely scores as one (ad windows score low), so precision weighs more.
SENTENCE_BETA = 0.5
# A passage is a key point when its cosine with one of the episode's highlights is at least POSITIVE_COSINE
# and within POSITIVE_MARGIN of that highlight's best passage (at most POSITIVES_PER_HIGHLIGHT of them);
# it is ordinary talk when no highlight comes within NEGATIVE_COSINE of it.
POSITIVE_COSINE = 0.5
POSITIVE_MARGIN = 0.06
POSITIVES_PER_HIGHLIGHT = 3
NEGATIVE_COSINE = 0.3
SAMPLE_PER_EPISODE = {"talk": 40, "banter": 60, "ad": 10, "filler": 8, "question": 8}
FILLER_REASONS = frozenset({"intro_outro", "subscribe_call", "table_of_contents", "small_talk"})
# Score floors, from out-of-fold scores of the training episodes: `send` is the score that best separates key
# points from the rest (true-positive rate minus false-positive rate, classes weighted equally: the middle
# of its near-best plateau);
# `pool`, the floor for keeping a candidate at all, keeps POOL_RECALL of the key points.
POOL_RECALL = 0.95
FLOOR_PLATEAU = 0.02


def stable_int(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16)


def fold_of(group: str) -> int:
    return stable_int(group) % FOLDS


def sample(items: list, limit: int, key: str) -> list:
    """A deterministic sample of at most `limit` items (seeded by `key`), in their original order."""
    if len(items) <= limit:
        return items
    rng = np.random.default_rng(stable_int(key))
    return [items[i] for i in sorted(rng.choice(len(items), size=limit, replace=False))]


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


# --- insightfulness --------------------------------------------------------------------------------


@dataclass
class Passages:
    """Labelled passages: model inputs, label, kind, group (episode or 'hand') and split."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)

    def add(self, texts: list[str], vectors: np.ndarray, label: int, kind: str, group: str, split: str) -> None:
        features = [scoring.extract_features(t) for t in texts]
        if not texts:
            return
        self.x.append(scoring.model_inputs(features, vectors))
        n = len(texts)
        self.y += [label] * n
        self.kind += [kind] * n
        self.group += [group] * n
        self.split += [split] * n

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (np.vstack(self.x), np.asarray(self.y), np.asarray(self.kind), np.asarray(self.group),
                np.asarray(self.split))


def windows(sentences: list[Sentence], reasons: list[str | None]) -> list[tuple[int, int, str | None]]:
    """Every window of one to MAX_WINDOW sentences with the pipeline's reason for dropping it (or None)."""
    out = []
    for start in range(len(sentences)):
        for size in range(1, MAX_WINDOW + 1):
            if start + size <= len(sentences):
                out.append((start, start + size, window_reason(sentences[start : start + size], reasons[start : start + size])))
    return out


def window_kind(reason: str | None) -> str | None:
    if reason is None:
        return "eligible"
    if reason == "ad":
        return "ad"
    if reason in FILLER_REASONS:
        return "filler"
    if reason == "bare_question":
        return "question"
    return None


def episode_passages(e: CorpusEpisode, cache: VectorCache, passages: Passages) -> Counter:
    ad_labels = e.ad_labels() if e.ads_labelled else np.zeros(len(e.sentences), dtype=np.int8)
    reasons = [sentence_reason(s.text) or ("ad" if ad_labels[i] else None) for i, s in enumerate(e.sentences)]
    by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a, b, reason in windows(e.sentences, reasons):
        kind = window_kind(reason)
        if kind == "eligible" and ad_labels[a:b].any():
            kind = "ad"
        if kind:
            by_kind[kind].append((a, b))
    chosen: dict[str, list[tuple[int, int]]] = {}
    texts = e.texts()
    if e.highlights:
        vectors = cache.vectors(e.episode_id, texts)
        eligible = by_kind.get("eligible", [])
        pv = np.stack([scoring.passage_vector(vectors[a:b]) for a, b in eligible]) if eligible else np.zeros((0, 384))
        hv = np.stack([scoring.passage_vector(cache.vectors("highlights", split_sentences(h) or [h])) for h in e.highlights])
        sims = pv @ hv.T if len(pv) else np.zeros((0, len(hv)))
        positives: set[int] = set()
        for j in range(len(hv)):
            column = sims[:, j]
            if not len(column) or column.max() < POSITIVE_COSINE:
                continue
            floor = max(POSITIVE_COSINE, column.max() - POSITIVE_MARGIN)
            best = [i for i in np.argsort(-column, kind="stable")[:POSITIVES_PER_HIGHLIGHT] if column[i] >= floor]
            positives.update(int(i) for i in best)
        chosen["key_point"] = [eligible[i] for i in sorted(positives)]
        far = [eligible[i] for i in range(len(eligible)) if i not in positives and sims[i].max() < NEGATIVE_COSINE]
        chosen["talk"] = sample(far, SAMPLE_PER_EPISODE["talk"], f"talk:{e.episode_id}")
    else:
        chosen["banter"] = sample(by_kind.get("eligible", []), SAMPLE_PER_EPISODE["banter"], f"banter:{e.episode_id}")
    for kind in ("ad", "filler", "question"):
        chosen[kind] = sample(by_kind.get(kind, []), SAMPLE_PER_EPISODE[kind], f"{kind}:{e.episode_id}")
    counts: Counter = Counter()
    for kind, spans in chosen.items():
        if not spans:
            continue
        needed = sorted({i for a, b in spans for i in range(a, b)})
        vectors = dict(zip(needed, cache.vectors(e.episode_id, [texts[i] for i in needed]), strict=True))
        window_texts = [" ".join(texts[a:b]) for a, b in spans]
        pv = np.stack([scoring.passage_vector(np.stack([vectors[i] for i in range(a, b)])) for a, b in spans])
        passages.add(window_texts, pv, int(kind == "key_point"), kind, e.episode_id, e.split)
        counts[kind] += len(spans)
    return counts


def hand_passages(examples: dict, cache: VectorCache, passages: Passages) -> Counter:
    counts: Counter = Counter()
    for k, example in enumerate(examples["insight"]):
        sentences = split_sentences(example["text"]) or [example["text"]]
        vector = scoring.passage_vector(cache.vectors("examples-insight", sentences))
        passages.add([example["text"]], vector[None, :], int(example["label"]), f"hand_{example['kind']}", f"hand-{k}", "train")
        counts[example["kind"]] += 1
    return counts


def insight_weights(y: np.ndarray, group: np.ndarray) -> np.ndarray:
    hand = np.char.startswith(group.astype(str), "hand-")
    return balanced_weights(y, hand)


def fit_insight(x: np.ndarray, y: np.ndarray, group: np.ndarray, penalty: float, meta: dict | None = None) -> LinearModel:
    return train_model(scoring.MODEL_NAME, scoring.FEATURE_NAMES, x, y.astype(np.float64), penalty,
                       insight_weights(y, group), meta)


def choose_floors(scores: np.ndarray, y: np.ndarray, group: np.ndarray) -> scoring.Floors:
    w = insight_weights(y, group)
    thresholds = np.round(np.arange(0.05, 0.96, 0.01), 2)
    youden = np.array([
        w[(scores >= t) & (y == 1)].sum() / w[y == 1].sum() - w[(scores >= t) & (y == 0)].sum() / w[y == 0].sum()
        for t in thresholds
    ])
    # The curve is flat near its top, so its single best point jumps with small changes of the training
    # passages (0.38 in one fit, 0.45 in the next): the floor is the middle of the thresholds within
    # FLOOR_PLATEAU of the best.
    near = thresholds[youden >= youden.max() - FLOOR_PLATEAU]
    best_t = float(np.round(np.median(near), 2))
    positives = np.sort(scores[y == 1])
    pool = float(np.floor(positives[int((1 - POOL_RECALL) * len(positives))] * 100) / 100)
    return scoring.Floors(pool=min(pool, best_t), send=best_t)


def insight_report(scores: np.ndarray, y: np.ndarray, kind: np.ndarray, floors: scoring.Floors) -> dict:
    report = {"auc": round(roc_auc(scores, y), 4), "positives": int(y.sum()), "negatives": int((1 - y).sum()),
              "key_points_above_send": round(float((scores[y == 1] >= floors.send).mean()), 3) if y.sum() else None,
              "by_negative_kind": {}}
    for k in sorted(set(kind[y == 0].tolist())):
        mask = (kind == k) | (y == 1)
        report["by_negative_kind"][k] = {
            "n": int((kind == k).sum()),
            "auc": round(roc_auc(scores[mask], y[mask]), 4),
            "below_send": round(float((scores[kind == k] < floors.send).mean()), 3),
        }
    return report


def train_insight(episodes: list[CorpusEpisode], examples: dict, cache: VectorCache, base_meta: dict) -> tuple[LinearModel, dict]:
    passages = Passages()
    counts: Counter = Counter()
    for e in episodes:
        counts.update(episode_passages(e, cache, passages))
    hand_counts = hand_passages(examples, cache, passages)
    x, y, kind, group, split = passages.arrays()
    train = split == "train"
    corpus_train = train & ~np.char.startswith(group.astype(str), "hand-")
    folds = np.array([fold_of(g) for g in group])
    aucs, oof_by_penalty = {}, {}
    for penalty in INSIGHT_PENALTIES:
        oof = np.full(len(y), np.nan)
        for k in range(FOLDS):
            fit_mask = train & ~(corpus_train & (folds == k))
            model = fit_insight(x[fit_mask], y[fit_mask], group[fit_mask], penalty)
            test = corpus_train & (folds == k)
            oof[test] = model.probability(x[test])
        oof_by_penalty[penalty] = oof
        aucs[penalty] = roc_auc(oof[corpus_train], y[corpus_train])
    penalty = max(INSIGHT_PENALTIES, key=lambda q: (aucs[q], q))
    oof = oof_by_penalty[penalty]
    floors = choose_floors(oof[corpus_train], y[corpus_train], group[corpus_train])
    model = fit_insight(x[train], y[train], group[train], penalty)
    held = ~train
    held_report = insight_report(model.probability(x[held]), y[held], kind[held], floors)
    meta = dict(base_meta)
    meta.update({
        "penalty": penalty,
        "floors": {"pool": floors.pool, "send": floors.send},
        "trained_on": {"episodes": len(set(group[corpus_train].tolist())), "passages": {k: int(v) for k, v in sorted(counts.items())},
                       "hand_written": {k: int(v) for k, v in sorted(hand_counts.items())}},
        "out_of_fold_auc": {str(k): round(v, 4) for k, v in aucs.items()},
        "out_of_fold_train": insight_report(oof[corpus_train], y[corpus_train], kind[corpus_train], floors),
        "heldout": held_report,
    })
    return LinearModel(model.name, model.feature_names, model.mean, model.scale, model.coef, model.intercept, meta), held_report


# --- main ------------------------------------------------------------------------------------------


def print_report(ad_meta: dict, insight_meta: dict) -> None:
    held = ad_meta["heldout"]
    rule = ad_meta["span_rule"]
    print("\nSponsor reads (held-out episodes: "
          f"{held['episodes']}, {held['labelled_reads']} labelled reads; span rule open {rule['open_at']}, "
          f"keep {rule['keep_at']}, gap {rule['max_gap']})")
    print(f"{'level':28} {'precision':>9} {'recall':>7}")
    for name, key in (("spans", "spans"), ("sentences (after span logic)", "sentences"), ("sentences (p >= 0.5 alone)", "sentences_p_0_5")):
        print(f"{name:28} {held[key]['precision']:9.3f} {held[key]['recall']:7.3f}")
    ih = insight_meta["heldout"]
    floors = insight_meta["floors"]
    print(f"\nInsightfulness (held-out episodes): AUC {ih['auc']:.3f} over {ih['positives']} key points and "
          f"{ih['negatives']} other passages; floors pool {floors['pool']}, send {floors['send']}; "
          f"{ih['key_points_above_send']:.0%} of key points above the send floor")
    print(f"{'negatives':12} {'n':>5} {'AUC':>6} {'below send':>11}")
    for kind, m in ih["by_negative_kind"].items():
        print(f"{kind:12} {m['n']:5d} {m['auc']:6.3f} {m['below_send']:11.0%}")


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
    insight_model, _ = train_insight([e for e in episodes if "insight" in e.uses], examples, cache, base)
    if not args.no_write:
        for model in (ad_model, insight_model):
            print(f"wrote {save_model(model)}")
    print_report(ad_model.meta, insight_model.meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
