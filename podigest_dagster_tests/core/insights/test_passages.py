"""Whole-thought passages: sentences rebuilt across segments within a speaker's turn, and the runs of them
that may be a passage (what a passage is worth is the value model's call, tested in test_value.py)."""

import json

from podigest_dagster.core.insights.candidates import EpisodeTranscript, extract_candidates
from podigest_dagster.core.insights.passages import (
    MAX_SENTENCES,
    MAX_WORDS,
    build_boilerplate_index,
    build_sentences,
    is_housekeeping,
    passage_windows,
    trails_off,
)
from podigest_dagster.core.transcribe.publisher import parse_transcript
from podigest_dagster.core.transcribe.segments import Segment
from podigest_dagster_tests.support.insight_day import INSIGHTS, episode


def turns(cues: list[tuple[str | None, str]]) -> list[Segment]:
    return [Segment(i, 4.0 * i, 4.0 * i + 4.0, text, speaker=who) for i, (who, text) in enumerate(cues)]


def windows_of(segments: list[Segment], blocked: set[int] | None = None) -> list[str]:
    sentences = build_sentences(segments)
    spans = passage_windows(sentences, [i in (blocked or set()) for i in range(len(sentences))])
    return [" ".join(s.text for s in sentences[a : b + 1]) for a, b in spans]


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
    assert [(s.speaker, s.text) for s in parse_transcript(text, "text/plain", "e.txt")] == [
        ("ANDREW HUBERMAN", "Light in the morning sets the clock."), (None, "Note: this is not medical advice.")]


def test_a_sentence_never_crosses_a_change_of_speaker_and_a_turn_that_continues_a_sentence_cannot_open():
    sentences = build_sentences(turns([
        ("Bryan", "The reason our team moved to Rust is that"),
        ("Adam", "the compiler catches memory bugs before they ship. Teams ship faster."),
    ]))
    assert [(s.speaker, s.opens) for s in sentences] == [("Bryan", True), ("Adam", False), ("Adam", True)]


def test_a_clause_cut_from_a_run_on_at_a_bare_comma_never_opens_a_passage_even_on_a_capital():
    run_on = (
        "In a paper published in the journal Neuroimage a team of scientists from the Centre for Mind "
        "and Brain Sciences at the University of Trento, Italy studied the brains of professional Sanskrit "
        "reciters who memorise texts of a hundred thousand words and found their grey matter much denser"
    )
    sentences = build_sentences([Segment(0, 0.0, 30.0, run_on, speaker="Amit")])
    assert len(sentences) == 2 and sentences[0].text.endswith("Trento,")
    assert [s.opens for s in sentences] == [True, False]
    assert not any(w.startswith("Italy") for w in windows_of([Segment(0, 0.0, 30.0, run_on + ".", speaker="Amit")]))


def test_a_speaker_who_starts_over_on_a_capitalised_but_ends_the_abandoned_phrase_and_opens_nothing():
    segments = [
        Segment(0, 0.0, 3.0, "So then, quick rapid fire through a", speaker="Marques"),
        Segment(1, 3.0, 9.0, "But also, if the phone is open and you squeeze it hard, it closes itself to prevent "
                "damage and then flashes an error message.", speaker="Marques"),
        Segment(2, 9.0, 12.0, "The hinge motor is rated for two hundred thousand folds.", speaker="Marques"),
    ]
    sentences = build_sentences(segments)
    assert [s.text.split()[0] for s in sentences] == ["So", "But", "The"]
    assert [s.opens for s in sentences][1] is False
    glued = build_sentences([Segment(0, 0.0, 12.0, " ".join(s.text for s in segments), speaker="Marques")])
    assert [(s.text.split()[0], s.opens, s.abandoned) for s in glued] == [
        ("So", True, True), ("But", False, False), ("The", True, False)
    ], "the same when the publisher glued both into one cue"
    assert not any("through a" in w or w.startswith("But") for w in windows_of(segments))


def test_a_passage_that_breaks_off_or_trails_away_is_not_a_whole_thought():
    assert trails_off("The grey matter holds neurons that can trigger freezing, can trigger the...")
    assert not trails_off("And then the whole market was gone\u2026")
    assert windows_of(turns([(None, "The periaqueductal grey holds the neurons that trigger freezing in fear and "
                                    "can trigger the...")])) == []
    assert windows_of(turns([(None, "Examples like Gmail Smart Reply, Smart Compose, and then autocomplete on the "
                                    "phones we carry every day...")])) == []


def test_a_passage_never_starts_mid_sentence_lower_case_or_with_and_but_because():
    claim = INSIGHTS["batteries"]
    found = windows_of(turns([
        ("Host", "What everyone missed this week is how cheap"),
        ("Guest", f"batteries became for carmakers, honestly. {claim}"),
        ("Host", "Because that changes the whole market for buyers in Europe and in China alike."),
        ("Guest", "And courts in three countries have now moved their hearings to the mornings because of it."),
    ]))
    assert claim in found
    assert not any(w.startswith(("batteries", "Because", "And")) for w in found)


