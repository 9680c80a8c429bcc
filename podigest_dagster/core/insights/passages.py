"""Whole-thought passages: runs of one to five sentences of one speaker's turn that start where a thought
starts, hold no broken-off phrase and do not trail away. Whether a passage is worth a reader's minute is not
decided here: the value model scores every passage this module yields."""

from __future__ import annotations

from collections.abc import Sequence

from podigest_dagster.core.insights.candidates import Sentence, trails_off
from podigest_dagster.core.insights.text import remove_fillers
from podigest_dagster.core.text.sentences import word_count

MAX_SENTENCES = 5
MIN_WORDS = 15
MAX_WORDS = 100


def passage_words(sentences: Sequence[Sentence]) -> int:
    """Words a reader would read: the passage without its fillers."""
    return word_count(remove_fillers(" ".join(s.text for s in sentences)))


def passage_windows(
    sentences: Sequence[Sentence],
    blocked: Sequence[bool],
    max_sentences: int = MAX_SENTENCES,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
) -> list[tuple[int, int]]:
    """Every (first, last) sentence index pair, inclusive, that makes a whole-thought passage: one turn, a
    first sentence that opens a thought, no blocked sentence (a sponsor read, a show's boilerplate, another
    script), no phrase broken off, no trailing away, and `min_words`..`max_words` words."""
    found = []
    for first, head in enumerate(sentences):
        if not head.opens or blocked[first]:
            continue
        for last in range(first, min(first + max_sentences, len(sentences))):
            sentence = sentences[last]
            if blocked[last] or sentence.abandoned or sentence.turn != head.turn or trails_off(sentence.text):
                break
            words = passage_words(sentences[first : last + 1])
            if words > max_words:
                break
            if words >= min_words:
                found.append((first, last))
    return found
