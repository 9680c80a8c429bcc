"""Small linear models the insight stage ships: L2-regularised logistic regression (numpy, L-BFGS from
scipy), stored as JSON inside the package and loaded once per process.

`training/train.py` fits them from `training/manifest.json`; at run time only `load_model` and
`LinearModel.probability` are used, so scoring needs nothing beyond numpy."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models"
FORMAT = "podigest-logistic-v1"
DECIMALS = 6


@dataclass(frozen=True)
class LinearModel:
    """p(y=1 | x) = sigmoid(intercept + coef . (x - mean) / scale), with the named features of x in order;
    `meta` records how it was trained (manifest hash, metrics, thresholds)."""

    name: str
    feature_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict = field(default_factory=dict)
    link: str = "logistic"
    """"logistic" (a probability) or "identity" (a regression: `predict` is the value itself)."""

    def logit(self, x: np.ndarray) -> np.ndarray:
        """The log-odds of each row of x (n, len(feature_names))."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"{self.name}: expected (n, {len(self.feature_names)}) features, got {x.shape}")
        return self.intercept + ((x - self.mean) / self.scale) @ self.coef

    def probability(self, x: np.ndarray) -> np.ndarray:
        """p(y=1) of each row of x."""
        return sigmoid(self.logit(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's output for each row of x: a probability, or the regressed value."""
        return self.logit(x) if self.link == "identity" else self.probability(x)

    def to_json(self) -> dict:
        """The model as plain JSON (floats rounded to DECIMALS places, so the file stays small and stable)."""

        def rounded(values: np.ndarray) -> list[float]:
            return [round(float(v), DECIMALS) for v in values]

        return {
            "format": FORMAT,
            "name": self.name,
            "feature_names": list(self.feature_names),
            "mean": rounded(self.mean),
            "scale": rounded(self.scale),
            "coef": rounded(self.coef),
            "intercept": round(float(self.intercept), DECIMALS),
            "link": self.link,
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict) -> LinearModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        names = tuple(data["feature_names"])
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(names),) for a in arrays):
            raise ValueError(f"model {data.get('name')!r}: arrays do not match its {len(names)} features")
        link = data.get("link", "logistic")
        if link not in ("logistic", "identity"):
            raise ValueError(f"model {data.get('name')!r}: unknown link {link!r}")
        return cls(data["name"], names, *arrays, float(data["intercept"]), dict(data.get("meta") or {}), link)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale (a feature that barely varies gets scale 1: its weight stays near zero)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-4, scale, 1.0)


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    penalty: float | np.ndarray,
    sample_weight: np.ndarray | None = None,
    max_iter: int = 3000,
) -> tuple[np.ndarray, float]:
    """Coefficients and intercept minimising the weighted mean log-loss + penalty / (2 n) * |coef|^2 (the
    intercept is not penalised; `penalty` may be one value per feature), by L-BFGS from zero: the problem
    is convex, so the optimum is unique and the fit deterministic."""
    from scipy.optimize import minimize

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.sum()
    lam = np.broadcast_to(np.asarray(penalty, dtype=np.float64), (d,)) / n

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = beta[0] + x @ beta[1:]
        value = float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(lam * beta[1:] ** 2))
        residual = w * (sigmoid(z) - y)
        grad = np.concatenate([[residual.sum()], x.T @ residual + lam * beta[1:]])
        return value, grad

    result = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "gtol": 1e-7, "ftol": 1e-12})
    return result.x[1:], float(result.x[0])


def train_model(
    name: str,
    feature_names: tuple[str, ...],
    x: np.ndarray,
    y: np.ndarray,
    penalty: float | np.ndarray,
    sample_weight: np.ndarray | None = None,
    meta: dict | None = None,
) -> LinearModel:
    """Standardise x, fit, and return the model with its standardisation folded in."""
    mean, scale = standardisation(np.asarray(x, dtype=np.float64))
    coef, intercept = fit_logistic((x - mean) / scale, y, penalty, sample_weight)
    return LinearModel(name, tuple(feature_names), mean, scale, coef, intercept, dict(meta or {}))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half): the chance a random positive outranks a negative."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.json"


def save_model(model: LinearModel, path: Path | None = None) -> Path:
    """Write the model as key-sorted, indented JSON (a retrain shows as a readable diff)."""
    path = path or model_path(model.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def fit_ridge(x: np.ndarray, y: np.ndarray, penalty: float | np.ndarray, sample_weight: np.ndarray | None = None
              ) -> tuple[np.ndarray, float]:
    """Weighted least squares + penalty * |coef|^2 on standardised x (the intercept not penalised), in
    closed form: deterministic."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = w / w.mean()
    centre_x = (w[:, None] * x).sum(axis=0) / w.sum()
    centre_y = float((w * y).sum() / w.sum())
    xc, yc = x - centre_x, y - centre_y
    lam = np.broadcast_to(np.asarray(penalty, dtype=np.float64), (d,))
    coef = np.linalg.solve((xc * w[:, None]).T @ xc + np.diag(lam), (xc * w[:, None]).T @ yc)
    return coef, centre_y - float(centre_x @ coef)


def train_regression(name: str, feature_names: tuple[str, ...], x: np.ndarray, y: np.ndarray,
                     penalty: float | np.ndarray, sample_weight: np.ndarray | None = None,
                     meta: dict | None = None) -> LinearModel:
    """Standardise x, fit a ridge regression, and return it with its standardisation folded in."""
    mean, scale = standardisation(np.asarray(x, dtype=np.float64))
    coef, intercept = fit_ridge((x - mean) / scale, y, penalty, sample_weight)
    return LinearModel(name, tuple(feature_names), mean, scale, coef, intercept, dict(meta or {}), "identity")


@cache
def load_model(name: str, feature_names: tuple[str, ...] | None = None) -> LinearModel:
    """The shipped model called `name` (models/<name>.json), read once per process; with `feature_names`,
    checked to take exactly those inputs (else the weights are stale: `make train`)."""
    model = LinearModel.from_json(json.loads(model_path(name).read_text(encoding="utf-8")))
    if feature_names is not None and model.feature_names != feature_names:
        raise ValueError(f"models/{name}.json does not match the features the code computes: run `make train`")
    return model


def load_linear_regression(name: str, feature_names: tuple[str, ...]) -> LinearModel:
    """The shipped regression called `name`, checked to take exactly `feature_names`."""
    model = load_model(name, feature_names)
    if model.link != "identity":
        raise ValueError(f"models/{name}.json is not a regression model: run `make train`")
    return model
