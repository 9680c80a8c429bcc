"""The audited signals of a passage's text that the value model (value.py) reads beside its embeddings:
reasons, numbers, names, comparisons, hedges, banter, anecdotes, questions, fillers, length; each a count a
reader can check."""

from __future__ import annotations

import re

import numpy as np

from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.text import filler_count, remove_fillers
from podigest_dagster.core.text.sentences import split_sentences, words

_FLAGS = re.I

CAUSAL = re.compile(
    r"\b(?:because|which means|that means|this means|means that|that's why|that is why|this is why|so that|in order to|despite|instead of|"
    r"rather than|the reason|reason is|as a result|therefore|thus|leads? to|led to|due to|caused? by|"
    r"causes?|drives?|driven by|results? in|whereas|unless|even though|although|which is why|"
    r"turns out|the key|the catch|the trick|the problem is|the lesson|it pays|at the expense of|"
    r"trade-?off|allows?|prevents?|explains?|depends on|if you .{3,40}, you)\b",
    _FLAGS,
)
NUMBER = re.compile(
    r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|half|double|doubles?|"
    r"doubled|triple|tripled|twice|thrice|third|quarter|dozen)\b",
    _FLAGS,
)
UNIT = re.compile(
    r"%|\b(?:percent|per ?cent|percentage|dollars?|euros?|pounds?|yen|cents?|kilometres?|kilometers?|miles?|"
    r"metres?|meters?|hours?|minutes?|days?|weeks?|months?|years?|decades?|degrees?|kg|kilos?|grams?|"
    r"calories|kwh|kilowatts?|megawatts?|gigawatts?|watts?|tons?|tonnes?|litres?|liters?|gallons?|"
    r"times (?:more|less|as|faster|slower|cheaper)|per (?:year|day|month|hour|person|capita))\b",
    _FLAGS,
)
EFFECT = re.compile(
    r"\b(?:harms?|hurts?|raises?|increases?|reduces?|lowers?|cuts?|protects?|improves?|damages?|boosts?|"
    r"slows?|speeds? up|saves?|shrinks?|triggers?|weakens?|strengthens?|push(?:es)? up|drives? (?:up|down)|"
    r"fragments?|disrupts?|extends?|shortens?|doubles|halves|outlasts?)\b",
    _FLAGS,
)
COMPARATIVE = re.compile(
    r"\b(?:\w+er than|more|less|fewer|most|least|better|worse|twice as|as \w+ as|outperform\w*|"
    r"cheaper|faster|slower|higher|lower|bigger|smaller|larger|compared (?:to|with)|versus|vs)\b",
    _FLAGS,
)
GENERAL = re.compile(
    r"\b(?:tends? to|usually|typically|often|generally|most people|every|always|never|on average|"
    r"in practice|the biggest|the main|the real|is actually|are actually|the best way|the only way)\b",
    _FLAGS,
)
ANECDOTE = re.compile(
    r"\b(?:i remember|when i was|i went|i was at|i had a|i got|my (?:wife|husband|kids?|son|daughter|mom|"
    r"dad|mother|father|friend|dog|cat|partner|family|brother|sister)|yesterday|last night|this morning|"
    r"last weekend|this weekend|on vacation|on holiday|we went|i just got back)\b",
    _FLAGS,
)
HEDGE = re.compile(
    r"\b(?:i think|i guess|i feel like|maybe|perhaps|probably|i don't know|i'm not sure|not sure|who knows|"
    r"might be|could be|i suppose|who can say)\b",
    _FLAGS,
)
BANTER = re.compile(
    r"\b(?:haha|hahaha|lol|that's (?:funny|hilarious|crazy|wild|awesome|amazing|great|so true|right)|"
    r"oh my god|no way|i love that|love it|totally|exactly|absolutely|for sure|good point|great point|"
    r"great question|fair enough|cool|awesome|wow|yeah yeah|me too|same here)\b",
    _FLAGS,
)
IMPERATIVE = re.compile(
    r"^(?:go|check|make sure|don't forget|try|click|grab|get|head|join|follow|remember to|be sure to|"
    r"take|tell|call|buy|sign up|download)\b",
    _FLAGS,
)
FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|i'm|i've|i'd|i'll|myself)\b", _FLAGS)
SECOND_PERSON = re.compile(r"\b(?:you|your|yours|you're|you've|you'll|yourself)\b", _FLAGS)
STOPWORDS = frozenset(
    "a an the and or but so if then of to in on at by for with from as is are was were be been being it its "
    "this that these those i you he she we they me him her us them my your our their his not no yes yeah do "
    "does did have has had just really very like know mean think thing things stuff kind sort well okay oh "
    "um uh right there here what which who whom when where why how all any some can could would should will "
    "get got go going gonna wanna lot lots much many also too even about up out over again".split()
)


