import json

import numpy as np
import pytest

from podigest_dagster.core.insights import ads, value
from podigest_dagster.core.insights.learned import (
    LinearModel,
    fit_logistic,
    load_model,
    model_path,
    roc_auc,
    save_model,
    train_model,
)
from podigest_dagster.core.insights.passages import Sentence
from training.corpus import CorpusEpisode, manifest_hash, sentence_spans


@pytest.mark.parametrize(
    ("name", "names"),
    [(ads.MODEL_NAME, ads.FEATURE_NAMES), (value.MODEL_NAME, value.FEATURE_NAMES)],
)
def test_the_shipped_weights_load_with_their_features_and_training_record(name, names):
    model = load_model(name)
    assert model.feature_names == names
    assert model.coef.shape == model.mean.shape == model.scale.shape == (len(names),)
    assert np.isfinite(model.coef).all() and (model.scale > 0).all() and np.isfinite(model.intercept)
    assert model_path(name).stat().st_size < 100_000
    if name == ads.MODEL_NAME:
        assert model.meta["manifest_sha256_16"] == manifest_hash(), "training/ changed: run `make train`"
        held = model.meta["heldout"]
        assert set(model.meta["span_rule"]) == {"open_at", "keep_at", "max_gap"}
        assert 0 <= held["spans"]["precision"] <= 1 and 0 <= held["spans"]["recall"] <= 1
    else:
        assert model.meta["manifest_sha256_16"] == manifest_hash(), "training/ changed: run `make train`"
        assert 0 < model.meta["floors"]["pool"] <= model.meta["floors"]["send"]
        assert model.meta["validation"][0]["spearman"] > model.meta["validation"][1]["spearman"]


def test_logistic_fit_recovers_the_separating_direction_and_ranks_by_it():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 2 * x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    coef, intercept = fit_logistic(x, y, penalty=1.0)
    assert coef[0] > 0 > coef[1] and abs(coef[2]) < 0.5 * abs(coef[1])
    assert roc_auc(x @ coef + intercept, y) > 0.95
    assert fit_logistic(x, y, penalty=1.0)[0].tolist() == coef.tolist()


def test_a_larger_penalty_shrinks_the_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] > 0).astype(float)
    small, _ = fit_logistic(x, y, penalty=0.1)
    large, _ = fit_logistic(x, y, penalty=100.0)
    assert np.linalg.norm(large) < np.linalg.norm(small)


def test_auc_counts_ties_as_half():
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5


def test_a_saved_model_reads_back_the_same(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 2))
    model = train_model("toy", ("a", "b"), x, (x[:, 0] > 0).astype(float), 1.0, meta={"note": "toy"})
    path = save_model(model, tmp_path / "toy.json")
    again = LinearModel.from_json(json.loads(path.read_text()))
    assert again.feature_names == ("a", "b") and again.meta == {"note": "toy"}
    assert np.allclose(again.probability(x), model.probability(x), atol=1e-4)
    with pytest.raises(ValueError):
        again.probability(x[:, :1])


def test_sponsor_spans_by_sentence_index_label_an_untimed_transcript():
    sentences = [Sentence(i, f"Sentence {i}.", 0.0, 0.0, i, i) for i in range(6)]
    spans = sentence_spans("show-1", [{"first_sentence": 2, "last_sentence": 3, "sentences": 6}], len(sentences))
    episode = CorpusEpisode("show-1", "show", "t", "train", sentences, False, ("ads",), ad_sentence_spans=spans)
    assert episode.ad_labels_usable
    assert episode.ad_labels().tolist() == [0, 0, 1, 1, 0, 0]


def test_sponsor_spans_by_index_are_refused_when_the_pipeline_cuts_the_episode_differently():
    with pytest.raises(SystemExit, match="labelled on 6 sentences, the pipeline now makes 7"):
        sentence_spans("show-1", [{"first_sentence": 2, "last_sentence": 3, "sentences": 6}], 7)
