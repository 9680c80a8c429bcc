"""Per-episode transcription choices: the skip rule, publisher first, Whisper fallback, and the tally."""

from __future__ import annotations

import json

import pytest

from podigest_dagster.core.transcribe import engine as transcribe
from podigest_dagster.core.transcribe import work as transcript_work
from podigest_dagster.core.transcribe.engine import Segment, Transcriber
from podigest_dagster.core.transcribe.whisper_model import ModelError
from podigest_dagster.core.transcribe.work import (
    PUBLISHER,
    EpisodeWork,
    Outcome,
    Tally,
    describe,
    transcribe_episode,
)
from podigest_dagster_tests.support import speech

WHISPER = "whisper:base"
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nPublishers write their own transcripts.\n"
SPOKEN = "Researchers found that regular exercise makes people happier and more productive."


def work(**fields) -> EpisodeWork:
    base = dict(
        episode_id="ep",
        transcript_urls=None,
        declared_duration_s=None,
        audio_status=None,
        audio_path=None,
        audio_sha256=None,
        audio_error=None,
        done_status=None,
        done_source=None,
        done_sha256=None,
    )
    return EpisodeWork(**(base | fields))


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory):
    return Transcriber("base", models_dir=tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize(
    ("fields", "done"),
    [
        ({}, False),
        ({"done_status": "failed", "done_source": PUBLISHER}, False),
        ({"done_status": "ok", "done_source": PUBLISHER}, True),
        ({"done_status": "ok", "done_source": WHISPER, "done_sha256": "a", "audio_sha256": "a"}, True),
        ({"done_status": "ok", "done_source": WHISPER, "done_sha256": "a", "audio_sha256": "b"}, False),
        ({"done_status": "ok", "done_source": WHISPER, "done_sha256": None, "audio_sha256": None}, False),
        (
            {"done_status": "ok", "done_source": "whisper:large-v3", "done_sha256": "a", "audio_sha256": "a"},
            False,
        ),
    ],
)
def test_an_episode_is_skipped_only_when_its_transcript_is_current(fields, done):
    assert work(**fields).is_done(WHISPER) is done


@pytest.mark.parametrize("urls", ["not json", json.dumps({"url": "http://x/t.vtt"}), json.dumps([]), None])
def test_malformed_or_missing_transcript_urls_offer_no_publisher_transcript(urls):
    assert work(transcript_urls=urls).offered_transcript() is None


def test_a_publisher_transcript_is_used_and_its_duration_taken_from_the_last_cue(
    podigest_home, http_server, transcriber
):
    url = http_server.add("/t.vtt", VTT, Content_Type="text/vtt")
    outcome = transcribe_episode(
        work(transcript_urls=json.dumps([{"url": url, "type": "text/vtt"}]), audio_sha256="s"), transcriber
    )
    assert (outcome.status, outcome.source, outcome.audio_sha256, outcome.audio_duration_s) == (
        "ok",
        PUBLISHER,
        "s",
        4.5,
    )
    assert [s.text for s in outcome.segments] == ["Publishers write their own transcripts."]


def test_the_declared_duration_wins_over_the_last_cue(podigest_home, http_server, transcriber):
    url = http_server.add("/t.vtt", VTT, Content_Type="text/vtt")
    entry = json.dumps([{"url": url, "type": "text/vtt"}])
    outcome = transcribe_episode(work(transcript_urls=entry, declared_duration_s=50.0), transcriber)
    assert outcome.audio_duration_s == 50.0


def test_a_broken_publisher_transcript_and_no_audio_fail_with_both_reasons(
    podigest_home, http_server, transcriber
):
    url = http_server.add("/gone.vtt", "", status=404)
    outcome = transcribe_episode(
        work(
            transcript_urls=json.dumps([{"url": url, "type": "text/vtt"}]),
            audio_status="failed",
            audio_error="HTTP 410",
        ),
        transcriber,
    )
    assert (outcome.status, outcome.source, outcome.segments) == ("failed", WHISPER, [])
    assert "HTTP 404" in outcome.error
    assert outcome.error.endswith("; no audio to transcribe (HTTP 410)")


def test_an_episode_without_audio_or_transcript_fails_saying_so(transcriber):
    outcome = transcribe_episode(work(), transcriber)
    assert (outcome.status, outcome.error) == ("failed", "no audio to transcribe (not downloaded)")


def test_a_broken_publisher_transcript_falls_back_to_whisper_on_the_audio(
    podigest_home, http_server, transcriber
):
    url = http_server.add("/gone.vtt", "", status=404)
    clip = speech.clip(SPOKEN, fmt="mp3")
    outcome = transcribe_episode(
        work(
            transcript_urls=json.dumps([{"url": url, "type": "text/vtt"}]),
            audio_status="ok",
            audio_path=str(clip),
            audio_sha256="s",
        ),
        transcriber,
    )
    assert (outcome.status, outcome.source, outcome.audio_sha256, outcome.language) == (
        "ok",
        WHISPER,
        "s",
        "en",
    )
    assert speech.word_overlap(SPOKEN, " ".join(s.text for s in outcome.segments)) >= 0.6


def test_the_tally_counts_each_outcome_and_whisper_speed():
    tally = Tally(skipped=1)
    tally.add(Outcome("ok", WHISPER, None, audio_duration_s=60.0, transcribe_s=6.0))
    tally.add(Outcome("ok", PUBLISHER, None, audio_duration_s=900.0, transcribe_s=0.5))
    tally.add(Outcome("failed", WHISPER, None, error="x"))
    assert (tally.total, tally.transcribed, tally.from_publisher, tally.failed) == (4, 1, 1, 1)
    assert (tally.audio_s, tally.realtime_factor, tally.failed_share) == (60.0, 10.0, 0.25)
    assert (Tally().realtime_factor, Tally().failed_share) == (0.0, 0.0)


def test_each_outcome_is_described_in_one_log_line():
    segment = Segment(0, 0.0, 1.0, "hi")
    assert describe("e", Outcome("failed", WHISPER, None, error="boom")) == "e: failed: boom"
    assert (
        describe("e", Outcome("ok", PUBLISHER, None, transcribe_s=0.5, segments=[segment]))
        == "e: 1 segments from publisher, fetched in 0.5s"
    )
    assert (
        describe(
            "e", Outcome("ok", WHISPER, None, audio_duration_s=60.0, transcribe_s=6.0, segments=[segment])
        )
        == "e: 1 segments from whisper:base, audio 60s, wall 6.0s, 10.0x real time"
    )


def test_an_unforeseen_publisher_transcript_error_falls_back_to_whisper_with_the_reason(
    transcriber, monkeypatch
):
    url = "https://example.com/t.json"
    monkeypatch.setattr(
        transcript_work, "get_transcript", explode(MemoryError("transcript too big to hold"))
    )
    outcome = transcribe_episode(work(transcript_urls=json.dumps([{"url": url}])), transcriber)
    assert outcome.status == "failed"
    assert outcome.error == (
        "publisher transcript unusable: MemoryError: transcript too big to hold; "
        "no audio to transcribe (not downloaded)"
    )


def test_a_deeply_nested_json_transcript_falls_back_to_the_audio(podigest_home, http_server, transcriber):
    url = http_server.add("/t.json", b"[" * 200_000, Content_Type="application/json")
    outcome = transcribe_episode(
        work(transcript_urls=json.dumps([{"url": url}]), audio_status="ok", audio_path=str(clip())),
        transcriber,
    )
    assert (outcome.status, outcome.source) == ("ok", WHISPER)


def test_audio_that_breaks_the_decoder_fails_its_episode_not_the_day(transcriber, monkeypatch):
    monkeypatch.setattr(transcribe, "iter_chunks", explode(IndexError("odd frame")))
    outcome = transcribe_episode(work(audio_status="ok", audio_path=str(clip())), transcriber)
    assert (outcome.status, outcome.source) == ("failed", WHISPER)
    assert outcome.error == "transcription failed: IndexError: odd frame"


def test_a_model_that_cannot_load_fails_the_step(tmp_path):
    (tmp_path / "empty-model").mkdir()
    broken = Transcriber(str(tmp_path / "empty-model"), models_dir=tmp_path)
    with pytest.raises(ModelError):
        transcribe_episode(work(audio_status="ok", audio_path=str(clip())), broken)


def clip():
    return speech.clip(SPOKEN, fmt="mp3")


def explode(exc: Exception):
    def raiser(*args, **kwargs):
        raise exc

    return raiser
