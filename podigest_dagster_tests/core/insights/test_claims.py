"""Support means the same claim: shared names place two passages in one story, a claim also shares what is
said about them (its numbers and rare words). Hand-written passages; the cosines are given, so each test
checks the rule, not the embedding model."""

from __future__ import annotations

from podigest_dagster.core.insights.claims import (
    CLOSE_COSINE,
    PARAPHRASE_COSINE,
    SAME_CLAIM_COSINE,
    same_claim,
    shared_claim_content,
    specific_terms,
)

# One product and one company named on both sides, two different things said about them.
NAMED_A = "Harbor Lens from Quillmark now runs on every phone the city gave its nurses last spring."
NAMED_B = "I asked the Quillmark team whether Harbor Lens will ever get a dark mode, and they laughed."


def test_two_passages_naming_the_same_product_and_company_do_not_state_one_claim():
    assert shared_claim_content(NAMED_A, NAMED_B) == (2, 0)
    assert not same_claim(NAMED_A, NAMED_B, (SAME_CLAIM_COSINE + PARAPHRASE_COSINE) / 2)


def test_a_name_of_several_words_is_one_named_thing_even_when_repeated_in_part():
    a = "Harbor Lens is mostly glue code around a camera, and Harbor keeps it small on purpose."
    b = "Everyone at the clinic opened Harbor Lens on the first morning, before coffee."
    assert shared_claim_content(a, b)[0] == 1
    assert not same_claim(a, b, PARAPHRASE_COSINE - 0.01), "one shared name and no shared claim content"


def test_one_shared_name_and_one_rare_word_are_a_topic_not_a_claim():
    a = "Quillmark Studio is a very complex rendering harness, but in the end it is code that wraps the camera calls."
    b = "What are you learning this year? Rendering, for sure, because I use Quillmark Studio every day."
    assert shared_claim_content(a, b) == (1, 1)
    assert not same_claim(a, b, 0.74)


def test_a_word_counts_once_whatever_its_form():
    a = "Write the failing evals first and keep every eval small."
    b = "Our evals caught the regression, since each eval runs on every commit."
    assert shared_claim_content(a, b)[1] == 1


def test_small_counts_said_as_words_are_speech_not_claim_numbers():
    assert not any(t.startswith("#") for t in specific_terms("People fall into two camps, and I have two thoughts."))
    assert "#40" in specific_terms("Wait times fell by forty percent.")
    # a small count that measures something is a number, in words as in digits
    assert "#3" in specific_terms("They give roughly three times more heat than the power they use.")
    assert "#3" in specific_terms("It delivers about 3 units of heat for every unit of electricity.")
    assert "#2" in specific_terms("Summers here are two degrees warmer than they were.")


def test_the_same_number_and_rare_words_about_the_same_thing_are_one_claim():
    a = "Harbor Lens cut triage waits in Rotterdam clinics by forty percent, because nurses photograph rashes first."
    b = "In Rotterdam the Harbor Lens rollout brought triage waits down forty percent: rashes get photographed first."
    names, claims = shared_claim_content(a, b)
    assert names == 2 and claims >= 2
    assert same_claim(a, b, SAME_CLAIM_COSINE + 0.1)


def test_a_close_paraphrase_sharing_one_rare_word_and_its_plain_words_is_one_claim():
    # how Whisper leaves two shows' telling of one finding: one rare word kept, the rest in plain words
    a = "A good night's sleep after studying helps you remember more than an extra late hour of cramming."
    b = "Students who study and then get a full night of sleep remember far more than those who stay up cramming."
    names, claims = shared_claim_content(a, b)
    assert names == 0 and claims == 1
    assert same_claim(a, b, CLOSE_COSINE)
    assert not same_claim(a, b, CLOSE_COSINE - 0.01)
    # one rare word and little else in common is not enough, however close the two sound
    c = "Cramming the night before barely works for anybody."
    assert shared_claim_content(a, c)[1] == 1
    assert not same_claim(a, c, PARAPHRASE_COSINE - 0.01)
