from podigest_dagster.core.text.sentences import split_sentences


def test_sentences_split_on_punctuation_keeping_abbreviations_and_decimals():
    parts = split_sentences("Dr. Smith measured 3.5 grams. it was enough! Was it? Yes.")
    assert parts == ["Dr. Smith measured 3.5 grams.", "it was enough!", "Was it?", "Yes."]


def test_run_on_sentences_are_cut_at_clause_joints():
    run_on = (
        "the city added bus lanes on every major street in the centre of town, and so commuters who used "
        "to drive switched to the bus within a year, but the shops on those streets complained that "
        "deliveries got harder and they lost customers who used to park outside"
    )
    parts = split_sentences(run_on)
    assert len(parts) >= 2
    assert all(p.endswith(",") for p in parts[:-1]), "a cut clause keeps its comma: the sentence goes on"


def test_transcription_keeps_long_sentences_whole_when_asked():
    run_on = "the city added bus lanes, and so commuters switched, " * 6
    assert len(split_sentences(run_on, max_words=None)) == 1


def test_quotes_and_ellipses_end_sentences():
    assert split_sentences("He said \u201cno.\u201d Then he left\u2026 Nobody followed.") == [
        "He said \u201cno.\u201d",
        "Then he left\u2026",
        "Nobody followed.",
    ]


def test_a_dash_that_marks_the_next_speaker_after_a_sentence_end_splits_and_goes_with_neither():
    assert split_sentences("Do I need the full thirty days? - So yes, the full thirty days.") == [
        "Do I need the full thirty days?", "So yes, the full thirty days."
    ]
    assert split_sentences("Prices rose - or fell - in May.") == ["Prices rose - or fell - in May."]
