"""The value model: what a passage is worth to the reader, learned from rubric-graded passages."""

import json

import numpy as np
import pytest

from podigest_dagster.core.insights import value
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.learned import LinearModel, load_linear_regression, save_model
from podigest_dagster_tests.support.insight_day import INSIGHTS

BANTER = [
    "Yeah, that's so funny, I love that, totally.",
    "Ha, no, you're right, you're right, that's amazing. Okay.",
    "Oh come on, you can't just say that on the show, man!",
]
JOKES = [
    "My cat has more followers than I do, and she has never posted a single thing in her life.",
    "If they ever make a movie about my week it'll be a silent film, because I lost my voice on Monday.",
    "I told my kids I'd take them to the moon, and now they want to know why we're at the planetarium again.",
]
HEDGES = [
    "I don't know how you answer that, it's such a hard one.",
    "I think maybe it could be something, I don't know, who knows really.",
    "It's hard to say, there are probably arguments on both sides of it, I guess.",
]
ANECDOTES = [
    "I went to the beach last weekend with my kids and it was great.",
    "When I was in college I had a roommate who only ate cereal for an entire semester.",
    "My brother called me last night because his car broke down on the way to a wedding.",
]
NOT_INSIGHT = [
    "What do you think about heat pumps in older houses, and should people wait a few more years?",
    "Um so yeah, you know, I mean, we we talked about that stuff and things.",
    "The config file sets max tokens to four thousand and ninety six, the temperature to zero point two and "
    "the retry count to three.",
    "This episode is brought to you by Larkspur Mobile. Use code SIGNAL for twenty percent off your first "
    "month at larkspur mobile dot com.",
    "It's just a lot of stuff, you know, there's a lot going on with it and people have different views.",
]
CLAIMS = [
    "Restaurants make most of their profit on drinks and not really on the food, because a soda costs a few "
    "cents to pour and sells for three dollars, while most dishes barely break even.",
    INSIGHTS["index_funds"],
    INSIGHTS["heat_pumps"],
    INSIGHTS["batteries"],
]


@pytest.fixture(scope="module")
def values():
    embed = Embedder().embed
    groups = {"claims": CLAIMS, "banter": BANTER, "jokes": JOKES, "hedges": HEDGES, "anecdotes": ANECDOTES,
              "not_insight": NOT_INSIGHT}
    return {name: value.value_of_texts(texts, embed) for name, texts in groups.items()}


def test_a_specific_claim_with_its_reason_outranks_a_vague_remark_a_config_line_a_read_and_a_question(values):
    assert values["claims"].min() > values["not_insight"].max(), values


@pytest.mark.parametrize("group", ["banter", "jokes", "hedges", "anecdotes"])
def test_banter_jokes_hedges_and_anecdotes_are_worth_less_than_every_claim(values, group):
    assert values[group].max() < values["claims"].min(), values[group]


def test_nothing_but_talk_stays_below_the_send_floor(values):
    send = value.shipped_floors().send
    for group in ("banter", "jokes", "hedges", "anecdotes", "not_insight"):
        assert np.all(values[group] < send), (group, values[group], send)


def test_the_shipped_model_loads_offline_with_its_features_floors_and_training_record():
    model = value.shipped_model()
    assert model.feature_names == value.FEATURE_NAMES and model.link == "identity"
    floors = value.shipped_floors()
    assert 0 < floors.pool <= floors.send
    assert model.meta["trained_on"]["passages"] >= 2000 and model.meta["validation"]


def test_a_model_file_that_does_not_match_the_features_is_refused(tmp_path, monkeypatch):
    from podigest_dagster.core.insights import learned

    names = ("log_words", "numbers")
    stale = LinearModel("value", names, np.zeros(2), np.ones(2), np.ones(2), 0.0, {}, "identity")
    monkeypatch.setattr(learned, "MODELS_DIR", tmp_path)
    save_model(stale, tmp_path / "value.json")
    learned.load_model.cache_clear()
    try:
        with pytest.raises(ValueError, match="make train"):
            load_linear_regression("value", value.FEATURE_NAMES)
    finally:
        learned.load_model.cache_clear()


def test_a_classifier_file_is_not_taken_for_the_regression(tmp_path, monkeypatch):
    from podigest_dagster.core.insights import learned

    names = value.FEATURE_NAMES
    classifier = LinearModel("value", names, np.zeros(len(names)), np.ones(len(names)), np.zeros(len(names)), 0.0)
    monkeypatch.setattr(learned, "MODELS_DIR", tmp_path)
    save_model(classifier, tmp_path / "value.json")
    assert json.loads((tmp_path / "value.json").read_text())["link"] == "logistic"
    learned.load_model.cache_clear()
    try:
        with pytest.raises(ValueError, match="not a regression"):
            load_linear_regression("value", names)
    finally:
        learned.load_model.cache_clear()


def test_the_shipped_adapter_loads_offline_and_is_small():
    from podigest_dagster.core.insights import value_adapter

    spec = value_adapter.adapter_files()
    assert len(spec["weight"]) == 384 and spec["validation"]
    assert sum(p.stat().st_size for p in value_adapter.ADAPTER_DIR.iterdir()) < 5_000_000
    assert value_adapter.adapter_values([CLAIMS[0], BANTER[0]]).shape == (2,)


def test_adapter_files_that_are_missing_or_do_not_fit_the_bundled_model_are_refused(tmp_path):
    import shutil

    from podigest_dagster.core.insights import value_adapter

    with pytest.raises(value_adapter.AdapterError, match="make train"):
        value_adapter.adapter_files(tmp_path)
    for path in value_adapter.ADAPTER_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    head = json.loads((tmp_path / "head.json").read_text())
    head["weight"] = head["weight"][:100]
    (tmp_path / "head.json").write_text(json.dumps(head))
    with pytest.raises(value_adapter.AdapterError, match="make train"):
        value_adapter._load(str(tmp_path))
