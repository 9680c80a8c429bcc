"""Passages are whole thoughts that name their subject, support means the same claim, items carry a topic."""

from __future__ import annotations

import json

import pytest

from podigest_dagster.core.insights.candidates import (
    EpisodeTranscript,
    Segment,
    build_sentences,
    extract_candidates,
)
from podigest_dagster.core.insights.claims import same_claim, specific_terms
from podigest_dagster.core.insights.clustering import cluster_candidates, embed_passages
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.pipeline import run_day
from podigest_dagster.core.insights.ranking import choose_top, cluster_sources
from podigest_dagster.core.insights.rewrite import InsightRewriter, LLMSettings, build_messages
from podigest_dagster.core.insights.topics import clean_title, cluster_topic, entity_phrases, key_phrases
from podigest_dagster.core.transcribe.publisher import parse_transcript
from podigest_dagster_tests.support.insight_day import INSIGHTS, episode


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def turns_episode(episode_id: str, podcast: str, cues: list[tuple[str | None, str]]) -> EpisodeTranscript:
    """An episode whose transcript is cues of (speaker, text), four seconds each."""
    segments = [Segment(i, 4.0 * i, 4.0 * i + 4.0, text, speaker=who) for i, (who, text) in enumerate(cues)]
    return EpisodeTranscript(episode_id, podcast, f"{podcast} {episode_id}", f"https://{episode_id}.example/f",
                             segments, enclosure_url=f"https://cdn.example/{episode_id}.mp3")


# --- speakers from the publisher's transcript --------------------------------------------------------


def test_speakers_come_from_voice_tags_json_and_name_prefixes_and_generic_labels_count_as_none():
    vtt = (b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Bryan Cantrill>So the thing that\n\n"
           b"00:00:03.000 --> 00:00:05.000\n<v Adam Leventhal>we built runs on Rust.\n\n"
           b"00:00:05.000 --> 00:00:07.000\n<v Speaker 2>Yes.\n")
    assert [s.speaker for s in parse_transcript(vtt, "text/vtt", "e.vtt")] == ["Bryan Cantrill", "Adam Leventhal", None]
    doc = {"segments": [{"speaker": "SPEAKER_01", "startTime": 0, "endTime": 2, "body": "Hello."},
                        {"speaker": "Lenny Rachitsky", "startTime": 2, "endTime": 4, "body": "Welcome."}]}
    assert [s.speaker for s in parse_transcript(json.dumps(doc).encode(), "application/json", "e.json")] == [
        None, "Lenny Rachitsky"]
    text = b"ANDREW HUBERMAN: Light in the morning sets the clock.\n\nNote: this is not medical advice."
    segments = parse_transcript(text, "text/plain", "e.txt")
    assert [(s.speaker, s.text) for s in segments] == [
        ("ANDREW HUBERMAN", "Light in the morning sets the clock."), (None, "Note: this is not medical advice.")]


# --- whole thoughts ------------------------------------------------------------------------------------


def test_a_sentence_never_crosses_a_change_of_speaker_and_a_turn_that_continues_a_sentence_cannot_open():
    sentences = build_sentences([
        Segment(0, 0.0, 4.0, "The reason our team moved to Rust is that", speaker="Bryan"),
        Segment(1, 4.0, 8.0, "the compiler catches memory bugs before they ship. Teams ship faster.",
                speaker="Adam"),
    ])
    assert [(s.speaker, s.opens) for s in sentences] == [("Bryan", True), ("Adam", False), ("Adam", True)]


def test_a_clause_cut_from_a_run_on_at_a_bare_comma_never_opens_a_passage_even_on_a_capital():
    # an unpunctuated publisher transcript: one 60-word sentence cut at its middle comma
    run_on = (
        "In a paper published in the journal Neuroimage a team of scientists from the Centre for Mind "
        "and Brain Sciences at the University of Trento, Italy studied the brains of professional Sanskrit "
        "reciters who memorise texts of a hundred thousand words and found their grey matter much denser"
    )
    sentences = build_sentences([Segment(0, 0.0, 30.0, run_on, speaker="Amit")])
    assert len(sentences) == 2 and sentences[0].text.endswith("Trento,")
    assert [s.opens for s in sentences] == [True, False]
    ep = turns_episode("e1", "Seen Daily", [("Amit", run_on + ".")])
    kept = extract_candidates([ep]).kept
    assert not any(c.raw_text.startswith("Italy") for c in kept)
    assert all("Trento, Italy studied" in c.text for c in kept if "Italy" in c.text)


