"""The value model's data and its measures: every graded passage (training/grading/) rebuilt from the corpus
with its model inputs, split by episode into fit and validation, and the figures the issue asks for
(Spearman with the graded value, NDCG@5 per episode) for any scorer.

Validation episodes: a hash-ordered fifth of the graded episodes (never fitted on, never used to pick a
setting that is then reported on them)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from podigest_dagster.core.insights import value as value_model
from podigest_dagster.core.insights.features import passage_vector
from podigest_dagster.core.text.sentences import split_sentences
from training.corpus import VectorCache
from training.graded import (
    GRADES,
    GRADING,
    PASSAGES,
    StaleReference,
    load_grades,
    load_passages,
    rebuild,
    show_notes,
)

VALIDATION_SHARE = 5  # one episode in five


def is_validation(episode_id: str) -> bool:
    return int(hashlib.sha256(f"value:{episode_id}".encode()).hexdigest()[:8], 16) % VALIDATION_SHARE == 0


@dataclass
class GradedSet:
    """Graded passages with their inputs: x (value_inputs), the mean grades, and where each one is from."""

    ids: list[str] = field(default_factory=list)
    episode: list[str] = field(default_factory=list)
    show: list[str] = field(default_factory=list)
    stratum: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    x: list[np.ndarray] = field(default_factory=list)
    grades: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    current: list[float] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {k: np.asarray(v, dtype=np.float64) for k, v in self.grades.items()}
        out.update(x=np.vstack(self.x), current=np.asarray(self.current), episode=np.asarray(self.episode),
                   show=np.asarray(self.show), stratum=np.asarray(self.stratum))
        out["validation"] = np.array([e != "hand" and is_validation(e) for e in self.episode])
        return out


def mean_grades(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per passage id, each field's mean over its graders."""
    by_id: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_id[r["id"]].append(r)
    fields = ("clean", "standalone", "substance", "faithful", "value")
    return {pid: {f: float(np.mean([g[f] for g in gs])) for f in fields} for pid, gs in by_id.items()}


def episode_inputs(cache: VectorCache, episode) -> tuple[np.ndarray, value_model.EpisodeContext]:
    texts = [s.text for s in episode.sentences]
    vectors = cache.vectors(episode.episode_id, texts)
    title = passage_vector(cache.vectors("titles", split_sentences(episode.title) or [episode.title]))
    notes_text = show_notes().get(episode.episode_id)
    notes = passage_vector(cache.vectors("notes", [notes_text[:1000]])) if notes_text else None
    return vectors, value_model.episode_context(vectors, title, notes)


def load_baseline() -> dict[str, float]:
    """The insight score that shipped before the value model, per graded passage (training/grading/)."""
    path = GRADING / "baseline_scores.json"
    return dict(json.loads(path.read_text(encoding="utf-8"))["scores"]) if path.is_file() else {}


def build_set(cache: VectorCache, refs: list[dict] | None = None, grades: dict | None = None) -> GradedSet:
    baseline = load_baseline()
    refs = refs if refs is not None else load_passages(PASSAGES)
    grades = grades if grades is not None else mean_grades(load_grades(GRADES))
    data = GradedSet()
    by_episode: dict[str, list[dict]] = defaultdict(list)
    for ref in refs:
        if ref["id"] in grades:
            by_episode[ref["episode_id"]].append(ref)
    stale = 0
    for eid, chosen in sorted(by_episode.items()):
        try:
            windows = [rebuild(r) for r in chosen]
        except StaleReference:
            stale += len(chosen)
            continue
        episode = windows[0][0]
        vectors, context = episode_inputs(cache, episode)
        texts = [" ".join(s.text for s in w) for _, w in windows]
        spans = [(r["first_sentence"], r["last_sentence"]) for r in chosen]
        known = [bool(w[0].speaker) for _, w in windows]
        x = value_model.value_inputs(texts, spans, vectors, context, known)
        for ref, text, row in zip(chosen, texts, x, strict=True):
            data.ids.append(ref["id"])
            data.episode.append(eid)
            data.show.append(ref["show"])
            data.stratum.append(ref["stratum"])
            data.texts.append(text)
            data.x.append(row)
            data.current.append(baseline.get(ref["id"], np.nan))
            for f, v in grades[ref["id"]].items():
                data.grades[f].append(v)
    if stale:
        print(f"warning: {stale} graded passages could not be rebuilt (the pipeline cuts their episodes differently)")
    add_hand_passages(data, cache)
    return data


HAND_GRADES = GRADING / "hand_grades.json"


def add_hand_passages(data: GradedSet, cache: VectorCache) -> int:
    """The hand-written passages of training/examples.json that a grader graded on the rubric (with no context:
    training/grading/hand_grades.json), read as if said in the middle of an episode; always in the fit split.
    Real shows rarely say a complete claim in one or two short sentences, so without them the model would
    learn that short means weak."""
    from training.corpus import EXAMPLES

    if not HAND_GRADES.is_file():
        return 0
    examples = json.loads(EXAMPLES.read_text(encoding="utf-8"))["insight"]
    grades = mean_grades(json.loads(HAND_GRADES.read_text(encoding="utf-8"))["grades"])
    names = value_model.FEATURE_NAMES
    added = 0
    for pid, grade in sorted(grades.items()):
        text = examples[int(pid.split("-")[1])]["text"]
        sentences = split_sentences(text) or [text]
        vectors = cache.vectors("examples-value", sentences)
        context = value_model.episode_context(vectors, None, None)
        row = value_model.value_inputs([text], [(0, len(sentences) - 1)], vectors, context, [False])[0]
        row[names.index("position")], row[names.index("near_start")] = 0.5, 0.0
        data.ids.append(pid)
        data.episode.append("hand")
        data.show.append("hand")
        data.stratum.append("hand")
        data.texts.append(text)
        data.x.append(row)
        data.current.append(np.nan)
        for f, v in grade.items():
            data.grades[f].append(v)
        added += 1
    return added


