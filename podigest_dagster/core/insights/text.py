"""Spoken-transcript text repair: sentence splitting, filler removal, casing and punctuation."""

from __future__ import annotations

import re

from podigest_dagster.core.text.sentences import normalise_spaces

_SPEAKER_LABEL = re.compile(r"^\s*(?:\[[^\]]{1,40}\]|[A-Z][A-Za-z .'-]{0,30}|SPEAKER[ _]?\d+)\s*:\s+")
# a transcriber's note on the audio ('[inaudible 01:04:48]', '(laughs)', '[00:12:03]'), never words said
_NOISE_TAG = re.compile(
    r"[\[(](?:(?:laughs?|laughing|laughter|music|applause|crosstalk|inaudible|indiscernible|unintelligible|silence|"
    r"foreign|cough(?:s|ing)?|pause|chuckles?)\b[^\[\]()]{0,30}|\d{1,2}:\d{2}(?::\d{2})?)[\])]",
    re.I,
)

FILLER_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.I)
    for p in (
        r",?\s*\b(?:um+|uh+|erm+|er|ah+|hmm+|mm+|uh-huh|mhm)\b,?",
        r"(?:^|(?<=[,.;!?]))\s*so yeah\b[,.]?",
        r"(?:^|(?<=[.;!?]))\s*(?:(?:you know|i mean|like|okay|ok|well|yeah|right|look|anyway|so)\s*,\s*)+",
        r",\s*(?:you know|i mean|like|kind of|sort of)\s*,",
        r"^\s*(?:i mean|you know|like)\b,?",
        r",\s*(?:you know|i mean|like|right)\s*(?=[,.?!]|$)",
        r"\b(?:you know|i mean),\s*",
        r"\b(?:kind of|sort of|kinda|sorta)\s+(?=\w)",
        r"\b(?:basically|literally|honestly|obviously)\b,?\s*",
    )
)

DISCOURSE_STARTERS = re.compile(
    r"^(?:(?:and|but|so|also|now|well|okay|ok|yeah|yes|right|look|anyway|then|plus)\b[,]?\s+)+", re.I
)

DANGLING_START = re.compile(
    r"^(?:this|that|these|those|they|them|their|theirs|he|she|him|her|his|it|its|such|which|"
    r"the same|the latter|the former|both of them|neither|here|there's that|that's|it's|"
    r"(?:the )?(?:other |first |second |third |last )?one (?:is|are|was|were)|the (?:other|first|second|third) (?:is|are|was|one)|"
    r"another one|the rest (?:is|are))\b",
    re.I,
)
# A passage that points at something said earlier in the episode cannot be read cold.
REFERS_BACK = re.compile(
    r"\b(?:(?:that|which|what|who|whom) (?:we|i|you|he|she|they)(?:'ve| have)? (?:just )?"
    r"(?:talked|spoke|spoken|mentioned|discussed|described|covered|said|heard)(?: about)? "
    r"(?:earlier|before|previously|a (?:moment|minute|second|while) ago|at the (?:start|beginning))|"
    r"as i (?:said|mentioned)(?: (?:earlier|before))?|like i (?:said|mentioned)|"
    r"(?:mentioned|described|discussed) (?:earlier|above|before)|we talked about earlier|"
    r"earlier,? (?:we|i) (?:talked|spoke|discussed|mentioned|said))\b",
    re.I,
)


# A passage that opens by answering what was just said ("I don't necessarily think that's the case, but
# ...") disputes a claim the reader never heard.
REPLY_START = re.compile(
    r"^(?:(?:well|yeah|no|so|and|but),?\s+)*i (?:don't|do not|wouldn't|would not) (?:necessarily |really |quite )?"
    r"(?:think|know|believe|agree|say)(?: that)? (?:that's|that is|that|it's|it is|this is) (?:necessarily |really |quite |entirely )?"
    r"(?:the case|true|right|fair|accurate)\b"
    r"|^(?:(?:well|yeah|no|so|and|but),?\s+)*i (?:wouldn't|would not) (?:necessarily |really )?(?:say|call it)"
    r" (?:that )?(?:it's|it is|that's|they're|they are|he's|she's)\b",
    re.I,
)