def test_a_speaker_who_starts_over_on_a_capitalised_but_ends_the_abandoned_phrase_and_opens_nothing():
    segments = [
        Segment(0, 0.0, 3.0, "So then, quick rapid fire through a", speaker="Marques"),
        Segment(1, 3.0, 9.0, "But also, if the phone is open and you squeeze it hard, it closes itself to prevent "
                "damage and then flashes an error message.", speaker="Marques"),
        Segment(2, 9.0, 12.0, "The hinge motor is rated for two hundred thousand folds.", speaker="Marques"),
    ]
    sentences = build_sentences(segments)
    assert [s.text.split()[0] for s in sentences] == ["So", "But", "The"]
    assert sentences[0].end_s <= 3.0 and sentences[1].start_s >= 3.0
    assert [s.opens for s in sentences][1] is False
    glued = build_sentences([Segment(0, 0.0, 12.0, " ".join(s.text for s in segments), speaker="Marques")])
    assert [(s.text.split()[0], s.opens, s.abandoned) for s in glued] == [
        ("So", True, True), ("But", False, False), ("The", True, False)
    ], "the same when the publisher glued both into one cue"
    assert len(build_sentences([Segment(0, 0.0, 3.0, "We tried Rock And Roll and but then it rained.")])) == 1
    kept = extract_candidates([EpisodeTranscript("e2", "Phone Hour", "Rollable", "feed", segments)]).kept
    assert not any("through a" in c.raw_text or c.raw_text.startswith("But") for c in kept)


def test_a_passage_that_breaks_off_mid_phrase_is_not_a_whole_thought():
    from podigest_dagster.core.insights.candidates import trails_off

    assert trails_off("The grey matter holds neurons that can trigger freezing, can trigger the...")
    assert not trails_off("And then the whole market was gone\u2026")
    ep = turns_episode("e1", "Brain Lab", [(None, "The periaqueductal grey holds the neurons that trigger freezing in "
                                                   "fear and can trigger the...")])
    result = extract_candidates([ep])
    assert not result.kept and result.dropped_by_reason.get("trails_off") == 1
    listed = turns_episode("e2", "Model Talk", [(None, "Examples like Gmail Smart Reply, Smart Compose, and then "
                                                      "autocomplete on the phones we carry every day...")])
    assert not extract_candidates([listed]).kept, "a passage whose last words trail away is not a whole thought"


def test_a_passage_never_starts_mid_sentence_lower_case_or_with_a_connective():
    claim = INSIGHTS["batteries"]
    ep = turns_episode("e1", "Tech Daily", [
        ("Host", "What everyone missed this week is how cheap"),
        ("Guest", f"batteries became for carmakers, honestly. {claim}"),
        ("Host", "Because that changes the whole market for buyers in Europe and in China alike."),
    ])
    kept = extract_candidates([ep]).kept
    assert kept, "the claim itself is a whole thought"
    assert all(c.text[0].isupper() for c in kept)
    assert not any(c.raw_text.startswith(("batteries", "Because")) for c in kept)
    assert extract_candidates([ep]).dropped_by_reason.get("mid_thought_start", 0) >= 1


def test_a_sentence_led_by_and_or_but_never_opens_a_passage_even_at_a_new_turn():
    claim = INSIGHTS["judges"]
    ep = turns_episode("e1", "Law Hour", [
        ("Host", claim),
        ("Guest", "And courts in three countries have now moved their hearings to the mornings because of it."),
        ("Host", "But appeal judges reviewing those same cases showed no such drop after their lunch break."),
    ])
    kept = extract_candidates([ep]).kept
    assert kept and not any(c.raw_text.startswith(("And", "But")) for c in kept)


def test_a_passage_that_points_at_an_earlier_part_of_the_episode_is_dropped():
    from podigest_dagster.core.insights.text import has_unresolved_reference, refers_back

    assert refers_back("Beta blockers reduce the stress response that we talked about earlier in the show.")
    assert refers_back("As I said, the rules changed in March because the regulator lost its case.")
    assert not refers_back("We talked to three regulators who said the rules changed in March.")
    assert refers_back("I don't necessarily think that's necessarily the case, but equity is most of the pay.")
    assert refers_back("Well, I don't think that's true: the rules changed in March.")
    assert not refers_back("I don't think that rule survives an appeal, because the regulator lost twice.")
    assert refers_back("I wouldn't say it's anti-liberal, but liberalism here is read as selfish individualism.")
    assert refers_back("Earlier we talked about whether to train when you are short of sleep.")
    assert has_unresolved_reference("One are prior memories coming from the brain areas that store them.")
    assert not has_unresolved_reference("One of the biggest costs of a data centre is the water it uses.")
    ep = turns_episode("e1", "Brain Hour", [
        ("Host", "Beta blockers lower the heart rate and reduce the stress response that we talked about "
                 "earlier, which is why surgeons sometimes take them before long operations."),
    ])
    assert not extract_candidates([ep]).kept


