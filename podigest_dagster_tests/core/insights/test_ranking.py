import numpy as np
import pytest

from podigest_dagster.core.insights.candidates import extract_candidates
from podigest_dagster.core.insights.clustering import cluster_candidates
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.pipeline import run_day
from podigest_dagster.core.insights.ranking import RankingConfig, lexical_overlap, rank_clusters, same_thing
from podigest_dagster_tests.support.insight_day import INSIGHTS, day_episodes, episode

PLANTED = {INSIGHTS[k] for k in INSIGHTS}
CROSS_SHOW = {INSIGHTS["parking"], INSIGHTS["index_funds"], INSIGHTS["heat_pumps"]}


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture(scope="module")
def day(embedder):
    return run_day(day_episodes(), None, {}, embedder)


def same_idea(text: str, planted: str) -> bool:
    return text.rstrip(".") in planted or planted.rstrip(".") in text


def planted_key(text: str) -> str:
    return next(k for k, v in INSIGHTS.items() if same_idea(text, v))


def test_a_day_with_enough_insights_gets_exactly_five_planted_ones(day):
    assert len(day.top) == 5
    assert all(any(same_idea(i.insight, p) for p in PLANTED) for i in day.top)
    assert [i.rank for i in day.top] == [1, 2, 3, 4, 5]


def test_ideas_said_by_more_podcasts_rank_first(day):
    assert [i.support for i in day.top[:3]] == [2, 2, 2]
    assert {planted_key(i.insight).removesuffix("_paraphrase") for i in day.top[:3]} == {
        "parking", "index_funds", "heat_pumps"
    }
    assert all(i.support == 1 for i in day.top[3:])


def test_items_carry_sources_with_time_links_for_every_supporting_podcast(day):
    for item in day.top:
        assert len(item.sources) == item.support
        for source in item.sources:
            assert source.url.startswith("https://cdn.example.org/") and "#t=" in source.url
            assert source.end_s > source.start_s >= 0
            assert source.podcast and source.episode and source.episode_id
        assert item.insight[0].isupper() and item.insight.endswith(".")
        assert item.embedding.shape == (384,)


def test_no_ad_intro_or_banter_ever_reaches_the_top(day):
    text = " ".join(i.insight for i in day.top).lower()
    for marker in ("code", "welcome", "subscribe", "funny", "weekend", "thanks for", "patreon", "produced by"):
        assert marker not in text


def test_a_day_with_few_insights_is_not_padded_with_filler(embedder):
    thin = [
        episode("x1", "Show One", "Welcome back to Show One. How are you? Oh, I'm good, haha, it was a long week. "
                f"{INSIGHTS['judges']} Thanks for listening, see you next week."),
        episode("x2", "Show Two", "You're listening to Show Two. Yeah, that's so funny, I love that. "
                "I went to the beach with my kids and it was great, really great. "
                f"{INSIGHTS['gut']} This episode is brought to you by Acme, use code ACME for ten percent off."),
    ]
    result = run_day(thin, None, {}, embedder)
    assert sorted(planted_key(i.insight) for i in result.top) == ["gut", "judges"]


def test_insights_already_sent_in_recent_digests_are_not_repeated(day, embedder):
    yesterday = embedder.embed([INSIGHTS["parking_paraphrase"], INSIGHTS["sleep"]])
    result = run_day(day_episodes(), yesterday, {}, embedder)
    keys = {planted_key(i.insight).removesuffix("_paraphrase") for i in result.top}
    assert "parking" not in keys and "sleep" not in keys
    assert len(result.top) == 5
    assert result.excluded_by_reason["repeats_past_digest"] == 2


def test_two_items_about_the_same_thing_never_both_make_the_top(embedder):
    shows = day_episodes()
    kept = extract_candidates(shows).kept
    vectors = embedder.embed([c.text for c in kept])
    unmerged = cluster_candidates(kept, vectors, merge_similarity=0.99)
    top = rank_clusters(unmerged, None, RankingConfig(top_n=10))
    keys = [planted_key(i.insight).removesuffix("_paraphrase") for i in top]
    assert len(keys) == len(set(keys))
    sims = np.array([i.embedding for i in top]) @ np.array([i.embedding for i in top]).T
    assert (sims[np.triu_indices(len(top), 1)] <= 0.5).all()


