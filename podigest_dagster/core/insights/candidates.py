"""Candidate passages: sentences rebuilt across transcript segments, windows of 1-3 sentences, non-insight
filtered out with a named reason, each kept window scored for insightfulness."""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from podigest_dagster.core.insights import language
from podigest_dagster.core.insights.ads import ad_sentences
from podigest_dagster.core.insights.embedding import DIMENSIONS, Embedder, embed_groups
from podigest_dagster.core.insights.scoring import (
    NUMBER,
    STOPWORDS,
    insight_scores,
    passage_vector,
    shipped_floors,
)
from podigest_dagster.core.insights.text import (
    clean_passage,
    has_unresolved_reference,
    lacks_plural_antecedent,
    opens_a_thought,
    refers_back,
    remove_fillers,
    strip_speaker_label,
)
from podigest_dagster.core.text.sentences import normalise_spaces, sentence_spans, word_count
from podigest_dagster.core.transcribe.segments import Segment

MAX_WINDOW = 3
MIN_WORDS = 10
MAX_WORDS = 110
MIN_SCORE = shipped_floors().pool
MAX_PER_EPISODE = 60
MIN_SHARED_WORDS = 2


@dataclass
class EpisodeTranscript:
    """An episode's identity (from `episodes`) and its ordered transcript segments."""

    episode_id: str
    podcast: str
    title: str
    feed_url: str
    segments: list[Segment]
    link: str | None = None
    enclosure_url: str | None = None
    language: str | None = None
    """As Whisper detected it or the publisher declared it; None when unknown."""


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


@dataclass
class Candidate:
    """A kept passage of one to three sentences: where it was said, its raw and cleaned text, its score."""

    candidate_id: str
    episode_id: str
    podcast: str
    feed_url: str
    episode_title: str
    link: str | None
    enclosure_url: str | None
    seq_start: int
    seq_end: int
    sent_start: int
    sent_end: int
    start_s: float
    end_s: float
    raw_text: str
    text: str
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


SKIPPED_FOR_LANGUAGE = "language"
"""The dropped_by_reason key that counts episodes (not windows) skipped for their language."""


@dataclass
class CandidateSet:
    """The candidates kept for a day and how many windows each filter dropped."""

    kept: list[Candidate]
    dropped_by_reason: dict[str, int]
    skipped_episodes: dict[str, str] = field(default_factory=dict)
    """Episodes the insight models cannot read (another language), each with the reason."""


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
        full = " ".join(pieces)
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


# --- sentence filters: each returns True when the sentence is not insight -------------------------


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.I)