def test_a_pronoun_led_passage_is_extended_back_to_the_sentence_that_names_it_or_dropped():
    named = ("Nvidia sold more data-centre chips last quarter than in the whole of the previous year. "
             "It did so because cloud providers doubled their orders to train larger models.")
    kept = [c.raw_text for c in extract_candidates([episode("e1", "Chip Talk", named)]).kept]
    assert kept and all(not text.startswith("It did") for text in kept)
    assert any("Nvidia" in text and "doubled" in text for text in kept)
    orphan = "It did so because cloud providers doubled their orders to train ever larger language models."
    assert extract_candidates([episode("e2", "Chip Talk", orphan)]).kept == []


# --- support means the same claim ------------------------------------------------------------------------

OPENERS = [
    "Alright. So it's from, actually I believe it was a talk he gave at a conference a while back, right?",
    "Okay so, actually, I think it was a talk that he gave once somewhere, I believe, a while back.",
    "Alright, so, actually I believe he gave that talk at some point, a good while back, I think.",
]


def test_banter_said_on_three_shows_never_forms_a_supported_cluster(embedder):
    shows = [episode(f"b{i}", name, f"{opener} {INSIGHTS[topic]}")
             for i, (name, opener, topic) in enumerate(zip(["Show A", "Show B", "Show C"], OPENERS,
                                                               ["sleep", "judges", "gut"], strict=True))]
    kept = extract_candidates(shows).kept
    vectors, sentences = embed_passages([c.text for c in kept], embedder.embed)
    clusters = cluster_candidates(kept, vectors, sentence_vectors=sentences)
    assert all(c.support == 1 for c in clusters)


def test_a_day_where_every_show_is_banter_gets_an_honest_short_digest_not_padding(embedder):
    banter = [
        "Welcome back to the show, it is so good to have you both here again.",
        "Yeah, that's so funny, I love that, totally, we should do that more often.",
        "I went to the beach with my kids last weekend and honestly it was great, really great.",
        "I don't know how you answer that, to be honest, I'm not sure anyone can.",
        "This episode is brought to you by Acme Mattress, use code SLEEP for twenty percent off.",
        "Thanks for listening, please subscribe and leave us a review, see you next week.",
    ]
    shows = [episode(f"j{i}", name, " ".join(banter[i:] + banter[:i]))
             for i, name in enumerate(["Laugh Track", "Couch Talk", "Weekend Hangs"])]
    result = run_day(shows, None, {}, embedder)
    assert result.top == []  # nothing worth sending: an empty digest, which says so


def test_paraphrases_of_one_claim_support_each_other_but_same_topic_different_claims_do_not(embedder):
    a, b = INSIGHTS["heat_pumps"], INSIGHTS["heat_pumps_paraphrase"]
    other = ("Heat pumps are noisy in dense neighbourhoods, so several cities now limit outdoor units "
             "to forty decibels at night.")
    va, vb, vo = embedder.embed([a, b, other])
    assert same_claim(a, b, float(va @ vb))
    assert not same_claim(a, other, float(va @ vo))
    assert "#20" in specific_terms(a) and "#20" in specific_terms(b)


def test_a_show_whose_passage_is_about_something_else_is_neither_counted_nor_cited(embedder):
    shows = [
        episode("p1", "City Lab", INSIGHTS["parking"]),
        episode("p2", "Urban Money", INSIGHTS["parking_paraphrase"]),
        episode("p3", "Car Talk", "Parking garages in big cities are usually built by private developers who "
                "charge by the hour, because land near offices is scarce and valuable for them."),
    ]
    result = run_day(shows, None, None, embedder)
    top = next(item for item in result.top if "parking" in item.insight.lower())
    assert top.support == 2
    assert sorted(s.podcast for s in top.sources) == ["City Lab", "Urban Money"]


# --- every item names its subject ------------------------------------------------------------------------


