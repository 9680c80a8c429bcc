from podigest_dagster.core.insights.candidates import (
    EpisodeTranscript,
    Segment,
    build_sentences,
    extract_candidates,
    sentence_reason,
)
from podigest_dagster_tests.support.insight_day import INSIGHTS, episode

CLAIM = INSIGHTS["restaurants"]


def kept_texts(*episodes: EpisodeTranscript, past: dict[str, list[str]] | None = None) -> list[str]:
    return [c.text for c in extract_candidates(list(episodes), past).kept]


def reasons(*episodes: EpisodeTranscript, past: dict[str, list[str]] | None = None) -> dict[str, int]:
    return extract_candidates(list(episodes), past).dropped_by_reason


def test_sentences_are_rebuilt_across_segments_with_their_times():
    segments = [
        Segment(0, 0.0, 4.0, "Heat pumps work in the cold because new"),
        Segment(1, 4.0, 8.0, "compressors stay efficient. Gas boilers"),
        Segment(2, 8.0, 10.0, "are losing ground."),
    ]
    sentences = build_sentences(segments)
    assert [s.text for s in sentences] == [
        "Heat pumps work in the cold because new compressors stay efficient.",
        "Gas boilers are losing ground.",
    ]
    assert sentences[0].seq_start == 0 and sentences[0].seq_end == 1
    assert sentences[0].start_s == 0.0 and 4.0 < sentences[0].end_s <= 8.0
    assert 4.0 < sentences[1].start_s < 8.0 and sentences[1].end_s == 10.0


def test_sponsor_reads_are_dropped():
    for ad in (
        "This episode is brought to you by Acme Mattress, the comfiest bed you will ever own.",
        "Use code SAVINGS at checkout for twenty percent off your first order today.",
        "Head over to brightbank dot com slash podcast to start your free trial of the premium plan.",
        "Support for this podcast comes from Northwind, the accounting software for small firms.",
        "This show is supported by Bright Home Solar, panels and batteries fitted in a single day.",
        "The show is imponsored by Green Plate, the meal kit with fresh ingredients delivered to your door.",
    ):
        assert sentence_reason(ad) == "ad", ad
        assert kept_texts(episode("e1", "Show", f"{ad} {CLAIM}")) == [CLAIM]
    assert reasons(episode("e1", "Show", f"This episode is sponsored by Acme. {CLAIM}"))["ad"] >= 1


def test_intros_and_outros_are_dropped():
    for line in (
        "Welcome back to The Long Road, I'm your host Maria and this is episode forty.",
        "Thanks so much for listening, and we'll see you next week on the show.",
        "You're listening to Field Notes, a show about how farms really work.",
    ):
        assert sentence_reason(line) == "intro_outro", line
        assert kept_texts(episode("e1", "Show", f"{line} {CLAIM}")) == [CLAIM]


def test_calls_to_subscribe_rate_review_and_support_are_dropped():
    for line in (
        "If you enjoy the show, please subscribe and leave us a review wherever you get your podcasts.",
        "Join our Patreon to support the show and get every episode without ads, it really helps.",
        "Please rate and review us on Apple Podcasts, it helps other people find the show.",
    ):
        assert sentence_reason(line) == "subscribe_call", line
        assert kept_texts(episode("e1", "Show", f"{CLAIM} {line}")) == [CLAIM]


def test_small_talk_and_banter_are_dropped():
    for line in (
        "How are you doing today, did you have a good weekend with the family?",
        "Oh man, the weather here is terrible this week, it has not stopped raining for days, haha.",
    ):
        assert sentence_reason(line) == "small_talk", line
        assert kept_texts(episode("e1", "Show", f"{line} {CLAIM}")) == [CLAIM]
    banter = "Yeah, that's so funny, I love that, totally, it was great, really really great stuff."
    assert kept_texts(episode("e1", "Show", f"{banter} {CLAIM}")) == [CLAIM]