def refers_back(text: str) -> bool:
    """True when a passage leans on an earlier part of the episode ('... that we talked about earlier',
    'as I said') or opens by answering it ("I don't think that's true, but ...")."""
    return bool(REFERS_BACK.search(text) or REPLY_START.match(text.lstrip()))

_EXPLETIVE_IT = re.compile(
    r"^it(?:'s| is| was| will be| would be| turns out| seems| appears| takes| costs| pays| helps| matters)"
    r"(?:\s+\w+){0,3}?\s+(?:to|that|for|when|if|out)\b",
    re.I,
)
_EXISTENTIAL = re.compile(r"^(?:this|that) (?:year|week|month|decade|century|morning|season)\b", re.I)


def strip_speaker_label(text: str) -> str:
    """Drop a leading 'NAME:' or '[Speaker 1]:' label that publisher transcripts put before a turn."""
    return _SPEAKER_LABEL.sub("", text, count=1)


def remove_fillers(text: str) -> str:
    """Remove spoken fillers ('um', 'you know', 'so yeah', hedges) that carry no meaning."""
    text = _NOISE_TAG.sub(" ", text)
    for pattern in FILLER_PATTERNS:
        text = pattern.sub(" ", text)
    return normalise_spaces(text)


def filler_count(text: str) -> int:
    """How many filler occurrences a text holds: a sign of unedited, low-density speech."""
    return sum(len(p.findall(text)) for p in FILLER_PATTERNS)


_FALSE_START = re.compile(r"\b\w+(?:['’]\w+)?-\s+(?=\w)")
_REPEATED_WORDS = re.compile(r"\b(\w+(?:['’]\w+)?(?:\s+\w+(?:['’]\w+)?){0,2})(?:[\s,]+\1\b)+", re.I)
_FILLER_LIKE = re.compile(r"(?<![,;])(\s)like,\s+(?=\w)", re.I)
_LIKE_IS_A_VERB_AFTER = frozenset("i you we they people would 'd i'd you'd we'd they'd don't didn't really".split())


def drop_false_starts(text: str) -> str:
    """Drop a word the speaker broke off to start over ('we- we cut', 'on it- on the compiler'): a word with a
    hyphen and then a space; a hyphened compound ('long-term') has no space and stays."""
    return _FALSE_START.sub("", text)


def _drop_filler_like(text: str) -> str:
    """'cut the price by like, forty percent' -> 'by forty percent'; 'I like, for one, ...' keeps its verb."""
    def keep(m: re.Match[str]) -> str:
        before = text[: m.start()].split()
        return m.group(0) if before and before[-1].lower() in _LIKE_IS_A_VERB_AFTER else m.group(1)

    return _FILLER_LIKE.sub(keep, text)


def collapse_repeats(text: str) -> str:
    """Collapse stutters such as 'the the', 'we we we', "there's there's" or 'I think I think' (up to three
    words said twice) into one."""
    return _REPEATED_WORDS.sub(r"\1", text)


# "And ...", "But ...", "Or ...", "Because ..." carry on what was said before, even at a new cue or turn:
# such a sentence never opens a passage. A leading "So" is left to the discourse starters: in speech it
# opens a new point ("So, free parking is ...") at least as often as it concludes the last one.
LEADING_CONJUNCTION = re.compile(r"^(?:and|but|or|nor|yet|because|cause|'cause)\b", re.I)

CONTINUATION_START = re.compile(
    r"^(?:and|but|or|nor|yet|because|cause|'cause|which|whereas|although|though|unless|plus|also|"
    r"as well|as a result|that means|this means|in other words|meaning|for example|for instance|"
    r"however|instead|otherwise|then|than|whereby|whose|whom)\b",
    re.I,
)


