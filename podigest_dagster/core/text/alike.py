"""Two texts that say the same thing in (nearly) the same words: the digest's blocking check and the
selection that must never offer what that check refuses use this one rule."""

from __future__ import annotations

import re
import unicodedata

ALIKE_OVERLAP = 0.8

_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a text, for equality tests."""
    folded = unicodedata.normalize("NFKD", text or "").casefold()
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped))


def token_overlap(a: str, b: str) -> float:
    """Share of the smaller text's distinct words that the other text also uses (0 to 1)."""
    left, right = set(normalise(a).split()), set(normalise(b).split())
    if not left or not right:
        return 0.0
    return len(left & right) / min(len(left), len(right))


def alike(a: str, b: str, threshold: float = ALIKE_OVERLAP) -> bool:
    """True when two texts say the same thing in (nearly) the same words."""
    return normalise(a) == normalise(b) or token_overlap(a, b) >= threshold