def test_an_items_topic_names_its_subject(embedder):
    result = run_day([episode("h1", "Home Energy", INSIGHTS["heat_pumps"]),
                      episode("h2", "Grid Talk", INSIGHTS["heat_pumps_paraphrase"])], None, None, embedder)
    [item] = result.top
    assert "heat pump" in item.topic.lower()
    nvidia = cluster_topic(
        ["Nvidia will ship its H100 chips to China again, because the Commerce Department granted a licence.",
         "The Commerce Department let Nvidia sell H100 chips in China after the export rule change."],
        [clean_title("Nvidia's China problem | Tech Daily 2026-03-10", "Tech Daily")], embedder.embed)
    assert "nvidia" in nvidia.lower() or "h100" in nvidia.lower()
    assert clean_title("Episode 12: Chips | Tech Daily 2026-03-10", "Tech Daily") == "Chips"


def test_a_topic_is_a_name_or_a_noun_phrase_never_a_piece_of_a_clause(embedder):
    cases = [
        ("Last spring our engineers started using coding agents for every pull request at Ledgerly, "
         "and the review time fell by half.", ("engineers started", "started using")),
        ("AI has made individual PMs incredibly productive, but a whole team agreeing on a roadmap still breaks.",
         ("incredibly",)),
        ("Tim Ferriss's failure resume lists every rejection he got before his first book sold.", ("'s",)),
        ("OpenAI and Anthropic both cut their API prices by half this year because inference got cheaper.",
         ("Openai",)),
        ("Heat pumps are the quiet star of city climate plans. Instead of burning gas, they pull warmth from "
         "the outside air.", ("Instead",)),  # a sentence's first word before 'of' is no name
        ("I think there's architectural decisions when junior engineers pick between Postgres and another "
         "database for the next feature.", ("there's", "There's", "pick")),
    ]
    for text, never in cases:
        for embed in (embedder.embed, None):
            topic = cluster_topic([text], [], embed)
            assert topic and not any(piece in topic for piece in never), (topic, text)
    assert cluster_topic([cases[3][0]], [], embedder.embed).startswith("OpenAI and Anthropic")
    assert cluster_topic([cases[2][0]], [], embedder.embed).startswith("Tim Ferriss")


def test_a_placeholder_letter_is_no_name_and_a_hyphened_modifier_leaves_the_name_it_qualifies(embedder):
    goals = ("A company will say we need to increase our revenue by X, or our retention by Y, and the product "
             "team then chases the goals without any structure of what success looks like.")
    assert entity_phrases(goals) == []
    assert not cluster_topic([goals], [], embedder.embed).startswith(("X", "Y"))
    windows = "Unless you have a Windows-specific need, like one app or one game, most people want the premium Mac."
    assert "Windows" in entity_phrases(windows) and "Windows-specific" not in entity_phrases(windows)
    # a name the vocabulary does not hold keeps its capital where a clause starts: 'Qwen', not 'qwen'
    qwen = "On the other end, Qwen reads forums all day and flags the posts worth a look for our research team."
    assert "Qwen" in key_phrases(qwen) and "qwen" not in key_phrases(qwen)
    for embed in (embedder.embed, None):
        topic = cluster_topic(["Just to help you remember berberine, it comes from tree bark, and it seems to "
                               "eliminate canker sores quickly."], [], embed)
        assert not topic.lower().startswith(("remember", "eliminate")), topic


def test_a_transcript_without_timestamps_is_cited_without_a_time(embedder):
    untimed = EpisodeTranscript("u1", "Sleep Show", "Sleep and the heart", "https://u.example/f",
                                [Segment(0, 0.0, 0.0, INSIGHTS["sleep"])], link="https://u.example/ep")
    kept = extract_candidates([untimed]).kept
    vectors, sentences = embed_passages([c.text for c in kept], embedder.embed)
    [cluster] = cluster_candidates(kept, vectors, sentence_vectors=sentences)
    [source] = cluster_sources(cluster)
    assert source.start_s is None and source.url == "https://u.example/ep"
    assert choose_top([cluster]).items[0].sources[0].start_s is None


