"""A publisher transcript is used only when it covers its episode: judged against the declared duration."""

from __future__ import annotations

import pytest

from podigest_dagster.core.transcribe.coverage import coverage_problem
from podigest_dagster.core.transcribe.segments import Segment


def timed(last_end_s: float, cues: int = 20) -> list[Segment]:
    step = last_end_s / cues
    return [Segment(i, i * step, (i + 1) * step, "a few words said here") for i in range(cues)]


def untimed(words: int) -> list[Segment]:
    return [Segment(i, 0.0, 0.0, "word " * 10) for i in range(words // 10)]


@pytest.mark.parametrize(
    ("last_end_s", "declared_s"),
    [
        (3600, 3600),  # the whole episode
        (3540, 3600),  # the outro music untranscribed
        (2990, 3600),  # ad-free transcript of an episode with ads inserted (0.83, as a real show does)
        (114, 155),  # a short clip whose declared length is rounded
        (211, 169),  # ... or whose last cue is estimated (as the real corpus does)
    ],
)
def test_a_transcript_that_covers_its_episode_fits(last_end_s, declared_s):
    assert coverage_problem(timed(last_end_s), declared_s) is None


@pytest.mark.parametrize(
    ("last_end_s", "declared_s", "words"),
    [
        (600, 3600, "clearly less than the episode"),  # the first ten minutes, or a teaser
        (5400, 3600, "past the end"),  # a longer episode's transcript
        (3600, 1800, "past the end"),  # cues running past the end
    ],
)
def test_a_transcript_clearly_shorter_or_longer_than_the_episode_does_not_fit(last_end_s, declared_s, words):
    problem = coverage_problem(timed(last_end_s), declared_s)
    assert problem is not None and words in problem


def test_untimed_text_is_judged_by_its_words_per_declared_minute():
    assert coverage_problem(untimed(9000), 3600) is None  # 150 words a minute
    assert "clearly less" in coverage_problem(untimed(400), 3600)  # a show-notes page
    assert "longer episode" in coverage_problem(untimed(40000), 3600)


@pytest.mark.parametrize("declared_s", [None, 0, -5])
def test_without_a_declared_duration_nothing_is_judged(declared_s):
    assert coverage_problem(timed(10), declared_s) is None
    assert coverage_problem(untimed(10), declared_s) is None