AD = _pattern(
    r"\bbrought to you by\b", r"\bsponsor(?:ed|s|ship)?\b", r"\w*ponsored by\b",
    r"\b(?:show|episode|podcast) is (?:supported|presented|powered|made possible) by\b",
    r"\bdelivered (?:right )?to your door\b", r"\bpromo(?:tion(?:al)?)? code\b",
    r"\b(?:use|enter|offer|discount|coupon) code\b", r"\bcode (?-i:[A-Z0-9]{3,})\b", r"\d+ ?(?:%|percent) off\b",
    r"\bfree trial\b", r"\b(?:visit|go to|head (?:over )?to|check out) \S+\s?(?:\.|dot) ?(?:com|org|net|io|co)\b",
    r"\b\w+(?:\.| dot )com ?/ ?\w+", r"\bfirst (?:month|order|box|week) (?:is )?free\b",
    r"\btry it (?:free|for free|today)\b", r"\blimited[- ]time offer\b", r"\bat checkout\b",
    r"\bthanks to our (?:sponsors?|partners?|friends)\b", r"\bsupport for (?:this|the) (?:show|podcast|episode) comes from\b",
    r"\bour friends at\b", r"\bfree shipping\b", r"\bsign up (?:today|now) at\b", r"\bmoney-back guarantee\b",
)
INTRO_OUTRO = _pattern(
    r"\bwelcome (?:back )?to\b", r"\bwelcome,? everyone\b", r"\bthanks? (?:you )?(?:so much )?for (?:listening|tuning in|joining us|watching)\b",
    r"\bsee you (?:next|all next|again|soon|then)\b", r"\buntil next time\b", r"\bi'?m your host\b",
    r"\byou'?re listening to\b", r"\bthat'?s (?:it|all) for (?:today|this week|this episode|now)\b",
    r"\bcatch you (?:next|later)\b", r"\bjoin us (?:next|again)\b", r"\bmy (?:guest|guests) today\b",
    r"\bjoining (?:me|us) (?:today|now|this week)\b", r"\bthanks? (?:you )?(?:so much )?for (?:having me|coming on|being here)\b",
    r"\b(?:great|good|glad|happy) to (?:be here|have you|be back)\b", r"\bthis is (?:episode|part) \w+\b",
    r"\bon (?:today'?s|this week'?s) (?:episode|show)\b", r"\b(?:is|was) (?:produced|edited|mixed|recorded|hosted) by\b",
    r"\bnot (?:legal|financial|medical|investment|tax) advice\b",
    r"\bfor (?:general )?(?:information(?:al)?|entertainment|educational) (?:purposes )?only\b",
    r"\bmade possible by\b", r"\bthanks? (?:you )?for spending\b", r"\ban independent production\b", r"\bour (?:producer|editor|sound engineer) is\b", r"\btake care,? everyone\b", r"\bbye,? everyone\b",
)
SUBSCRIBE_CALL = _pattern(
    r"\bsubscrib(?:e|ed|ing)\b", r"\brate(?:,)? (?:and|&) review\b", r"\bleave (?:us )?a (?:review|rating|comment)\b",
    r"\b(?:five|5)[- ]star (?:review|rating)s?\b", r"\bgive us (?:five|5) stars\b", r"\bhit (?:the|that) (?:like|bell|follow|subscribe)\b", r"\bfollow (?:us|the show) on\b",
    r"\bshare (?:this|the) (?:episode|show|podcast)\b", r"\bpatreon\b", r"\b(?:our|my|the show'?s) newsletter\b", r"\bnewsletter (?:at|link)\b", r"\bsupport the show\b",
    r"\btell (?:a|your) friends?\b", r"\bhit follow\b", r"\bpodcast app\b", r"\b(?:rate|follow) the show\b", r"\bwherever you (?:get|listen to) (?:your )?podcasts\b", r"\bapple podcasts\b",
    r"\bshow notes\b", r"\blink (?:is )?in the description\b", r"\byoutube channel\b", r"\bbecome a member\b",
)
TABLE_OF_CONTENTS = _pattern(
    r"\btoday,? (?:we'?ll|we will|we'?re going to|we are going to|i'?ll|i want to) (?:talk|be talking|discuss|cover|look|dig|dive|explore|get into)\b",
    r"\blater (?:in|on) (?:the|this) (?:show|episode)\b", r"\bcoming up (?:next|after|later|on the show|in this)\b", r"^coming up\b", r"\b(?:in|on) this episode\b",
    r"\bafter the break\b", r"\btoday(?:'?s episode)? is (?:all )?about\b", r"\bwe'?ll get (?:to|into) (?:that|this|it)\b", r"\bfirst up\b",
    r"\bstick around\b", r"\bin the second half\b", r"\bwe'?re going to (?:talk|discuss|cover) about\b",
    r"\bwe'?ll (?:also )?(?:talk|be talking|hear) about\b", r"\blater on,? we\b", r"\bbut first,? (?:a|let'?s|here'?s|a quick)\b",
    r"\bwhen we come back\b", r"\blet'?s (?:get|dive|jump) (?:into|started|right in)\b",
    r"\bin (?:our|today'?s|this) (?:conversation|interview|discussion|chat),? (?:we|you'?ll|i)\b",
    r"\bwe cover(?:ed)? a (?:ton|lot|bunch) of ground\b",
)
SMALL_TALK = _pattern(
    r"\bweather (?:today|here|lately|outside|this (?:morning|week))\b", r"\bhow'?s the weather\b",
    r"\b(?:nice|lovely|beautiful|terrible|awful|crazy|gorgeous) weather\b", r"\b(?:it'?s|so) (?:raining|sunny|freezing|so cold|so hot|snowing)\b", r"\bhow are you\b",
    r"\bhow'?s it going\b", r"\bhow (?:have you been|was your)\b", r"\bgood to see you\b", r"\bnice to (?:see|meet) you\b",
    r"\bha(?:ha)+\b", r"\blol\b", r"[\[(](?:laughs?|laughter|laughing)[\])]", r"\bthat'?s (?:so )?(?:funny|hilarious)\b",
    r"\boh my (?:god|gosh)\b", r"\bmy weekend\b", r"\b(?:last|this) weekend\b", r"\bhad (?:my|a) coffee\b",
    r"\bon vacation\b", r"\bthe game last night\b", r"\bhappy (?:birthday|holidays|new year|friday|monday)\b",
    r"\bi'?m (?:so )?(?:tired|exhausted|hungry)\b", r"\bgood morning\b", r"\bgood (?:afternoon|evening)\b",
)

