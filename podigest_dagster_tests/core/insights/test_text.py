from podigest_dagster.core.insights.text import (
    clean_passage,
    clean_sentence,
    collapse_repeats,
    has_unresolved_reference,
    lacks_plural_antecedent,
    remove_fillers,
    starts_with_dangling_reference,
    unknown_word_share,
    unshout,
)


def test_fillers_are_removed_but_meaningful_words_stay():
    assert remove_fillers("So yeah, um, the reason is, you know, that land is cheap.") == (
        "the reason is that land is cheap."
    )
    assert remove_fillers("I like apples, like, a lot.") == "I like apples a lot."
    assert remove_fillers("If you know the answer, uh, say it.") == "If you know the answer say it."


def test_a_transcribers_notes_on_the_audio_are_dropped_but_a_bracketed_name_stays():
    text = "Chips do not get better with [inaudible 01:04:48] models (laughs) and [00:12:03] the [Gemini] one (mostly)."
    assert remove_fillers(text) == "Chips do not get better with models and the [Gemini] one (mostly)."


def test_stutters_collapse_to_one_word():
    assert collapse_repeats("the the price of of oil") == "the price of oil"
    assert collapse_repeats("I think there's there's a cost, it's it's real") == "I think there's a cost, it's real"


def test_casing_and_end_punctuation_are_repaired():
    assert clean_sentence("um i think prices fall when supply rises") == "I think prices fall when supply rises."
    assert clean_sentence("and so, the tax falls on renters") == "The tax falls on renters."


def test_only_the_opening_sentence_loses_its_conjunction():
    text = clean_passage(["But rents rose by ten percent.", "but wages did not."])
    assert text == "Rents rose by ten percent. But wages did not."


def test_dangling_pronoun_starts_are_detected_but_expletive_it_is_not():
    assert starts_with_dangling_reference("That is why prices rose.")
    assert starts_with_dangling_reference("And they never paid it back.")
    assert starts_with_dangling_reference("JOHN: This means trouble.")
    assert not starts_with_dangling_reference("It turns out that heat pumps work in the cold.")
    assert not starts_with_dangling_reference("It is cheaper to rent than to buy in most cities.")
    assert not starts_with_dangling_reference("Batteries got ninety percent cheaper.")


def test_a_demonstrative_or_they_without_a_referent_inside_the_sentence_is_unresolved():
    assert has_unresolved_reference("Planning meals with a shopping list cuts that waste, and it saves money.")
    assert has_unresolved_reference("Counting insurance and parking, the total is roughly double their estimate.")
    assert has_unresolved_reference("Instead of burning gas, they pull warmth from the outside air.")
    assert has_unresolved_reference("Prices rose this year because of these rules.")
    assert not has_unresolved_reference("Drivers routinely underestimate what their car costs them.")
    assert not has_unresolved_reference("A card that charges twenty percent interest costs more than most loans.")
    assert not has_unresolved_reference("Studies show that people sleep less in cities.")
    assert not has_unresolved_reference("This year the city planted trees on every street, and that shade helps.")
    assert not has_unresolved_reference("A bad habit is hard to drop, but replacing that habit works better.")
    assert not has_unresolved_reference(
        "Small claims courts let people recover up to ten thousand dollars without a lawyer, which is why "
        "landlords who keep deposits unfairly now lose most of those cases."
    )


def test_they_needs_a_plural_noun_before_it_anywhere_in_the_passage():
    assert lacks_plural_antecedent("Instead of burning gas. They pull warmth from the outside air.")
    assert not lacks_plural_antecedent("Heat pumps work in the cold. They pull warmth from the outside air.")


def test_misrecognised_words_count_as_unknown_but_inflected_real_words_do_not():
    vocabulary = frozenset("the drug has same active ingredient pick compound fee cost generic brand".split())
    assert unknown_word_share("Generic pickers compounding fees cost the same", vocabulary) == 0.0
    assert unknown_word_share("The drug has maximically the same active ingredient", vocabulary) == 1 / 8


def test_a_sentence_cut_at_a_cue_boundary_is_joined_not_ended():
    text = clean_passage(["Sociologists wrote about how religion", "which thrives on competition, keeps its flock."])
    assert text == "Sociologists wrote about how religion which thrives on competition, keeps its flock."


def test_a_new_speaker_or_a_capitalised_sentence_is_not_joined():
    assert clean_passage(["Rents rose", "Wages did not."]) == "Rents rose. Wages did not."
    assert clean_passage(["Rents rose", "ANA: wages did not."]) == "Rents rose. Wages did not."


def test_a_clause_cut_at_its_comma_is_joined_whatever_its_first_letter():
    text = clean_passage(["Scientists at the University of Trento,", "Italy studied the brains of reciters."])
    assert text == "Scientists at the University of Trento, Italy studied the brains of reciters."


def test_caption_capitals_read_in_sentence_case_with_the_length_kept_but_acronyms_in_normal_text_stay():
    shouted = "SO I THINK FEES MATTER. THEY COMPOUND EVERY YEAR!  AND NASA AGREES"
    assert unshout(shouted) == "So I think fees matter. They compound every year!  And nasa agrees"
    assert len(unshout(shouted)) == len(shouted)
    assert unshout("NASA and the ESA launched it.") == "NASA and the ESA launched it."
    assert unshout("OK SURE") == "OK SURE"