def opens_a_thought(sentence: str) -> bool:
    """True when a sentence can begin a passage read cold: it starts with a capital or a digit (not a word
    cut off by a cue boundary), and not with a conjunction ('And', 'But', 'Because') or a connective
    that continues what came before."""
    head = strip_speaker_label(sentence).lstrip(" \"'“‘([-–—…")
    if not head or not (head[0].isupper() or head[0].isdigit()):
        return False
    head = remove_fillers(head).lstrip(" ,")
    if LEADING_CONJUNCTION.match(head):
        return False
    return not CONTINUATION_START.match(strip_discourse_starters(head))


def strip_discourse_starters(text: str) -> str:
    """Drop leading 'and', 'but', 'so', 'well', 'okay' that tie a sentence to speech, not to meaning."""
    return DISCOURSE_STARTERS.sub("", text).lstrip(" ,")


_ANSWER_FRAGMENT = re.compile(
    r"^(?:(?:mostly|partly|largely|simply|it's|it is) )?because\b"
    r"(?:[^,;]|[,;]\s*(?:which|and|but|so|while|since|as|because|meaning|especially|or)\b)*$|^(?:yes|no|nope|yep)\b",
    re.I,
)


def starts_with_dangling_reference(sentence: str) -> bool:
    """True when a sentence opens with a pronoun or demonstrative whose referent lies before it,
    or is an answer fragment ('Because ...' with no main clause, 'Yes, ...') that needs its question."""
    head = strip_discourse_starters(strip_speaker_label(remove_fillers(sentence))).strip()
    if _ANSWER_FRAGMENT.match(head):
        return True
    if not DANGLING_START.match(head):
        return False
    return not (_EXPLETIVE_IT.match(head) or _EXISTENTIAL.match(head))


_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[,.;:!?]")
_PLURAL_PRONOUNS = frozenset({"they", "them", "their", "theirs", "themselves"})
_GROUP_NOUNS = frozenset(
    "people everyone everybody children men women police staff public team family government company "
    "couple crowd audience anyone someone nobody".split()
)
_NOT_PLURAL_ENDINGS = ("ss", "us", "is", "as", "'s", "’s")
_NON_NOUNS = frozenset(
    "this was has does goes makes takes gets says means is its his hers ours yours always perhaps unless "
    "plus across thus less besides sometimes afterwards towards whereas".split()
)
_DEMONSTRATIVES = frozenset({"this", "these", "those"})
DEMONSTRATIVE_REACH = 16
_DEMONSTRATIVE_EXEMPT = frozenset(
    "year years week weeks month months morning evening afternoon season decade century summer winter spring "
    "autumn fall weekend days who which is are was were means one ones kind sort type".split()
)
_PREPOSITIONS = frozenset(
    "of in on at for with from by about into to against like after before without through over under "
    "beyond despite during toward towards via".split()
)
_COMPLEMENT_HEADS = frozenset(
    "so such means mean meant shows show showed shown says say said think thought know knew believe argue "
    "suggest suggests found find finds is was are were fact idea claim evidence sure clear true likely "
    "realise realize notice prove proves report reports estimate expect hope given except now ensure "
    "assume assumes note notes noticed than now".split()
)
_CLAUSE_BREAK = frozenset({",", ".", ";", ":", "!", "?", "and", "but", "or"})
_FUNCTION_WORDS = frozenset(
    "a an the and or but so if then of to in on at by for with from as is are was were be been it its this "
    "that these those i you he she we they me him her us them my your our their his not no do does did have "
    "has had just really very will would can could should may might must".split()
)


def _is_antecedent_for_they(token: str) -> bool:
    low = token.lower()
    if low in _GROUP_NOUNS:
        return True
    if low in _NON_NOUNS or low in _FUNCTION_WORDS or len(low) < 4:
        return False
    return low.endswith("s") and not low.endswith(_NOT_PLURAL_ENDINGS)


def _stem(token: str) -> str:
    low = token.lower().rstrip("'’")
    return low[:-1] if low.endswith("s") and len(low) > 3 else low


