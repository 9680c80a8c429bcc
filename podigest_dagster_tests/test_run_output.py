"""What `podigest run` prints: colour only on a terminal and never under NO_COLOR, one line per asset
from its metadata (with a fallback when the metadata is not the expected one), one-line failure reasons."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from podigest_dagster.run_output import (
    NORMAL,
    QUIET,
    RunReporter,
    asset_line,
    colour_wanted,
    failure_reason,
    step_asset,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def colour_allowed(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_colour_only_on_a_terminal_and_never_under_no_color(colour_allowed, monkeypatch):
    assert colour_wanted(Terminal())
    assert not colour_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(Terminal())


def test_a_warning_on_a_terminal_is_coloured_unless_no_color_is_set(colour_allowed, monkeypatch):
    err = Terminal()
    RunReporter(NORMAL, out=Terminal(), err=err).warn("careful")
    assert "\x1b[" in err.getvalue() and "podigest: warning: careful" in err.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    err = Terminal()
    RunReporter(NORMAL, out=Terminal(), err=err).warn("careful")
    assert err.getvalue() == "podigest: warning: careful\n"


def test_quiet_says_nothing_but_warnings():
    out, err = io.StringIO(), io.StringIO()
    reporter = RunReporter(QUIET, out=out, err=err)
    reporter.say("episodes: 3 on this day")
    reporter.warn("a feed failed")
    assert out.getvalue() == "" and err.getvalue() == "podigest: warning: a feed failed\n"


def test_each_asset_gets_one_line_from_its_metadata_and_an_unknown_one_its_numbers():
    assert asset_line("transcripts", {"transcribed": 6, "from_publisher": 1, "skipped": 0, "failed": 0}) == (
        "transcripts: 6 by Whisper, 1 from the publisher, 0 already done, 0 failed"
    )
    assert asset_line("insight_embeddings", {"embedded_new": 0, "already_embedded": 12}) == (
        "embeddings: 0 new, 12 already embedded"
    )
    assert asset_line("transcripts", {"episodes": 2, "renamed_key": 1}) == "transcripts: episodes 2, renamed_key 1"
    assert asset_line("publisher_transcripts", {"used": 7, "unusable": 2, "already_done": 0, "not_linked": 3}) == (
        "publisher transcripts: 7 used, 2 unusable (the audio instead), 3 not linked"
    )
    audio = {"downloaded": 2, "not_needed_publisher": 7, "not_needed_transcribed": 0, "already_present": 0, "failed": 0}
    assert asset_line("episode_audio", audio) == (
        "audio: 2 downloaded, 7 not needed (publisher transcript), 0 already here, 0 failed"
    )
    assert asset_line("audio_cache", {"files_pruned": 2, "bytes_pruned": 3_100_000, "files_kept": 1,
                                      "bytes_kept": 4000, "pending_files": 1}) == (
        "audio cache: 2 files pruned (3.1 MB), 1 kept (4.0 kB, 1 still to transcribe)"
    )  # fmt: skip
    assert asset_line("search_index", {"days": 1, "label": "x", "ok": True}) == "search_index: days 1"
    assert asset_line("other", {}) == "other: done"


def test_a_steps_asset_is_the_first_part_of_its_key():
    assert step_asset("transcripts.transcribe_one_episode[ab12]") == "transcripts"
    assert step_asset("episodes") == "episodes" and step_asset(None) == ""


def error(message, cause=None):
    return SimpleNamespace(message=message, cause=cause)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (SimpleNamespace(user_failure_data=SimpleNamespace(description="feeds.yaml: bad\nmore"), error=None),
         "feeds.yaml: bad"),
        (SimpleNamespace(
            user_failure_data=None,
            error=error('dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "x":\n',
                        error("jinja2.exceptions.UndefinedError: 'dict object' has no attribute 'topic'\n")),
        ), "jinja2.exceptions.UndefinedError: 'dict object' has no attribute 'topic'"),
        (SimpleNamespace(
            user_failure_data=None,
            error=error("dagster._core.errors.DagsterAssetCheckFailedError: 1 blocking asset check failed with ERROR "
                        "severity:\ntranscripts: transcripts_failure_share\n"),
        ), "DagsterAssetCheckFailedError: 1 blocking asset check failed with ERROR severity: "
           "transcripts: transcripts_failure_share"),
        (SimpleNamespace(user_failure_data=None, error=None), "no reason given"),
    ],
)
def test_a_failed_step_is_one_line_from_the_code_that_failed(data, reason):
    assert failure_reason(SimpleNamespace(step_failure_data=data)) == reason