def test_paraphrases_garbled_by_speech_recognition_still_count_as_the_same_thing(embedder):
    texts = [
        "About a third of the fish caught at see spoils before it reaches a market, because the boats carry no ice.",
        "Roughly one third of the catch is lost between the boat and the shop, often because fishermen have no cold storage.",
        "Rent control keeps tenants in place for longer, which cuts the number of flats that come onto the market each year.",
    ]
    shows = [episode(f"g{i}", f"Show {i}", t) for i, t in enumerate(texts)]
    kept = extract_candidates(shows).kept
    clusters = cluster_candidates(kept, embedder.embed([c.text for c in kept]), merge_similarity=0.99)
    by_show = {c.representative.podcast: c for c in clusters}
    config = RankingConfig()
    assert same_thing(by_show["Show 0"], by_show["Show 1"], config)
    assert not same_thing(by_show["Show 0"], by_show["Show 2"], config)


def test_word_overlap_survives_recognition_slips_in_word_endings_and_keeps_numbers():
    a = "A huge share of food, about one third, spoils between the farm and the shop without cold storage."
    b = "Around a third of the world's food is lost before the shop, because farmers lack refrigeration."
    assert lexical_overlap(a, b) >= 0.3
    assert lexical_overlap(a, "Rent control keeps tenants in their flats for longer than before.") == 0.0


def test_a_garbled_retelling_of_an_idea_already_sent_is_caught_through_that_ideas_members(embedder):
    sent = INSIGHTS["gut"]
    member = (
        "The back teria in a patients gut can decide whether cancer immuno therapy works, because some microbes "
        "train immune cells to spot tumours."
    )
    retold = (
        "Back teria in the got decide whether can sir immuno therapy works for a patient, because some my crows "
        "train immune cells to spot two mers."
    )
    fresh = "A fiber rich diet feeds gut bacteria, which lowers inflammation across the body within a few weeks."
    today = [episode("t1", "Health Now", retold), episode("t2", "Food Lab", fresh)]
    # no quality floor here: the scorer may well put garbled speech below it; this is about repeats alone
    config = RankingConfig(min_insight=0.0)
    sent_only = run_day(today, embedder.embed([sent]), {}, embedder, past_insight_texts=[sent], config=config)
    assert any("two mers" in i.insight for i in sent_only.top)
    result = run_day(
        today, embedder.embed([sent, member]), {}, embedder, past_insight_texts=[sent, member], config=config
    )
    assert [i.insight for i in result.top] == [fresh]
    assert result.excluded_by_reason["repeats_past_digest"] == 1


def test_another_claim_on_the_topic_of_an_item_sent_is_news_and_the_same_claim_reworded_is_not(embedder):
    sent = (
        "Athletes who warm up with ten minutes of dynamic stretching before training get injured far less "
        "often during the season."
    )
    other_claim = (
        "Teenage athletes who sleep eight hours or more a night get injured far less often than those who "
        "sleep six."
    )
    reworded = (
        "A ten minute dynamic warm-up before training cuts athletes' injuries during the season by about a third."
    )
    past = embedder.embed([sent])
    assert float((embedder.embed([other_claim]) @ past.T).max()) > RankingConfig().repeat_similarity  # same topic
    config = RankingConfig(min_insight=0.0)
    for text, repeated in ((other_claim, False), (reworded, True)):
        today = [episode("s1", "Sport Science", text)]
        result = run_day(today, past, {}, embedder, past_insight_texts=[sent], config=config)
        assert result.excluded_by_reason["repeats_past_digest"] == int(repeated), text
        assert [i.insight for i in result.top] == ([] if repeated else [text])
