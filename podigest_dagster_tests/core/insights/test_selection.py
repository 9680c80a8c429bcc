"""The day's five: stories across shows, chosen by predicted value and coverage above the floor, never
padded, no repeats, no two about one thing, at most two per show; each named and cited."""

from __future__ import annotations

import numpy as np
import pytest

from podigest_dagster.core.insights.candidates import EpisodeTranscript, extract_candidates
from podigest_dagster.core.insights.embedding import Embedder, embed_passages
from podigest_dagster.core.insights.pipeline import run_day
from podigest_dagster.core.insights.rewrite import InsightRewriter, LLMSettings, build_messages
from podigest_dagster.core.insights.selection import SelectionConfig
from podigest_dagster.core.insights.stories import find_stories
from podigest_dagster.core.insights.value import shipped_floors
from podigest_dagster.core.transcribe.segments import Segment
from podigest_dagster_tests.support.insight_day import INSIGHTS, day_episodes, episode

DEAL_A = (
    "Microsoft agreed to buy Activision Blizzard for sixty nine billion dollars, and regulators in Britain "
    "blocked it at first because Microsoft would control Call of Duty on cloud gaming for a decade."
)
DEAL_B = (
    "The Activision Blizzard deal only closed after Microsoft sold the cloud streaming rights for Call of Duty "
    "to Ubisoft for fifteen years, which is what finally satisfied the British competition regulator. That "
    "matters because it shows regulators now treat cloud gaming as its own market worth protecting."
)
OTHER_MICROSOFT = (
    "Microsoft's cloud revenue grew thirty percent last quarter, mostly because companies rent its data "
    "centers to train language models, and Azure now brings in more than Windows does."
)
FIELD_A = (
    "Battery pack prices fell by about ninety percent in a decade, which is why electric cars are now "
    "reaching price parity with petrol cars in Europe and China."
)
FIELD_B = (
    "Solar panels in Spain now produce so much power at noon that wholesale electricity prices go negative "
    "on sunny spring days, so grid operators pay plants to switch off."
)
BANTER = (
    "Yeah, that's so funny, I love that. Oh my god, no way. Ha, you're right, you're right. "
    "Okay, okay, so anyway, what did you have for lunch? I had a sandwich, it was fine, honestly. "
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def stories_of(episodes: list[EpisodeTranscript], embedder: Embedder):
    kept = extract_candidates(episodes, {}, min_value=-10.0, embed=embedder.embed).kept
    vectors, sentences = embed_passages([c.text for c in kept], embedder.embed)
    return find_stories(kept, vectors, sentences, floor=-10.0)


def test_two_shows_on_one_deal_form_one_story_with_the_other_as_coverage(embedder):
    stories = stories_of([episode("a1", "Tech Weekly", DEAL_A), episode("b1", "Game Business", DEAL_B)], embedder)
    [deal] = [s for s in stories if "Activision" in s.lead.text]
    assert deal.shows == 2 and [c.podcast for c in deal.coverage] == [
        "Game Business" if deal.lead.podcast == "Tech Weekly" else "Tech Weekly"]


def test_two_shows_on_the_same_company_but_different_stories_are_two_stories(embedder):
    stories = stories_of([episode("a1", "Tech Weekly", DEAL_A), episode("b1", "Cloud Hour", OTHER_MICROSOFT)], embedder)
    assert all(s.shows == 1 for s in stories)


def test_two_shows_in_the_same_field_but_on_different_stories_are_two_stories(embedder):
    stories = stories_of([episode("a1", "Energy Now", FIELD_A), episode("b1", "Grid Talk", FIELD_B)], embedder)
    assert all(s.shows == 1 for s in stories)


def test_two_shows_saying_the_same_unnamed_claim_in_nearly_the_same_words_are_one_story(embedder):
    stories = stories_of([episode("a1", "Energy Now", FIELD_A), episode("b1", "Grid Talk", FIELD_A)], embedder)
    [battery] = [s for s in stories if "Battery" in s.lead.text]
    assert battery.shows == 2


def test_one_show_telling_a_story_in_three_episodes_is_one_show_not_coverage(embedder):
    episodes = [
        episode("a1", "Tech Weekly", DEAL_A),
        EpisodeTranscript("a2", "Tech Weekly", "Tech Weekly 2", "https://feeds.example.org/tech-weekly.xml",
                          episode("x", "Tech Weekly", DEAL_B).segments),
        EpisodeTranscript("a3", "Tech Weekly", "Tech Weekly 3", "https://feeds.example.org/tech-weekly.xml",
                          episode("y", "Tech Weekly", DEAL_A.replace("at first", "for a year")).segments),
    ]
    stories = stories_of(episodes, embedder)
    assert all(s.shows == 1 and not s.coverage for s in stories)


def test_a_day_of_planted_insights_sends_only_claims_never_ads_intros_or_banter(embedder):
    result = run_day(day_episodes(), None, {}, embedder)
    assert 1 <= len(result.top) <= 5
    planted = [" ".join(t.lower().split()[:6]) for t in INSIGHTS.values()]
    for item in result.top:
        assert any(p in item.extractive_text.lower() for p in planted), item.extractive_text
        assert not any(w in item.insight.lower() for w in ("promo", "subscribe", "welcome", "patreon", "haha"))
        assert item.sources and item.sources[0].url.endswith(f"#t={int(item.sources[0].start_s)}")
    assert [i.rank for i in result.top] == list(range(1, len(result.top) + 1))


def test_a_day_where_every_show_is_banter_sends_nothing(embedder):
    shows = [episode(f"b{i}", f"Banter Show {i}", BANTER * 4) for i in range(3)]
    result = run_day(shows, None, {}, embedder)
    assert result.top == []
    assert result.dropped_by_reason.get("below_value_floor", 0) + result.excluded_by_reason.get("below_value_floor", 0) >= 1


def test_what_a_recent_digest_sent_is_not_sent_again(embedder):
    first = run_day(day_episodes(), None, {}, embedder)
    assert first.top
    past, _ = first.sent_evidence()
    again = run_day(day_episodes(), past, {}, embedder)
    sent = {i.candidate_id for i in first.top}
    assert not sent & {i.candidate_id for i in again.top}
    assert again.excluded_by_reason.get("repeats_past_digest", 0) >= len(first.top)


def test_no_show_fills_more_than_two_items_while_another_show_has_one_above_the_floor(embedder):
    claims = [INSIGHTS[k] for k in ("index_funds", "heat_pumps", "batteries", "restaurants", "judges", "gut")]
    busy = episode("m1", "Busy Show", " ".join(claims))
    quiet = episode("q1", "Quiet Show", f"{INSIGHTS['sleep']} {BANTER} {INSIGHTS['parking']}")
    result = run_day([busy, quiet], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    shows = [i.sources[0].podcast for i in result.top]
    # Busy Show waits while Quiet Show has a passage to give; a fifth item may be its third once Quiet has none
    assert shows[:4].count("Busy Show") == 2 and shows.count("Quiet Show") == 2, shows
    assert result.excluded_by_reason.get("show_has_two_items", 0) >= 1


def test_a_day_of_one_show_fills_the_five_from_it(embedder):
    claims = [INSIGHTS[k] for k in ("index_funds", "heat_pumps", "batteries", "restaurants", "judges", "gut")]
    only = episode("o1", "Only Show", f" {BANTER} ".join(claims))
    result = run_day([only], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    assert len(result.top) == 5 and {i.sources[0].podcast for i in result.top} == {"Only Show"}


def test_two_items_never_say_the_same_thing(embedder):
    twice = episode("t1", "Show A", f"{INSIGHTS['parking']} {BANTER} {INSIGHTS['parking_paraphrase']}")
    result = run_day([twice], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    texts = [i.extractive_text.lower() for i in result.top]
    assert sum("parking" in t for t in texts) <= 1


def test_an_untimed_transcript_is_cited_without_a_time(embedder):
    untimed = [Segment(i, 0.0, 0.0, s) for i, s in enumerate(INSIGHTS["judges"].split(", "))]
    ep = EpisodeTranscript("u1", "Plain Text Show", "Courts", "feed:plain", untimed, link="https://example.org/u1",
                           enclosure_url="https://cdn.example.org/u1.mp3")
    result = run_day([ep], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    assert result.top and result.top[0].sources[0].start_s is None
    assert result.top[0].sources[0].url == "https://example.org/u1"


def test_a_transcript_in_another_language_is_skipped_with_its_reason(embedder):
    german = episode("g1", "Deutsches Radio", "Die Preise für Batterien sind in zehn Jahren um neunzig Prozent "
                     "gefallen, weshalb Elektroautos jetzt so viel kosten wie Benziner. " * 3)
    german.language = "de"
    found = extract_candidates([german], embed=embedder.embed)
    assert found.kept == [] and "g1" in found.skipped_episodes


def test_a_five_hour_episode_keeps_a_bounded_number_of_candidates(embedder):
    from podigest_dagster.core.insights.candidates import MAX_PER_EPISODE

    long_text = " ".join(INSIGHTS.values()) + " "
    segments = []
    for k in range(60):
        segments += [Segment(len(segments) + i, s.start_s + 300 * k, s.end_s + 300 * k, s.text)
                     for i, s in enumerate(episode("x", "Long", long_text.replace("percent", f"percent ({k})")).segments)]
    long_episode = EpisodeTranscript("l1", "Marathon Show", "Five hours", "feed:long", segments)
    kept = extract_candidates([long_episode], min_value=-10.0, embed=embedder.embed).kept
    assert 0 < len(kept) <= MAX_PER_EPISODE


def test_the_llm_gets_the_topic_the_named_referents_the_speaker_and_the_storys_passages():
    messages = build_messages(["Tech Weekly: before [the passage]", "Game Business: [the other show's passage]"],
                              "Microsoft: Activision deal", ["Activision Blizzard"], "Satya Nadella")
    user = messages[1]["content"]
    assert "Topic: Microsoft: Activision deal" in user and "Named referents: Activision Blizzard" in user
    assert "Said by: Satya Nadella" in user and "Excerpt 2: Game Business" in user


def test_items_carry_a_topic_a_speaker_when_named_and_the_story_coverage(embedder):
    a = EpisodeTranscript("a1", "Tech Weekly", "Microsoft and Activision", "feed:tech",
                          [Segment(0, 0.0, 20.0, DEAL_A, speaker="Dana Reyes")])
    b = EpisodeTranscript("b1", "Game Business", "Call of Duty", "feed:games",
                          [Segment(0, 0.0, 20.0, DEAL_B, speaker="Speaker 1")])
    result = run_day([a, b], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    [item] = [i for i in result.top if "Activision" in i.insight]
    assert item.topic and len(item.topic.split()) >= 2
    assert item.speaker in ("Dana Reyes", "")
    assert item.support == 2 and len(item.coverage) == 1
    assert "Speaker 1" not in (item.speaker, *(c.podcast for c in item.coverage))


def test_a_rewriter_without_a_model_keeps_the_extracts():
    result_items = []
    InsightRewriter(LLMSettings(model=None)).rewrite_items(result_items)
    assert result_items == []


def test_the_floor_the_selection_uses_is_the_models_send_floor():
    assert SelectionConfig().send_floor is None and shipped_floors().send > shipped_floors().pool
    assert np.isfinite(shipped_floors().send)


PHILOSOPHY = (
    "A promise binds us even when keeping it costs more than breaking it, because what we owe is not the "
    "outcome but the trust the other person placed in our word. That is why a broken promise wrongs someone "
    "even when they never find out about it."
)


@pytest.mark.parametrize("style", ["lower", "upper"])
def test_caption_text_in_one_case_without_punctuation_sends_no_run_on_and_no_capitals(embedder, style):
    claims = [INSIGHTS[k] for k in ("index_funds", "heat_pumps", "judges")]
    bare = " ".join(c.replace(",", "").replace(".", "") for c in claims)
    text = bare.lower() if style == "lower" else bare.upper()
    result = run_day([episode("c1", "Caption Show", text)], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    # without punctuation no passage is a whole thought: nothing is sent rather than a run-on, never in capitals
    for item in result.top:
        assert item.insight[0].isupper() and not item.insight.isupper(), item.insight
        assert item.topic is None or len(item.topic.split()) >= 2, item.topic


def test_an_entity_free_passage_gets_a_topic_of_its_own_words_and_no_bracket(embedder):
    result = run_day([episode("p1", "Ethics Hour", PHILOSOPHY, title="On promises")], None, {}, embedder,
                     config=SelectionConfig(send_floor=-10.0))
    assert result.top
    item = result.top[0]
    assert "[" not in item.insight and item.names == []
    assert item.topic and len(item.topic.split()) >= 2 and "promise" in item.topic.lower(), item.topic


def test_caption_text_in_capitals_with_punctuation_reads_in_sentence_case(embedder):
    text = " ".join(INSIGHTS[k] for k in ("index_funds", "heat_pumps", "judges")).upper()
    result = run_day([episode("c2", "Caption Show", text)], None, {}, embedder, config=SelectionConfig(send_floor=-10.0))
    assert result.top
    for item in result.top:
        assert item.insight[0].isupper() and not item.insight.isupper(), item.insight
        assert not (item.topic or "").isupper(), item.topic


def test_a_show_repeating_a_passage_in_nearly_the_same_words_is_sent_once():
    from podigest_dagster.core.insights.candidates import Candidate
    from podigest_dagster.core.insights.selection import choose_stories
    from podigest_dagster.core.insights.stories import Story

    def story(n: int, text: str, direction: int) -> Story:
        vector = np.zeros(384, dtype=np.float32)
        vector[direction] = 1.0  # orthogonal vectors: only the words can tell they are one thing
        lead = Candidate(f"c{n}", "e1", "Repeat Show", "feed:repeat", "Ep", None, None, n, n, n, n, 0.0, 1.0,
                         text, text, score=2.0)
        return Story(n, lead, vector)

    claim = INSIGHTS["judges"]
    stories = [story(0, claim, 0), story(1, f"So, {claim}", 1), story(2, INSIGHTS["gut"], 2)]
    ranking = choose_stories(stories, None, SelectionConfig(send_floor=0.0))
    assert [s.lead.candidate_id for s, _, _ in ranking.stories] == ["c0", "c2"]
    assert ranking.excluded_by_reason["same_thing_as_a_chosen_item"] == 1