def test_an_episode_table_of_contents_is_dropped():
    line = "Today we'll talk about school lunches, and later in the show we'll get to vending machines."
    assert sentence_reason(line) == "table_of_contents"
    assert kept_texts(episode("e1", "Show", f"{line} {CLAIM}")) == [CLAIM]
    outline = "In our conversation, we cover a ton of ground, including how the team prices its plans."
    assert sentence_reason(outline) == "table_of_contents"
    assert sentence_reason("In our conversation with regulators, the rules came up twice.") is None


def test_a_shows_disclaimer_is_filler_not_an_insight():
    assert sentence_reason("Case Closed is for information only and is not legal advice.") == "intro_outro"
    assert sentence_reason("This podcast is for general informational purposes only.") == "intro_outro"
    assert sentence_reason("A lawyer's letter is not advice you can ignore.") is None


def test_a_bare_question_is_dropped_but_an_answer_keeps_its_question_for_context():
    question = "Why do so many restaurants close in their first year of business?"
    assert kept_texts(episode("e1", "Show", question)) == []
    answer = "Because owners underestimate rent and staff costs, which together eat about sixty percent of revenue."
    texts = kept_texts(episode("e1", "Show", f"{question} {answer}"))
    assert texts == [f"{question} {answer}"]


def test_a_dangling_reference_is_extended_back_to_its_referent_or_dropped():
    referent = "Battery pack prices fell by about ninety percent over the last decade in every major market."
    dangling = "That is why electric cars now cost about the same as petrol cars in Europe and China."
    texts = kept_texts(episode("e1", "Show", f"{referent} {dangling}"))
    assert texts == [f"{referent} {dangling}"]
    after_ad = f"Use code SAVE for ten percent off. {dangling}"
    assert kept_texts(episode("e1", "Show", after_ad)) == []
    assert reasons(episode("e1", "Show", after_ad))["dangling_reference"] >= 1


def test_a_passage_leaning_on_that_noun_or_their_is_extended_back_to_the_sentence_it_needs():
    referent = "A typical family throws away about a quarter of the food it buys every single week."
    leaning = "Planning meals and shopping with a list cuts that waste, and it saves a family of four a hundred dollars."
    texts = kept_texts(episode("e1", "Show", f"Welcome to the show. {referent} {leaning}"))
    assert texts == [f"{referent} {leaning}"]
    estimate = "When you count insurance, upkeep and parking, the real total is roughly double their estimate."
    drivers = "Drivers routinely underestimate what a car costs them over a year of ownership."
    assert kept_texts(episode("e2", "Show", f"Use code CAR for ten percent off. {estimate}")) == []
    assert kept_texts(episode("e3", "Show", f"{drivers} {estimate}")) == [f"{drivers} {estimate}"]


def test_a_shows_recurring_boilerplate_is_dropped_within_the_day_and_against_its_past():
    boilerplate = "Field Notes is the only show where three farmers explain how your food really gets grown."
    monday = episode("e1", "Field Notes", f"{boilerplate} {CLAIM}")
    tuesday = episode("e2", "Field Notes", f"{boilerplate} {INSIGHTS['judges']}")
    texts = kept_texts(monday, tuesday)
    assert boilerplate not in texts and CLAIM in texts and INSIGHTS["judges"] in texts
    assert reasons(monday, tuesday)["boilerplate"] >= 2
    alone = episode("e3", "Field Notes", f"{boilerplate} {CLAIM}")
    assert boilerplate in kept_texts(alone)
    past = {alone.feed_url: [f"Some other day. {boilerplate.replace('three', '3')} Thanks."]}
    assert kept_texts(alone, past=past) == [CLAIM]


def test_the_same_sentence_on_two_different_shows_is_not_boilerplate():
    texts = kept_texts(episode("e1", "Show A", CLAIM), episode("e2", "Show B", CLAIM))
    assert texts == [CLAIM, CLAIM]


def test_fillers_are_removed_from_the_kept_text():
    spoken = "Um, so yeah, restaurants make most of their, uh, profit on drinks rather than food, you know, since a soda costs a few cents."
    [text] = kept_texts(episode("e1", "Show", spoken))
    assert text == "Restaurants make most of their profit on drinks rather than food since a soda costs a few cents."
