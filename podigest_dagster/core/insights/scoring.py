"""Insightfulness in [0, 1]: a specific, self-contained claim with a reason, number or consequence scores high."""

from __future__ import annotations

import re

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
STOPWORDS = frozenset(
    "a an the and or but so if then of to in on at by for with from as is are was were be been being it its "
    "this that these those i you he she we they me him her us them my your our their his not no yes yeah do "
    "does did have has had just really very like know mean think thing things stuff kind sort well okay oh "
    "um uh right there here what which who whom when where why how all any some can could would should will "
    "get got go going gonna wanna lot lots much many also too even about up out over again".split()
)

GOOD_LENGTH = (15, 70)
NO_SUBSTANCE_PENALTY = 0.06


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
    }


def _length_term(n_words: float) -> float:
    low, high = GOOD_LENGTH
    if n_words < 8:
        return -0.35
    if n_words < low:
        return -0.15 * (low - n_words) / (low - 8) - 0.05
    if n_words <= high:
        return 0.1
    return max(-0.25, 0.1 - 0.01 * (n_words - high))


def score_features(f: dict[str, float]) -> float:
    """Combine features into insightfulness in [0, 1] with fixed, documented weights.

    A passage with no reason, number, comparison or stated effect is no claim a reader can use: it loses
    NO_SUBSTANCE_PENALTY; units count only next to a number ('this week' is not a measurement)."""
    substance = f["causal"] > 0 or f["numbers"] > 0 or f["comparative"] > 0 or f.get("effect", 0) > 0
    score = 0.3
    score += min(f["causal"], 2) * 0.1
    score += min(f["numbers"], 2) * 0.06 + (min(f["units"], 2) * 0.03 if f["numbers"] else 0.0)
    score += min(f.get("effect", 0), 2) * 0.05
    score -= 0.0 if substance else NO_SUBSTANCE_PENALTY
    score += min(f["entities"], 3) * 0.025
    score += min(f["comparative"], 2) * 0.04
    score += min(f["general"], 2) * 0.04
    score += _length_term(f["words"])
    score -= 0.04 * (f["sentences"] - 1)
    score += 0.3 * (f["density"] - 0.45)
    score -= min(f["anecdote"], 2) * 0.12
    score -= min(f["hedge"], 3) * (0.03 if substance else 0.08)
    score -= min(f["banter"], 3) * 0.12
    score -= 0.15 * f["imperative"] if f["causal"] == 0 else 0.0
    score -= 0.4 if f["only_questions"] else 0.06 * f["questions"]
    score -= min(f["fillers"] / max(f["words"], 1.0) * 2.0, 0.15)
    return round(min(max(score, 0.0), 1.0), 4)


def insight_score(text: str) -> tuple[float, dict[str, float]]:
    """Score a passage for insightfulness, returning the score and the features that explain it."""
    features = extract_features(text)
    return score_features(features), features