def _demonstrative_noun(tokens: list[str], i: int) -> str | None:
    """The noun after a demonstrative 'this/these/those/that' at position i, or None when it is not one."""
    low = tokens[i].lower()
    if i + 1 >= len(tokens) or not tokens[i + 1][0].isalpha():
        return None
    noun = tokens[i + 1].lower()
    if noun in _FUNCTION_WORDS or noun in _DEMONSTRATIVE_EXEMPT:
        return None
    if low in _DEMONSTRATIVES:
        return noun
    if low != "that" or i == 0:
        return None
    before = tokens[i - 1].lower()
    after = tokens[i + 2].lower() if i + 2 < len(tokens) else "."
    if before in _COMPLEMENT_HEADS or not (before in _PREPOSITIONS or after in _CLAUSE_BREAK):
        return None
    return noun


def lacks_plural_antecedent(text: str) -> bool:
    """True when 'they/their/them' appears with no plural noun anywhere before it in the text."""
    tokens = _TOKEN.findall(strip_speaker_label(remove_fillers(text)))
    return any(
        t.lower() in _PLURAL_PRONOUNS and not any(_is_antecedent_for_they(x) for x in tokens[:i])
        for i, t in enumerate(tokens)
    )


def has_unresolved_reference(sentence: str) -> bool:
    """True when a sentence leans on something said before it: it opens with a dangling pronoun, or it
    uses 'they/their/them' with no plural noun before it, or 'that/this/these/those + noun' within its
    first words with no earlier mention of the noun ('... cuts that waste', '... double their estimate').
    Deep in a long sentence a demonstrative almost always points inside the sentence, so it is trusted."""
    if starts_with_dangling_reference(sentence):
        return True
    tokens = _TOKEN.findall(strip_speaker_label(remove_fillers(sentence)))
    position = 0
    if lacks_plural_antecedent(sentence):
        return True
    for i, token in enumerate(tokens):
        low = token.lower()
        position += token[0].isalpha()
        near_start = position <= DEMONSTRATIVE_REACH
        noun = _demonstrative_noun(tokens, i) if near_start and (low in _DEMONSTRATIVES or low == "that") else None
        if noun and _stem(noun) not in {_stem(t) for t in tokens[:i]}:
            return True
    return False


_LIGHT_WORDS = frozenset(
    "i you we i'm i've i'd you're we're think thought guess feel felt believe know mean said say says so and but "
    "or when if because as well yeah yes no like just really actually also then now that's what how why where "
    "do does did don't didn't is was were are be been have has had would could should will can may might "
    "basically honestly obviously right okay ok um uh oh sure see saw love".split()
)
_EARLY_PRONOUN = re.compile(r"^(?:[\w'’,]+\s+){0,5}?(it|he|she|they|them|this|that)\b(?!\s*(?:'s|is|was) (?:\w+ )?(?:to|that|when|if)\b)", re.I)


def leans_on_unnamed(sentence: str) -> bool:
    """True when a passage's first sentence leans on something it never names: a dangling start, or a
    pronoun among its first words ('I think it expands ...', 'So when they launched ...') whose referent is
    not in the sentence before it."""
    if has_unresolved_reference(sentence):
        return True
    head = strip_discourse_starters(strip_speaker_label(remove_fillers(sentence))).strip()
    m = _EARLY_PRONOUN.match(head)
    if not m or _EXPLETIVE_IT.match(head[m.start(1):]):
        return False
    before = re.findall(r"[a-z'’]+", head[: m.start(1)].lower())
    return all(w in _LIGHT_WORDS for w in before)  # any noun before the pronoun may be its referent


def unshout(text: str) -> str:
    """A speaker turn of caption text in capitals ('OVER FIFTEEN YEARS ...') in sentence case: three words or
    more whose letters are nearly all capitals is shouting, not names. The length is kept (times are located
    by character offsets). Lower-case captions read as they do elsewhere: no passage opens on a lower-case
    word, so a caption show without punctuation sends nothing rather than run-on fragments."""
    letters = [c for c in text if c.isalpha()]
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 3 or sum(c.isupper() for c in letters) < 0.9 * len(letters):
        return text
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    lowered = re.sub(r"\bi\b", "I", lowered)
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), lowered)


