import pytest

from podigest_dagster.core.insights.ranking import RankingConfig
from podigest_dagster.core.insights.scoring import insight_score
from podigest_dagster_tests.support.insight_day import INSIGHTS

NOT_INSIGHTS = [
    "Yeah, that's so funny, I love that, totally.",
    "I went to the beach last weekend with my kids and it was great.",
    "What do you think about heat pumps in older houses?",
    "I think maybe it could be something, I don't know, who knows really.",
    "Um so yeah, you know, I mean, we we talked about that stuff and things.",
    "Make sure to check out our website and tell your friends.",
]


@pytest.mark.parametrize("text", NOT_INSIGHTS)
def test_banter_anecdotes_questions_and_hedges_score_below_every_planted_claim(text):
    worst_claim = min(insight_score(claim)[0] for claim in INSIGHTS.values())
    score, _ = insight_score(text)
    assert 0.0 <= score < 0.3 < worst_claim


def test_scores_stay_in_unit_interval_and_explain_themselves():
    score, features = insight_score(INSIGHTS["batteries"])
    assert 0.0 <= score <= 1.0
    assert features["causal"] >= 1 and features["numbers"] >= 1 and features["entities"] >= 2


def test_a_reason_or_number_raises_the_score_of_the_same_claim():
    bare = "Restaurants make most of their profit on drinks and not really on the food they serve."
    reasoned = bare[:-1] + ", because a soda costs a few cents to pour and sells for three dollars."
    assert insight_score(reasoned)[0] > insight_score(bare)[0]


def test_a_claim_of_effect_without_numbers_clears_the_floor_but_chit_chat_without_substance_does_not():
    floor = RankingConfig().min_insight
    for claim in (
        "Loud classrooms slow how fast young children learn to read, even when the teachers stop noticing the noise.",
        "Road salt damages the roots of street trees for years after the snow has melted away in spring.",
    ):
        assert insight_score(claim)[0] >= floor, claim
    for chat in (
        "Still getting lost on the new bike this week? Only once this week, and I call that progress.",
        "Thanks for spending part of your Sunday with us. This has been another hour of our little show.",
    ):
        assert insight_score(chat)[0] < floor, chat
