"""Transcript first: each kind of bad answer a transcript link gives makes the transcript unusable (the audio
is then downloaded and transcribed), with the reason said; a good one is used. On a local HTTP server."""

from __future__ import annotations

import json

import pytest

from podigest_dagster.core.net.limits import MAX_TRANSCRIPT_BYTES
from podigest_dagster.core.transcribe import publisher_first
from podigest_dagster.core.transcribe.publisher_first import USED, check, check_all, plan
from podigest_dagster.core.transcribe.work import PUBLISHER, UNUSABLE, EpisodeWork, TranscriptLimits

LIMITS = TranscriptLimits(deadline_s=10, allow_private=True)
MINUTES = 10  # the declared duration of every episode here


def vtt(last_end_s: float, cues: int = 10) -> str:
    """A made-up transcript whose cues run evenly to `last_end_s`."""
    step = last_end_s / cues

    def stamp(seconds: float) -> str:
        whole = int(seconds)
        return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int(seconds * 1000) % 1000:03d}"

    lines = ["WEBVTT", ""]
    for i in range(cues):
        lines += [
            f"{stamp(i * step)} --> {stamp((i + 1) * step)}",
            f"Made-up sentence number {i} of the show.",
            "",
        ]
    return "\n".join(lines)


def work(url: str | None, episode_id: str = "ep", kind: str = "text/vtt", **fields) -> EpisodeWork:
    urls = json.dumps([{"url": url, "type": kind}]) if url else None
    base = dict(
        episode_id=episode_id, transcript_urls=urls, declared_duration_s=MINUTES * 60.0, audio_status=None,
        audio_path=None, audio_sha256=None, audio_error=None, done_status=None, done_source=None, done_sha256=None,
    )  # fmt: skip
    return EpisodeWork(**(base | fields))


def test_a_transcript_that_fits_is_used_with_its_segments_and_size(http_server, podigest_home):
    body = vtt(MINUTES * 60 - 20)
    checked = check(work(http_server.add("/t.vtt", body, Content_Type="text/vtt")), LIMITS)
    assert (checked.status, checked.error, checked.bytes) == (USED, None, len(body))
    assert checked.outcome is not None and checked.outcome.source == PUBLISHER
    assert len(checked.outcome.segments) == 10 and checked.outcome.audio_duration_s == MINUTES * 60.0


@pytest.mark.parametrize(
    ("body", "status", "content_type", "reason"),
    [
        ("", 404, "text/plain", "HTTP 404"),
        ("<!DOCTYPE html><html><body><h1>Episode page</h1></body></html>", 200, "text/html", "HTML page"),
        ("WEBVTT\n\n", 200, "text/vtt", "holds no text"),
        ("this is not a transcript \x00\x01", 200, "text/vtt", ""),
        (vtt(60), 200, "text/vtt", "clearly less than the episode"),  # a teaser, or a shorter episode's
        (vtt(3 * MINUTES * 60), 200, "text/vtt", "past the end"),  # a longer episode's transcript
        (vtt(MINUTES * 60 * 1.1, cues=2) + "\n00:59:00.000 --> 01:00:00.000\nA cue far past the end.\n", 200,
         "text/vtt", "past the end"),  # cues past the end of the episode
    ],
)  # fmt: skip
def test_a_transcript_link_that_answers_no_usable_transcript_is_unusable_with_why(
    http_server, podigest_home, body, status, content_type, reason
):
    url = http_server.add("/t.vtt", body, status=status, Content_Type=content_type)
    checked = check(work(url), LIMITS)
    assert checked.status == UNUSABLE and checked.outcome is None
    assert reason in (checked.error or ""), checked.error


def test_a_huge_transcript_is_refused_at_the_size_cap_without_being_read_whole(http_server, podigest_home):
    assert TranscriptLimits().max_bytes == MAX_TRANSCRIPT_BYTES
    url = http_server.add("/huge.vtt", vtt(MINUTES * 60, cues=2000), Content_Type="text/vtt")
    checked = check(work(url), TranscriptLimits(max_bytes=16_000, deadline_s=10, allow_private=True))
    assert checked.status == UNUSABLE and "size cap" in (checked.error or "")


def test_checks_keep_the_day_order_and_the_plan_counts_the_episodes_not_fetched(http_server, podigest_home):
    good = http_server.add("/good.vtt", vtt(MINUTES * 60), Content_Type="text/vtt")
    missing = http_server.url("/missing.vtt")
    day = [
        work(good, "a"),
        work(missing, "b"),
        work(None, "c"),
        work(good, "d", done_status="ok", done_source=PUBLISHER),
        work(good, "e"),
    ]
    pending, tally = plan(day, "whisper:base")
    assert [w.episode_id for w in pending] == ["a", "b", "e"]
    assert (tally.not_linked, tally.already_done) == (1, 1)
    for checked in check_all(pending, LIMITS, parallel=3):
        tally.add(checked)
    assert [c.episode_id for c in check_all(pending, LIMITS)] == ["a", "b", "e"]
    assert (tally.used, tally.unusable) == (2, 1) and "HTTP 404" in tally.unusable_reasons["b"]
    assert http_server.hits("/good.vtt") == 4  # a and e, twice: never d, already transcribed
    assert "no Whisper needed" in publisher_first.describe(next(check_all(pending[:1], LIMITS)))
