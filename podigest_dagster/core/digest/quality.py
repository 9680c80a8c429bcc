"""Quality rules a digest must pass before it is sent: size, no repeats, every claim traceable."""

from __future__ import annotations

from itertools import combinations

from podigest_dagster.core.digest.render import Digest, DigestItem
from podigest_dagster.core.text.alike import ALIKE_OVERLAP, alike

MAX_ITEMS = 5


def alike_pairs(digest: Digest, threshold: float = ALIKE_OVERLAP) -> list[tuple[int, int]]:
    """Rank pairs of items that are alike."""
    return [
        (first.rank, second.rank)
        for first, second in combinations(digest.items, 2)
        if alike(first.insight, second.insight, threshold)
    ]


def has_timestamped_source(item: DigestItem) -> bool:
    return any(source.start_s is not None and source.start_s >= 0 for source in item.sources)


def is_traceable(item: DigestItem) -> bool:
    """An item cites the second it was said, or, when its transcript had no timing, at least the episode
    (never an invented time)."""
    return has_timestamped_source(item) or any(s.start_s is None and (s.episode or s.url) for s in item.sources)


def untraceable_ranks(digest: Digest) -> list[int]:
    """Ranks of items that cite neither a moment nor (for an untimed transcript) an episode."""
    return [item.rank for item in digest.items if not is_traceable(item)]


def item_count_ok(digest: Digest) -> bool:
    return 1 <= len(digest.items) <= MAX_ITEMS