# --- measures -------------------------------------------------------------------------------------


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def ndcg_at(scores: np.ndarray, gains: np.ndarray, k: int = 5) -> float:
    order = np.argsort(-scores, kind="stable")[:k]
    ideal = np.sort(gains)[::-1][:k]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(((2 ** gains[order] - 1) * discount[: len(order)]).sum())
    best = float(((2 ** ideal - 1) * discount[: len(ideal)]).sum())
    return dcg / best if best > 0 else float("nan")


def mean_ndcg(scores: np.ndarray, gains: np.ndarray, episodes: np.ndarray, k: int = 5) -> float:
    values = [ndcg_at(scores[episodes == e], gains[episodes == e], k) for e in np.unique(episodes)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def report(name: str, scores: np.ndarray, value: np.ndarray, episodes: np.ndarray) -> dict:
    return {"scorer": name, "spearman": round(spearman(scores, value), 3),
            "ndcg5": round(mean_ndcg(scores, value, episodes), 3), "n": int(len(value)),
            "episodes": int(len(np.unique(episodes)))}


# --- the shipped model ----------------------------------------------------------------------------

FOLDS = 5
PENALTIES = (1000.0, 3000.0, 10000.0, 30000.0)
# The send floor: the lowest predicted value from which out-of-fold passages are, on average, graded a claim
# worth weighing (mean value >= SEND_MEAN in a band of SEND_BAND above it); the pool floor keeps POOL_RECALL of
# the passages graded 2 or more.
SEND_MEAN = 0.9
SEND_BAND = 0.2
POOL_RECALL = 0.95


def fold_of(episode_id: str) -> int:
    return int(hashlib.sha256(f"fold:{episode_id}".encode()).hexdigest()[:8], 16) % FOLDS


def out_of_fold(x: np.ndarray, y: np.ndarray, episodes: np.ndarray, penalty: float) -> np.ndarray:
    from podigest_dagster.core.insights.learned import train_regression

    folds = np.array([fold_of(e) for e in episodes])
    oof = np.zeros(len(y))
    for k in range(FOLDS):
        model = train_regression(value_model.MODEL_NAME, value_model.FEATURE_NAMES, x[folds != k], y[folds != k], penalty)
        oof[folds == k] = model.predict(x[folds == k])
    return oof


def choose_floors(oof: np.ndarray, y: np.ndarray) -> value_model.Floors:
    grid = np.round(np.arange(0.0, 2.0, 0.02), 2)
    send = next((float(t) for t in grid if (band := (oof >= t) & (oof < t + SEND_BAND)).sum() >= 20
                 and y[band].mean() >= SEND_MEAN), float(np.quantile(oof, 0.99)))
    strong = oof[y >= 2]
    pool = float(np.round(np.quantile(strong, 1 - POOL_RECALL), 2)) if len(strong) else 0.0
    return value_model.Floors(pool=round(min(pool, send), 2), send=round(send, 2))


def train_value(cache: VectorCache, base_meta: dict):
    """Fit the value model on the graded passages of the fit episodes (penalty by grouped cross-validation),
    choose its floors from out-of-fold predictions, and measure it and the earlier score on the validation
    episodes."""
    from podigest_dagster.core.insights.learned import train_regression

    data = build_set(cache)
    a = data.arrays()
    x, y, episodes, validation = a["x"], a["value"], a["episode"], a["validation"]
    fit = ~validation
    cv = {}
    for penalty in PENALTIES:
        oof = out_of_fold(x[fit], y[fit], episodes[fit], penalty)
        cv[penalty] = (spearman(oof, y[fit]), mean_ndcg(oof, y[fit], episodes[fit]), oof)
    penalty = max(PENALTIES, key=lambda p: (round(cv[p][0], 3), p))
    floors = choose_floors(cv[penalty][2], y[fit])
    model = train_regression(value_model.MODEL_NAME, value_model.FEATURE_NAMES, x[fit], y[fit], penalty)
    predicted = model.predict(x[validation])
    earlier = a["current"][validation]
    report_rows = [report("value model", predicted, y[validation], episodes[validation])]
    if not np.isnan(earlier).any():
        report_rows.append(report("earlier insight score", earlier, y[validation], episodes[validation]))
    meta = dict(base_meta)
    meta.update({
        "penalty": penalty,
        "floors": {"pool": floors.pool, "send": floors.send},
        "trained_on": {"passages": int(fit.sum()), "hand_written": int((episodes == "hand").sum()),
                       "episodes": int(len(set(episodes[fit]) - {"hand"})),
                       "shows": int(len(set(a["show"][fit]) - {"hand"}))},
        "cross_validation": {str(p): {"spearman": round(v[0], 3), "ndcg5": round(v[1], 3)} for p, v in cv.items()},
        "validation": report_rows,
        "validation_sent_share": round(float(np.mean(predicted >= floors.send)), 3),
    })
    from podigest_dagster.core.insights.learned import LinearModel

    shipped = LinearModel(model.name, model.feature_names, model.mean, model.scale, model.coef, model.intercept,
                          meta, model.link)
    return shipped, meta
