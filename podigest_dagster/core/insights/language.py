"""Which transcripts the insight models can read: the embedding model and the learned scorers know English.

An episode whose transcript is in another language (the language Whisper detected or the publisher declared,
or, when neither says, text mostly in a non-Latin script) is skipped with its reason instead of being split
into passages whose embeddings would only be noise. Inside an English transcript, a sentence mostly in
another script (a speech-recognition garble that switched scripts mid-sentence) is never a passage.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

HANDLED_LANGUAGES = frozenset({"en"})
# A transcript (a sentence) is taken for another script when more than this share of its letters are not
# Latin ones; accents, names and a quoted word or two stay far below it.
FOREIGN_SCRIPT_SHARE = 0.3
SENTENCE_FOREIGN_SCRIPT_SHARE = 0.05
SENTENCE_FOREIGN_LETTERS = 4  # a Greek letter or a name in its own script is not a garble


@lru_cache(maxsize=4096)
def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def _letters(text: str) -> tuple[int, int]:
    """(letters, letters not in the Latin script) of a text."""
    if text.isascii():  # nearly every English sentence: no letter to look up
        return sum(1 for ch in text if ch.isalpha()), 0
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters), sum(1 for ch in letters if not _is_latin(ch))


def non_latin_share(text: str) -> float:
    """The share of the text's letters that are not Latin (0 when it has no letter)."""
    total, foreign = _letters(text)
    return foreign / total if total else 0.0


def _base_language(code: str | None) -> str | None:
    code = (code or "").strip().lower().replace("_", "-")
    return code.split("-", 1)[0] or None


def skip_reason(language: str | None, text: str) -> str | None:
    """Why an episode's transcript cannot be read by the insight models, or None when it can."""
    base = _base_language(language)
    if base and base not in HANDLED_LANGUAGES:
        return f"language '{base}' is not handled (the insight models read English)"
    share = non_latin_share(text)
    if share > FOREIGN_SCRIPT_SHARE:
        return f"{share:.0%} of its letters are not Latin: not English (the insight models read English)"
    return None


def sentence_in_another_script(sentence: str) -> bool:
    """A sentence of an English transcript with more than a few letters of another script in it."""
    total, foreign = _letters(sentence)
    return foreign >= SENTENCE_FOREIGN_LETTERS and foreign > SENTENCE_FOREIGN_SCRIPT_SHARE * total