def test_a_transcript_in_a_language_the_models_do_not_read_is_skipped_with_its_reason(embedder):
    english = episode("en1", "Home Energy", INSIGHTS["heat_pumps"])
    german = EpisodeTranscript(
        "de1", "Energie Heute", "Wärmepumpen", "https://de.example/f",
        [Segment(0, 0.0, 6.0, "Wärmepumpen liefern etwa dreimal mehr Wärme, als sie an Strom verbrauchen, "
                              "weil sie die Wärme der Außenluft nutzen.")],
        language="de",
    )
    hindi = EpisodeTranscript(  # no language recorded: the script tells
        "hi1", "Samvaad", "Urja", "https://hi.example/f",
        [Segment(0, 0.0, 6.0, "हीट पंप बिजली की तुलना में लगभग तीन गुना अधिक गर्मी देते हैं, क्योंकि वे बाहर की हवा से गर्मी लेते हैं।")],
    )
    found = extract_candidates([english, german, hindi], embed=embedder.embed)
    assert set(found.skipped_episodes) == {"de1", "hi1"}
    assert "language 'de' is not handled" in found.skipped_episodes["de1"]
    assert "not Latin" in found.skipped_episodes["hi1"]
    assert found.dropped_by_reason["language"] == 2
    assert {c.episode_id for c in found.kept} == {"en1"}


def test_a_sentence_that_switched_script_mid_way_is_never_a_passage(embedder):
    garbled = "Elementary maximus special wind secretary game structured दु abuse main come से यwyn एक लोगोन to make cricket."
    mixed = episode("m1", "Seen Today", f"{INSIGHTS['heat_pumps']} {garbled} {INSIGHTS['sleep']}")
    found = extract_candidates([mixed], embed=embedder.embed)
    assert not found.skipped_episodes
    assert found.kept and not any("cricket" in c.raw_text for c in found.kept)
    assert found.dropped_by_reason.get("another_script", 0) >= 1
    from podigest_dagster.core.insights.language import sentence_in_another_script

    assert not sentence_in_another_script("The π in the formula is the ratio of a circle's circumference.")
    assert not sentence_in_another_script("Zürich and São Paulo both cut their speed limits to thirty.")


def test_a_long_episode_stays_within_a_bounded_number_of_passages_and_memory(embedder):
    import tracemalloc

    from podigest_dagster.core.insights.candidates import MAX_PER_EPISODE

    lines = list(INSIGHTS.values())
    hour = [Segment(i, 4.0 * i, 4.0 * i + 4.0, lines[i % len(lines)]) for i in range(900)]  # an hour of cues
    long = EpisodeTranscript("long", "Marathon Show", "An hour of claims", "https://long.example/f", hour)
    extract_candidates([episode("warm", "Warm Up", lines[0])], embed=embedder.embed)  # models loaded first
    tracemalloc.start()
    try:
        found = extract_candidates([long], embed=embedder.embed)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < len(found.kept) <= MAX_PER_EPISODE
    assert found.dropped_by_reason["episode_limit"] > 0
    assert peak < 96 * 2**20, f"{peak / 2**20:.0f} MiB traced for an hour"


# --- the LLM path gets context -----------------------------------------------------------------------------


def test_the_llm_gets_the_topic_and_each_passage_with_what_was_said_around_it(embedder):
    shows = [episode("h1", "Home Energy", f"{INSIGHTS['sleep']} {INSIGHTS['heat_pumps']}"),
             episode("h2", "Grid Talk", INSIGHTS["heat_pumps_paraphrase"])]
    item = next(i for i in run_day(shows, None, None, embedder).top if "pump" in i.insight)
    assert len(item.evidence) == 2 and all("[" in e and "]" in e for e in item.evidence)
    assert any("sleep" in e for e in item.evidence), "the sentences before the passage come along"
    messages = build_messages(item.evidence, item.topic)
    assert messages[1]["content"].startswith(f"Topic: {item.topic}")


def test_an_llm_reply_that_invents_a_number_keeps_the_extract():
    settings = LLMSettings(model="openai/gpt-4o-mini", retries=0, retry_backoff_s=0)
    reply = ("Heat pumps now heat homes at minus 45 degrees because new compressors stay efficient in "
             "deep cold. That removes the last argument for gas boilers in northern climates.")
    settings.completion_kwargs = {"mock_response": json.dumps({"insight": reply})}
    text, status = InsightRewriter(settings).rewrite([INSIGHTS["heat_pumps"]], "Heat pumps in deep cold")
    assert text is None and status == "llm_failed: number_not_in_excerpts"


def test_a_topic_that_stops_at_an_adjective_takes_the_noun_the_passages_say_with_it():
    from podigest_dagster.core.insights.topics import _completed

    phrases = {"deep neural": 2.0, "deep neural networks": 2.0, "neural networks": 2.0, "economic": 1.0}
    assert _completed("deep neural", phrases) == "deep neural networks"
    assert _completed("economic", phrases) == "economic", "no longer phrase: kept as it is"
    assert _completed("neural networks", phrases) == "neural networks", "ends in a noun"