def repair_casing(sentence: str) -> str:
    """Capitalise the sentence start and the pronoun 'I'."""
    sentence = re.sub(r"\bi\b(?=(?:'[a-z]+)?\b)", "I", sentence)
    for i, ch in enumerate(sentence):
        if ch.isalpha():
            return sentence[:i] + ch.upper() + sentence[i + 1 :]
    return sentence


def end_punctuation(sentence: str) -> str:
    """End a sentence with a period unless it already ends with terminal punctuation."""
    sentence = sentence.rstrip(" ,;:-–—")
    if not sentence:
        return sentence
    return sentence if sentence[-1] in ".!?\"'”’)" else sentence + "."


def clean_sentence(sentence: str, opening: bool = True) -> str:
    """One readable sentence: label, fillers and stutters removed, casing and end punctuation repaired.

    An opening sentence also loses a leading 'and'/'but'/'so': nothing precedes it in the passage."""
    text = strip_speaker_label(sentence)
    text = collapse_repeats(drop_false_starts(_drop_filler_like(remove_fillers(text))))
    if opening:
        text = strip_discourse_starters(text)
    text = normalise_spaces(text)
    return end_punctuation(repair_casing(text)) if text else ""


_INTERJECTIONS = frozenset(
    "yeah yes yep no nope okay ok right so well um uh sure exactly totally absolutely mhm hmm oh wow cool great "
    "and but alright fine".split()
)


def only_interjections(sentence: str) -> bool:
    """'Yeah.', 'Okay, so.', 'Right, right.': a sentence of reply words only."""
    words = re.findall(r"[a-z]+", strip_speaker_label(sentence).lower())
    return bool(words) and all(w in _INTERJECTIONS for w in words)


def clean_passage(sentences: list[str]) -> str:
    """Join cleaned sentences into one self-contained passage. A piece that runs on from the one before it
    (cut at a cue boundary: no end punctuation before, a lower-case word after, no new speaker) is joined
    to it, not ended with a period and capitalised ('about how religion. Which thrives ...')."""
    pieces: list[str] = []
    for sentence in sentences:
        if pieces and _runs_on(pieces[-1], sentence):
            pieces[-1] = f"{pieces[-1].rstrip()} {sentence.lstrip()}"
        else:
            pieces.append(sentence)
    while len(pieces) > 1 and only_interjections(pieces[0]):
        pieces.pop(0)  # a first sentence that is only 'Yeah.' or 'Okay, so.' says nothing
    cleaned = [clean_sentence(x, opening=i == 0) for i, x in enumerate(pieces)]
    return " ".join(c for c in cleaned if c)


def _runs_on(before: str, sentence: str) -> bool:
    tail = before.rstrip()
    head = sentence.lstrip()
    if not (tail and head) or tail[-1] in ".!?…\"”’)" or strip_speaker_label(head) != head:
        return False
    return head[0].islower() or tail[-1] in ",;"  # a clause cut from a run-on at its comma goes on


_SUFFIXES = ("ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s", "ness", "ment", "ation", "ion")
_PREFIXES = ("under", "over", "out", "re", "un", "dis", "pre", "non", "mis", "co")


def is_known_word(word: str, vocabulary: frozenset[str]) -> bool:
    """True when a lower-case word, or its stem without a common prefix or suffix, is in the vocabulary."""
    if word in vocabulary:
        return True
    stems = {word[: -len(x)] for x in _SUFFIXES if word.endswith(x) and len(word) - len(x) >= 3}
    stems |= {stem + "e" for stem in stems} | {stem[:-1] for stem in stems if len(stem) > 3 and stem[-1] == stem[-2]}
    stems |= {word[len(p) :] for p in _PREFIXES if word.startswith(p) and len(word) - len(p) >= 4}
    return any(stem in vocabulary for stem in stems)


def unknown_word_share(text: str, vocabulary: frozenset[str]) -> float:
    """Share of a text's words that are not English words of a vocabulary, even stemmed: garbled speech
    recognition ('maximically', 'imponsored') scores high."""
    tokens = [t.lower() for t in re.findall(r"[A-Za-z]+", text)]
    if not tokens or not vocabulary:
        return 0.0
    return sum(1 for t in tokens if not is_known_word(t, vocabulary)) / len(tokens)