def test_a_passage_is_one_to_five_sentences_of_one_turn_within_the_word_limits():
    sentence = "Battery packs got ninety percent cheaper in ten years, so electric cars now cost what petrol cars do."
    found = windows_of(turns([("Ann", " ".join([sentence] * 7)), ("Bob", sentence)]))
    assert found and all(len(w.split()) <= MAX_WORDS for w in found)
    assert all(w.count(sentence) <= MAX_SENTENCES for w in found)
    assert sentence in found, "the other speaker's one sentence is a passage of its own, never joined to Ann's"
    assert windows_of(turns([(None, "Prices went up again.")])) == [], "too short to say anything"


def test_a_blocked_sentence_is_never_inside_a_passage():
    read = "This episode is brought to you by Acme, use code SAVE for ten percent off at acme dot com."
    claim = INSIGHTS["judges"]
    found = windows_of(turns([(None, f"{claim} {read} {INSIGHTS['gut']}")]), blocked={1})
    assert claim in found and INSIGHTS["gut"] in found and not any("Acme" in w for w in found)


def test_the_show_talking_about_itself_is_housekeeping_and_a_claim_is_not():
    for sentence in ("Welcome back to Money Matters, I'm your host Dana.", "Please rate and review us on Apple Podcasts.",
                     "Later in the show we'll get to bike lanes.", "Grid Talk is an independent production."):
        assert is_housekeeping(sentence), sentence
    assert not any(is_housekeeping(claim) for claim in INSIGHTS.values())


def test_housekeeping_never_rides_along_with_a_claim_into_a_candidate():
    ep = episode("e1", "Grid Talk", f"You're listening to Grid Talk, I'm your host Sam. {INSIGHTS['heat_pumps']}")
    kept = extract_candidates([ep], min_value=-10.0).kept
    assert kept and not any("listening to" in c.text for c in kept)


def test_a_shows_recurring_boilerplate_is_found_within_the_day_and_against_its_past():
    boilerplate = "Field Notes is the only show where three farmers explain how your food really gets grown."
    monday = episode("e1", "Field Notes", f"{boilerplate} {INSIGHTS['restaurants']}")
    tuesday = episode("e2", "Field Notes", f"{boilerplate} {INSIGHTS['judges']}")
    feed = monday.feed_url
    index = build_boilerplate_index(
        [(feed, e.episode_id, build_sentences(e.segments)) for e in (monday, tuesday)], {}
    )
    assert index.is_boilerplate(feed, "e1", boilerplate) and not index.is_boilerplate(feed, "e1", INSIGHTS["restaurants"])
    alone = build_boilerplate_index([(feed, "e3", build_sentences(monday.segments))], {})
    assert not alone.is_boilerplate(feed, "e3", boilerplate)
    past = build_boilerplate_index([(feed, "e3", build_sentences(monday.segments))],
                                   {feed: [f"Some other day. {boilerplate.replace('three', '3')} Thanks."]})
    assert past.is_boilerplate(feed, "e3", boilerplate)
    other_show = build_boilerplate_index(
        [(feed, "e1", build_sentences(monday.segments)), ("other", "e9", build_sentences(monday.segments))], {}
    )
    assert not other_show.is_boilerplate(feed, "e1", INSIGHTS["restaurants"]), "the same sentence on two shows"


def test_fillers_are_removed_from_the_kept_text():
    spoken = ("Um, so yeah, restaurants make most of their, uh, profit on drinks rather than food, you know, since a "
              "soda costs a few cents to pour and sells for three dollars.")
    [candidate] = extract_candidates([episode("e1", "Show", spoken)], min_value=-10.0).kept
    assert candidate.text == ("Restaurants make most of their profit on drinks rather than food since a soda costs "
                              "a few cents to pour and sells for three dollars.")


def test_an_episode_with_nothing_to_say_gives_no_candidates_and_no_error():
    empty = EpisodeTranscript("e0", "Quiet Show", "Silence", "feed", [])
    assert extract_candidates([empty]).kept == []


def test_a_sentence_that_switched_script_mid_way_is_never_in_a_passage():
    from podigest_dagster.core.insights.language import sentence_in_another_script

    garbled = "Elementary maximus special wind secretary game structured दु abuse main come से यwyn एक लोगोन to make cricket."
    mixed = episode("m1", "Seen Today", f"{INSIGHTS['heat_pumps']} {garbled} {INSIGHTS['sleep']}")
    found = extract_candidates([mixed], min_value=-10.0)
    assert not found.skipped_episodes
    assert found.kept and not any("cricket" in c.raw_text for c in found.kept)
    assert found.dropped_by_reason.get("another_script_sentences", 0) >= 1
    assert not sentence_in_another_script("The π in the formula is the ratio of a circle's circumference.")
    assert not sentence_in_another_script("Zürich and São Paulo both cut their speed limits to thirty.")