SENTENCE_FILTERS: dict[str, re.Pattern[str]] = {
    "ad": AD,
    "subscribe_call": SUBSCRIBE_CALL,
    "intro_outro": INTRO_OUTRO,
    "table_of_contents": TABLE_OF_CONTENTS,
    "small_talk": SMALL_TALK,
}


def sentence_reason(sentence: str) -> str | None:
    """Why a sentence is not insight (ad, subscribe_call, intro_outro, table_of_contents, small_talk), or None."""
    for reason, pattern in SENTENCE_FILTERS.items():
        if pattern.search(sentence):
            return reason
    return None


def is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'”)").endswith("?")


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
    episodes: list[EpisodeTranscript],
    sentences: dict[str, list[Sentence]],
    past_show_texts: dict[str, list[str]],
) -> BoilerplateIndex:
    """Index today's sentences of every episode and the past texts of each show (keyed by feed url)."""
    index = BoilerplateIndex()
    for episode in episodes:
        for sentence in sentences[episode.episode_id]:
            index.add(episode.feed_url, episode.episode_id, sentence.text)
    for feed, texts in past_show_texts.items():
        for i, text in enumerate(texts):
            for a, b in sentence_spans(text):
                index.add(feed, f"past:{i}", text[a:b])
    return index


# --- windows ---------------------------------------------------------------------------------------

CONNECTIVE = re.compile(
    r"^(?:because|which|but|however|instead|otherwise|for example|for instance|in fact|"
    r"as a result|that means|this means|in other words|meaning|the reason)\b",
    re.I,
)


