"""Whole-thought passages of a transcript: its sentences rebuilt across segments within each speaker's turn,
a show's recurring boilerplate, and the runs of one to five sentences that make a passage: one turn, starting
where a thought starts, holding no phrase broken off and not trailing away. Whether a passage is worth a
reader's minute is not decided here: the value model (value.py) scores every passage this module yields."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podigest_dagster.core.insights.features import STOPWORDS
from podigest_dagster.core.insights.text import opens_a_thought, remove_fillers, unshout
from podigest_dagster.core.text.sentences import normalise_spaces, sentence_spans, word_count
from podigest_dagster.core.transcribe.segments import Segment

MAX_SENTENCES = 5
MIN_WORDS = 15
MAX_WORDS = 100
# A sentence that says nothing near what the passage said so far (MiniLM cosine with the mean of its earlier
# sentences below this) starts another thought: a passage never runs two together. In passages graders rated
# 2-3 of 3, 5% of the sentences that carry a thought on are this far apart; unrelated claims said back to
# back are about 0.05 apart.
MIN_CONTINUITY = 0.11


@dataclass(frozen=True)
class Sentence:
    """A sentence rebuilt across segment boundaries within one speaker's turn, with the time span and
    segments it covers; `opens` is False when it starts inside a thought (a word cut by a cue boundary, a
    turn that carries on the one before, a leading conjunction) and so cannot begin a passage."""

    index: int
    text: str
    start_s: float
    end_s: float
    seq_start: int
    seq_end: int
    speaker: str | None = None
    turn: int = 0
    opens: bool = True
    # broken off mid-phrase, the speaker starting over in the next cue: never part of a passage
    abandoned: bool = False


# --- sentences -------------------------------------------------------------------------------------


def speaker_turns(segments: list[Segment]) -> list[list[Segment]]:
    """Consecutive segments of one speaker; a segment with no speaker carries on the current turn."""
    turns: list[list[Segment]] = []
    current: str | None = None
    for seg in sorted(segments, key=lambda s: s.seq):
        if not normalise_spaces(seg.text):
            continue
        if not turns or (seg.speaker is not None and current is not None and seg.speaker != current):
            turns.append([])
        if seg.speaker is not None:
            current = seg.speaker
        turns[-1].append(seg)
    return turns


def _ends_sentence(text: str) -> bool:
    return text.rstrip(" \"'”’)]").endswith((".", "!", "?", "…"))


def build_sentences(segments: list[Segment]) -> list[Sentence]:
    """Cut each speaker turn into sentences, each timed by interpolating within its segments. A sentence
    never crosses a change of speaker, and a cue that starts over ('... through a' | 'But also, ...') starts
    a new one; one that starts a turn which continues an unfinished sentence, follows a clause cut from it,
    or starts in lower case or with a conjunction, is marked as not opening a thought."""
    sentences: list[Sentence] = []
    previous_ended = True
    for turn_index, turn in enumerate(speaker_turns(segments)):
        pieces, bounds, cursor = [], [], 0
        for seg in turn:
            text = normalise_spaces(seg.text)
            if pieces:
                cursor += 1
            bounds.append((cursor, cursor + len(text), seg))
            pieces.append(text)
            cursor += len(text)
        full = unshout(" ".join(pieces))
        speaker = next((seg.speaker for seg in turn if seg.speaker), None)
        previous_text = ""
        for position, (a, b, abandoned) in enumerate(_split_at_restarts(sentence_spans(full), full)):
            text = normalise_spaces(full[a:b])
            if not text:
                continue
            first, start_s = _locate(bounds, a)
            last, end_s = _locate(bounds, b, end=True)
            # a clause cut from a run-on ('... at the University of Trento,' | 'Italy studied ...') opens
            # nothing, whatever its first letter
            opens = opens_a_thought(text) and (previous_ended if position == 0 else _ends_sentence(previous_text))
            previous_text = text
            sentences.append(
                Sentence(
                    len(sentences), text, start_s, max(end_s, start_s), first.seq, last.seq,
                    speaker=speaker, turn=turn_index, opens=opens, abandoned=abandoned,
                )
            )
        previous_ended = _ends_sentence(full)
    return sentences


# A capitalised conjunction right after a lower-case word, with no punctuation between, is the speaker
# starting over ('So then, quick rapid fire through a But also, if it's open ...', whether the cue broke
# there or the publisher glued both into one cue): a sentence boundary the punctuation does not show.
_RESTART = re.compile(r"(?<![\w'’-])[a-z][a-z'’]* (?=(?:But|And|So|Or|Because)\b)")


def _split_at_restarts(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int, bool]]:
    """The sentence spans cut again where the speaker starts over, each with whether it was broken off there."""
    restarts = [m.end() for m in _RESTART.finditer(text)]
    out: list[tuple[int, int, bool]] = []
    for a, b in spans:
        for cut in (r for r in restarts if a < r < b):
            out.append((a, cut - 1, True))
            a = cut
        out.append((a, b, False))
    return out


def _locate(bounds: list[tuple[int, int, Segment]], offset: int, end: bool = False) -> tuple[Segment, float]:
    """The segment holding a character offset and the time at that offset, linearly interpolated."""
    for a, b, seg in bounds:
        if offset < b or (end and offset == b) or (a, b, seg) == bounds[-1]:
            share = min(max((offset - a) / max(b - a, 1), 0.0), 1.0)
            return seg, round(seg.start_s + share * (seg.end_s - seg.start_s), 2)
    raise ValueError("no segments")


# --- recurring boilerplate -------------------------------------------------------------------------


def _shingles(text: str) -> frozenset[str]:
    tokens = re.findall(r"[a-z]+", remove_fillers(text).lower())
    if len(tokens) < 3:
        return frozenset()
    return frozenset(" ".join(tokens[i : i + 2]) for i in range(len(tokens) - 1))


class BoilerplateIndex:
    """Finds sentences a show repeats across its own episodes (today's and past ones): its boilerplate."""

    def __init__(self, threshold: float = 0.6) -> None:
        self.threshold = threshold
        self._docs: list[tuple[str, str, frozenset[str]]] = []
        self._index: dict[tuple[str, str], set[int]] = defaultdict(set)

    def add(self, feed: str, episode: str, text: str) -> None:
        shingles = _shingles(text)
        if not shingles:
            return
        doc = len(self._docs)
        self._docs.append((feed, episode, shingles))
        for shingle in shingles:
            self._index[(feed, shingle)].add(doc)

    def is_boilerplate(self, feed: str, episode: str, text: str) -> bool:
        """True when a near-duplicate (bigram Jaccard >= threshold) exists in another episode of the feed."""
        shingles = _shingles(text)
        if not shingles:
            return False
        shared: Counter[int] = Counter()
        for shingle in shingles:
            shared.update(self._index.get((feed, shingle), ()))
        for doc, overlap in shared.items():
            other_feed, other_episode, other = self._docs[doc]
            if other_episode == episode:
                continue
            if overlap / len(shingles | other) >= self.threshold:
                return True
        return False


def build_boilerplate_index(
    episodes: Sequence[tuple[str, str, Sequence[Sentence]]],
    past_show_texts: dict[str, list[str]],
) -> BoilerplateIndex:
    """Index today's sentences of every episode ((feed url, episode id, sentences)) and the past texts of
    each show (keyed by feed url)."""
    index = BoilerplateIndex()
    for feed_url, episode_id, sentences in episodes:
        for sentence in sentences:
            index.add(feed_url, episode_id, sentence.text)
    for feed, texts in past_show_texts.items():
        for i, text in enumerate(texts):
            for a, b in sentence_spans(text):
                index.add(feed, f"past:{i}", text[a:b])
    return index


# --- the show talking about itself ------------------------------------------------------------------

# A sentence of the show's housekeeping (its intro and outro, a call to subscribe or review, the episode's
# table of contents) is never part of a passage: joined to a claim it reads as the claim's context, so the
# value model would not keep it out of an otherwise strong passage.
HOUSEKEEPING = re.compile(
    "|".join((
        r"\bwelcome (?:back )?to\b", r"\bthanks? (?:you )?(?:so much )?for (?:listening|tuning in|joining us|watching)\b",
        r"\bsee you (?:next|all next|again|soon)\b", r"\buntil next time\b", r"\bi'?m your host\b",
        r"\byou'?re listening to\b", r"\bthat'?s (?:it|all) for (?:today|this week|this episode|now)\b",
        r"\bmy (?:guest|guests) today\b", r"\bjoining (?:me|us) (?:today|now|this week)\b",
        r"\bthanks? (?:you )?(?:so much )?for (?:having me|coming on|being here)\b", r"\bthis is (?:episode|part) \w+\b",
        r"\b(?:is|was) (?:produced|edited|mixed|recorded|hosted) by\b", r"\bnot (?:legal|financial|medical|investment|tax) advice\b",
        r"\bfor (?:general )?(?:information(?:al)?|entertainment|educational) (?:purposes )?only\b", r"\ban independent production\b",
        r"\bsubscrib(?:e|ed|ing)\b", r"\brate(?:,)? (?:and|&) review\b", r"\bleave (?:us )?a (?:review|rating|comment)\b",
        r"\b(?:five|5)[- ]star (?:review|rating)s?\b", r"\bhit (?:the|that) (?:like|bell|follow|subscribe)\b",
        r"\bfollow (?:us|the show) on\b", r"\bshare (?:this|the) (?:episode|show|podcast)\b", r"\bpatreon\b",
        r"\bsupport the show\b", r"\bwherever you (?:get|listen to) (?:your )?podcasts\b", r"\bshow notes\b",
        r"\blink (?:is )?in the description\b",
        r"\btoday,? (?:we'?ll|we will|we'?re going to|we are going to) (?:talk|be talking|discuss|cover|dig|dive|get into)\b",
        r"\blater (?:in|on) (?:the|this) (?:show|episode)\b", r"\bcoming up (?:next|after|later|on the show)\b",
        r"\bafter the break\b", r"\bwhen we come back\b", r"\bwe cover(?:ed)? a (?:ton|lot|bunch) of ground\b",
        r"\bin (?:our|today'?s|this) (?:conversation|interview|discussion|chat),? (?:we|you'?ll|i)\b",
    )),
    re.I,
)


def is_housekeeping(sentence: str) -> bool:
    """The show talking about itself: an intro or outro, a call to subscribe, the episode's contents."""
    return bool(HOUSEKEEPING.search(sentence))


# --- passages --------------------------------------------------------------------------------------

_TRAILING = re.compile(r"(\w+)\s*(?:\.\.\.|…)[\"'”’)]*$")


def trails_off(sentence: str) -> bool:
    """True when a sentence breaks off on a word that needs more after it ('... can trigger the...')."""
    m = _TRAILING.search(sentence.rstrip())
    return bool(m) and m.group(1).lower() in STOPWORDS


def passage_words(sentences: Sequence[Sentence]) -> int:
    """Words a reader would read: the passage without its fillers."""
    return word_count(remove_fillers(" ".join(s.text for s in sentences)))


def _carries_on(vectors: np.ndarray | None, first: int, last: int) -> bool:
    if vectors is None or last == first:
        return True
    earlier = vectors[first:last].mean(axis=0)
    norm = float(np.linalg.norm(earlier))
    return norm == 0 or float(vectors[last] @ earlier) / norm >= MIN_CONTINUITY


def passage_windows(
    sentences: Sequence[Sentence],
    blocked: Sequence[bool],
    max_sentences: int = MAX_SENTENCES,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
    vectors: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """Every (first, last) sentence index pair, inclusive, that makes a whole-thought passage: one turn, a
    first sentence that opens a thought, no blocked sentence (a sponsor read, a show's boilerplate, another
    script), no phrase broken off, not ending on words that trail away, and `min_words`..`max_words` words.
    With the sentences' unit `vectors`, a passage also never runs on into a sentence about something else."""
    found = []
    for first, head in enumerate(sentences):
        if not head.opens or blocked[first]:
            continue
        for last in range(first, min(first + max_sentences, len(sentences))):
            sentence = sentences[last]
            if blocked[last] or sentence.abandoned or sentence.turn != head.turn or trails_off(sentence.text):
                break
            if not _carries_on(vectors, first, last):
                break
            words = passage_words(sentences[first : last + 1])
            if words > max_words:
                break
            if words >= min_words and not _TRAILING.search(sentence.text.rstrip()):
                found.append((first, last))
    return found
