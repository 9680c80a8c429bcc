"""The one sentence splitter (every stage uses it) and word counting, for spoken-transcript text."""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co", "jr", "sr",
    "approx", "no", "fig", "u.s", "u.k", "a.m", "p.m", "mt", "ft",
}

# a dash after the end of a sentence marks the next speaker in some publishers' transcripts ("... Anna? - So
# yes ..."): it goes with the gap, not with either sentence
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?P<close>[\"')\]”’]*)\s+(?:[-–—]+\s+)?(?=[\"'(\[“‘]?[A-Za-z0-9])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’%.-]*")


def words(text: str) -> list[str]:
    """The word tokens of a text (numbers and contractions kept whole)."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def normalise_spaces(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",\s*(?=[,.;:!?])", "", text)
    return re.sub(r"^[,.;:]\s*", "", text)


def _ends_with_abbreviation(text: str) -> bool:
    last = text.rstrip().rsplit(" ", 1)[-1].rstrip(".").lower()
    return last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _raw_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end("close")
        if _ends_with_abbreviation(text[start:end].rstrip("\"')]”’")):
            continue
        spans.append((start, end))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _split_long_span(text: str, span: tuple[int, int], max_words: int) -> list[tuple[int, int]]:
    a, b = span
    piece = text[a:b]
    if word_count(piece) <= max_words:
        return [span]
    joints = list(re.finditer(r"[;,]\s+(?=(?:and|but|so|because|which|whereas)\b)|;\s+", piece))
    joints = joints or list(re.finditer(r",\s+", piece))
    if not joints:
        return [span]
    middle = len(piece) / 2
    best = min(joints, key=lambda m: abs(m.start() - middle))
    # the left clause keeps its comma or semicolon: it shows the sentence goes on
    left, right = (a, a + best.start() + 1), (a + best.end(), b)
    if word_count(text[left[0] : left[1]]) < 5 or word_count(text[right[0] : right[1]]) < 5:
        return [span]
    return _split_long_span(text, left, max_words) + _split_long_span(text, right, max_words)


def sentence_spans(text: str, max_words: int | None = 45) -> list[tuple[int, int]]:
    """Character spans of the sentences in a text; run-ons (common in Whisper output) longer than
    `max_words` are cut at clause joints (None keeps them whole)."""
    if max_words is None:
        return _raw_spans(text)
    spans: list[tuple[int, int]] = []
    for span in _raw_spans(text):
        spans.extend(_split_long_span(text, span, max_words))
    return spans


def split_sentences(text: str, max_words: int | None = 45) -> list[str]:
    """Split text into sentences, keeping abbreviations and decimals whole and cutting run-ons."""
    return [normalise_spaces(text[a:b]) for a, b in sentence_spans(text, max_words)]