GENERIC_WORDS = STOPWORDS | frozenset(
    "because which while since even still about just really after before every other more most less than into "
    "only make makes made keep keeps kept take takes come comes need needs want said says time times year "
    "years people person thing something anything everything nothing someone everyone their there where "
    "these those would could should might must been being have having does doing done through without within "
    "between against around under over across first last next same different another each both such very "
    "actually probably maybe often always never usually good great better best bad worse worst whole part "
    "point fact case example reason means mean lets help helps work works".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased content words of four letters or more, plural 's' dropped: what a sentence is about."""
    tokens = re.findall(r"[a-z]{4,}", text.lower())
    return {t[:-1] if t.endswith("s") else t for t in tokens if t not in GENERIC_WORDS and not NUMBER.fullmatch(t)}


def continues(previous: list[Sentence], following: Sentence) -> bool:
    """True when a sentence carries on the thought before it: it answers a question, refers back,
    opens with a connective, finishes a clause cut from a run-on at its comma, or shares at least two
    content words with it."""
    if is_question(previous[-1].text) or previous[-1].text.rstrip().endswith((",", ";")):
        return True
    head = strip_speaker_label(remove_fillers(following.text))
    if has_unresolved_reference(head) or CONNECTIVE.match(head):
        return True
    before = set().union(*(content_words(s.text) for s in previous))
    return len(before & content_words(following.text)) >= MIN_SHARED_WORDS



_TRAILING = re.compile(r"(\w+)\s*(?:\.\.\.|…)[\"'”’)]*$")


def trails_off(sentence: str) -> bool:
    """True when a sentence breaks off on a word that needs more after it ('... can trigger the...')."""
    m = _TRAILING.search(sentence.rstrip())
    return bool(m) and m.group(1).lower() in STOPWORDS


def window_reason(window: list[Sentence], reasons: list[str | None]) -> str | None:
    """Why a window of sentences is not a candidate, or None when it may be one."""
    for reason in reasons:
        if reason:
            return reason
    texts = [s.text for s in window]
    if not window[0].opens:
        return "mid_thought_start"
    if any(s.abandoned for s in window):
        return "abandoned_phrase"
    if any(trails_off(t) for t in texts) or _TRAILING.search(texts[-1].rstrip()):
        return "trails_off"  # broken off on a word that needs more, or the passage's last words trail away
    if all(is_question(t) for t in texts) or is_question(texts[-1]):
        return "bare_question"
    if any(is_question(t) for t in texts[1:]):
        return "question_inside"
    if has_unresolved_reference(texts[0]) or lacks_plural_antecedent(" ".join(texts)):
        return "dangling_reference"
    if refers_back(" ".join(texts)):
        return "refers_back"
    if any(not continues(window[:i], window[i]) for i in range(1, len(window))):
        return "unrelated_sentences"
    n_words = word_count(remove_fillers(" ".join(texts)))
    if n_words < MIN_WORDS:
        return "too_short"
    if n_words > MAX_WORDS:
        return "too_long"
    return None


def candidate_id(episode_id: str, window: list[Sentence], text: str) -> str:
    """Stable id: the episode, the sentence range and segment range, and the cleaned text."""
    key = f"{episode_id}|{window[0].seq_start}|{window[-1].seq_end}|{window[0].index}|{window[-1].index}|{text}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def asr_confidence(segments: list[Segment], seq_start: int, seq_end: int) -> float | None:
    """Mean Whisper avg_logprob of the segments a passage spans; None for text with no recogniser score
    (a publisher's transcript)."""
    values = [s.avg_logprob for s in segments if seq_start <= s.seq <= seq_end and s.avg_logprob is not None]
    return round(sum(values) / len(values), 4) if values else None


def _make_candidate(
    episode: EpisodeTranscript, window: list[Sentence], scored: tuple[float, dict[str, float]]
) -> Candidate:
    raw = " ".join(s.text for s in window)
    text = clean_passage([s.text for s in window])
    score, features = scored
    confidence = asr_confidence(episode.segments, window[0].seq_start, window[-1].seq_end)
    if confidence is not None:
        features["asr_logprob"] = confidence
    return Candidate(
        candidate_id=candidate_id(episode.episode_id, window, text),
        episode_id=episode.episode_id,
        podcast=episode.podcast,
        feed_url=episode.feed_url,
        episode_title=episode.title,
        link=episode.link,
        enclosure_url=episode.enclosure_url,
        seq_start=window[0].seq_start,
        seq_end=window[-1].seq_end,
        sent_start=window[0].index,
        sent_end=window[-1].index,
        start_s=window[0].start_s,
        end_s=window[-1].end_s,
        raw_text=raw,
        text=text,
        score=score,
        features=features,
    )


def episode_windows(
    episode: EpisodeTranscript,
    sentences: list[Sentence],
    is_boilerplate: Callable[[str], bool],
    dropped: Counter[str],
    vectors: np.ndarray,
) -> list[Candidate]:
    """Every window of one to three sentences that passes the filters, scored; drops counted by reason.
    `vectors` are the sentences' embeddings: sponsor reads are found from them as whole spans (every
    sentence of a read gets the reason "ad"), and each window is scored with their mean."""
    ads = ad_sentences([s.text for s in sentences], vectors)
    reasons = [
        "ad" if i in ads else sentence_reason(s.text)
        or ("another_script" if language.sentence_in_another_script(s.text) else None)
        or ("boilerplate" if is_boilerplate(s.text) else None)
        for i, s in enumerate(sentences)
    ]
    passing = []
    for start in range(len(sentences)):
        for size in range(1, MAX_WINDOW + 1):
            if start + size > len(sentences):
                break
            window = sentences[start : start + size]
            reason = window_reason(window, reasons[start : start + size])
            if reason:
                dropped[reason] += 1
                continue
            passing.append((start, window))
    window_vectors = np.asarray([passage_vector(vectors[a : a + len(w)]) for a, w in passing])
    scored = insight_scores(
        [" ".join(s.text for s in w) for _, w in passing], window_vectors.reshape(len(passing), DIMENSIONS)
    )
    return [_make_candidate(episode, w, sc) for (_, w), sc in zip(passing, scored, strict=True)]


def select_non_overlapping(
    candidates: Iterable[Candidate], min_score: float, limit: int, dropped: Counter[str]
) -> list[Candidate]:
    """Per episode, keep the best-scoring windows that share no sentence, above a score floor."""
    chosen: list[Candidate] = []
    used: set[int] = set()
    for cand in sorted(candidates, key=lambda c: (-c.score, c.sent_start, c.sent_end)):
        span = set(range(cand.sent_start, cand.sent_end + 1))
        if cand.score < min_score:
            dropped["low_score"] += 1
        elif span & used:
            dropped["overlap"] += 1
        elif len(chosen) >= limit:
            dropped["episode_limit"] += 1
        else:
            chosen.append(cand)
            used |= span
    return sorted(chosen, key=lambda c: c.sent_start)


def extract_candidates(
    episodes: list[EpisodeTranscript],
    past_show_texts: dict[str, list[str]] | None = None,
    min_score: float = MIN_SCORE,
    max_per_episode: int = MAX_PER_EPISODE,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> CandidateSet:
    """The day's candidate passages across episodes, with non-insight removed and counted by reason.

    `embed` (texts -> (n, 384) unit vectors; default the bundled model) embeds the day's sentences once,
    for the sponsor-read spans and the scores; it is not called when there is no sentence."""
    skipped = {
        e.episode_id: reason
        for e in episodes
        if (reason := language.skip_reason(e.language, " ".join(s.text for s in e.segments)))
    }
    episodes = [e for e in episodes if e.episode_id not in skipped]
    sentences = {e.episode_id: build_sentences(e.segments) for e in episodes}
    vectors = embed_groups({k: [s.text for s in v] for k, v in sentences.items()}, embed or _bundled_embed)
    index = build_boilerplate_index(episodes, sentences, past_show_texts or {})
    dropped: Counter[str] = Counter()
    if skipped:
        dropped[SKIPPED_FOR_LANGUAGE] = len(skipped)
    kept: list[Candidate] = []
    for episode in episodes:
        def boilerplate(text: str, ep: EpisodeTranscript = episode) -> bool:
            return index.is_boilerplate(ep.feed_url, ep.episode_id, text)

        windows = episode_windows(
            episode, sentences[episode.episode_id], boilerplate, dropped, vectors[episode.episode_id]
        )
        kept.extend(select_non_overlapping(windows, min_score, max_per_episode, dropped))
    return CandidateSet(kept=kept, dropped_by_reason=dict(sorted(dropped.items())), skipped_episodes=skipped)


def extraction_fingerprint(
    episodes: list[EpisodeTranscript],
    past_show_texts: dict[str, list[str]],
    min_score: float = MIN_SCORE,
    max_per_episode: int = MAX_PER_EPISODE,
) -> str:
    """A digest of everything `extract_candidates` reads: the episodes and their segments, the shows' past
    texts, the limits, the shipped models and the code of the insight and text packages. Equal digests give
    equal candidates, so a re-run can keep the stored ones (and load no model)."""
    digest = hashlib.sha256()
    for episode in sorted(episodes, key=lambda e: e.episode_id):
        digest.update(repr(episode).encode("utf-8"))
    for feed in sorted(past_show_texts):
        digest.update(repr((feed, past_show_texts[feed])).encode("utf-8"))
    digest.update(repr((min_score, max_per_episode)).encode("utf-8"))
    package = Path(__file__).resolve().parent
    code = [*sorted(package.glob("*.py")), *sorted(package.glob("models/*.json")), *sorted(
        (package.parent / "text").glob("*.py")
    )]
    for path in code:
        digest.update(path.name.encode("utf-8") + path.read_bytes())
    return digest.hexdigest()


def _bundled_embed(texts: list[str]) -> np.ndarray:
    return Embedder().embed(texts)
