import pytest

from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.scoring import insight_score, passage_vector, shipped_floors
from podigest_dagster.core.text.sentences import split_sentences
from podigest_dagster_tests.support.insight_day import INSIGHTS

FLOORS = shipped_floors()

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
OTHER = [
    "What do you think about heat pumps in older houses?",
    "Um so yeah, you know, I mean, we we talked about that stuff and things.",
    "Make sure to check out our website and tell your friends.",
    "Still getting lost on the new bike this week? Only once this week, and I call that progress.",
    "Thanks for spending part of your Sunday with us. This has been another hour of our little show.",
]
CLAIMS = [
    "Loud classrooms slow how fast young children learn to read, even when the teachers stop noticing the noise.",
    "Road salt damages the roots of street trees for years after the snow has melted away in spring.",
    "Restaurants make most of their profit on drinks and not really on the food, because a soda costs a few "
    "cents to pour and sells for three dollars.",
]


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def score(embedder: Embedder, text: str) -> float:
    return insight_score(text, passage_vector(embedder.embed(split_sentences(text))))[0]


@pytest.mark.parametrize("text", BANTER + JOKES + HEDGES + ANECDOTES + OTHER)
def test_banter_jokes_hedges_and_anecdotes_score_below_the_floor_and_below_every_planted_claim(embedder, text):
    worst_claim = min(score(embedder, claim) for claim in INSIGHTS.values())
    assert 0.0 <= score(embedder, text) < FLOORS.send <= worst_claim


@pytest.mark.parametrize("text", CLAIMS + list(INSIGHTS.values()))
def test_a_specific_claim_with_its_reason_scores_above_the_floor(embedder, text):
    assert score(embedder, text) >= FLOORS.send


def test_scores_stay_in_unit_interval_and_explain_themselves(embedder):
    value, features = insight_score(INSIGHTS["batteries"])
    assert 0.0 <= value <= 1.0 and abs(value - score(embedder, INSIGHTS["batteries"])) < 1e-3
    assert features["causal"] >= 1 and features["numbers"] >= 1 and features["entities"] >= 2


def test_a_reason_or_number_raises_the_score_of_the_same_claim(embedder):
    bare = "Restaurants make most of their profit on drinks and not really on the food they serve."
    reasoned = bare[:-1] + ", because a soda costs a few cents to pour and sells for three dollars."
    assert score(embedder, reasoned) > score(embedder, bare)


def test_the_pool_floor_is_below_the_send_floor():
    assert 0.0 < FLOORS.pool <= FLOORS.send < 1.0