def _named_entities(sentences: list[str]) -> int:
    count = 0
    for sentence in sentences:
        tokens = words(sentence)[1:]
        count += sum(1 for t in tokens if t[:1].isupper() and t != "I" and not t.startswith(("I'", "I’")))
    return count


def _content_density(tokens: list[str]) -> float:
    if not tokens:
        return 0.0
    return sum(1 for t in tokens if t.lower() not in STOPWORDS) / len(tokens)


def extract_features(text: str) -> dict[str, float]:
    """The signals of an insight (and of banter) in a passage, as numbers a reader can audit."""
    clean = remove_fillers(text)
    sentences = split_sentences(clean) or [clean]
    tokens = words(clean)
    questions = sum(1 for s in sentences if s.rstrip().endswith("?"))
    return {
        "words": float(len(tokens)),
        "sentences": float(len(sentences)),
        "causal": float(len(CAUSAL.findall(clean))),
        "numbers": float(len(NUMBER.findall(clean))),
        "units": float(len(UNIT.findall(clean))),
        "entities": float(_named_entities(sentences)),
        "comparative": float(len(COMPARATIVE.findall(clean))),
        "effect": float(len(EFFECT.findall(clean))),
        "general": float(len(GENERAL.findall(clean))),
        "anecdote": float(len(ANECDOTE.findall(clean))),
        "hedge": float(len(HEDGE.findall(clean))),
        "banter": float(len(BANTER.findall(clean))),
        "imperative": float(any(IMPERATIVE.match(s) for s in sentences)),
        "questions": float(questions),
        "only_questions": float(questions == len(sentences)),
        "fillers": float(filler_count(text)),
        "density": round(_content_density(tokens), 3),
        "first_person": round(len(FIRST_PERSON.findall(clean)) / max(len(tokens), 1), 3),
        "second_person": round(len(SECOND_PERSON.findall(clean)) / max(len(tokens), 1), 3),
    }


HAND_FEATURES: tuple[str, ...] = (
    "log_words", "too_short", "too_long", "sentences", "causal", "numbers", "units_with_number", "entities",
    "comparative", "effect", "general", "anecdote", "hedge", "banter", "imperative", "questions",
    "only_questions", "filler_rate", "density", "substance", "first_person", "second_person",
)

def hand_inputs(f: dict[str, float]) -> list[float]:
    """The model's view of the audit features: counts capped, length as log and as too short/long."""
    n_words = f["words"]
    substance = f["causal"] > 0 or f["numbers"] > 0 or f["comparative"] > 0 or f["effect"] > 0
    return [
        float(np.log1p(n_words)),
        max(0.0, 15.0 - n_words) / 15.0,
        max(0.0, n_words - 70.0) / 40.0,
        f["sentences"],
        min(f["causal"], 3.0),
        min(f["numbers"], 3.0),
        min(f["units"], 2.0) if f["numbers"] else 0.0,
        min(f["entities"], 5.0),
        min(f["comparative"], 3.0),
        min(f["effect"], 3.0),
        min(f["general"], 3.0),
        min(f["anecdote"], 3.0),
        min(f["hedge"], 3.0),
        min(f["banter"], 3.0),
        f["imperative"],
        min(f["questions"], 3.0),
        f["only_questions"],
        f["fillers"] / max(n_words, 1.0),
        f["density"],
        float(substance),
        f["first_person"],
        f["second_person"],
    ]


def passage_vector(sentence_vectors: np.ndarray) -> np.ndarray:
    """A passage's embedding for scoring: the normalised mean of its sentences' unit vectors."""
    mean = np.asarray(sentence_vectors, dtype=np.float64).reshape(-1, DIMENSIONS).mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean
