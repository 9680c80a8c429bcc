"""Transcription with the real bundled Whisper model on espeak-ng speech, and the hallucination guards."""

from __future__ import annotations

import struct

import pytest

from podigest_dagster.core.transcribe.audio import AudioError, iter_chunks, probe_duration
from podigest_dagster.core.transcribe.engine import (
    Segment,
    Transcriber,
    apply_guards,
    collapse_repeated_phrases,
    is_silence_hallucination,
    split_into_sentences,
)
from podigest_dagster_tests.support import speech

FIRST = "Podcasts are a great way to learn about science and history while you commute to work."
SECOND = "Researchers found that sleeping eight hours every night improves memory and reduces stress."
THIRD = "Good software is written for the people who will read it next year."


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def transcriber(models_dir):
    return Transcriber("base", models_dir=models_dir)


def text_of(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments)


def test_speech_in_an_mp3_comes_back_as_words(transcriber):
    path = speech.clip(FIRST, speech.silence(1), SECOND, fmt="mp3")
    result = transcriber.transcribe(path)
    assert result.language == "en"
    assert speech.word_overlap(FIRST + " " + SECOND, text_of(result.segments)) >= 0.6
    assert result.duration_s == pytest.approx(probe_duration(path), abs=0.2)
    assert [s.seq for s in result.segments] == list(range(len(result.segments)))
    assert all(0 <= s.start_s <= s.end_s <= result.duration_s + 0.5 for s in result.segments)
    assert transcriber.model_label == "whisper:base"


def test_long_silence_inside_speech_gets_no_text(transcriber):
    first = speech.speech_samples(FIRST)
    path = speech.clip(first, speech.silence(25), SECOND)
    silent_from, silent_to = len(first) / speech.RATE + 1.0, len(first) / speech.RATE + 24.0
    result = transcriber.transcribe(path)
    assert speech.word_overlap(FIRST + " " + SECOND, text_of(result.segments)) >= 0.6
    inside = [s for s in result.segments if s.start_s >= silent_from and s.end_s <= silent_to]
    assert inside == []
    extra = speech.content_words(text_of(result.segments)) - speech.content_words(FIRST + " " + SECOND)
    assert len(extra) <= 3


@pytest.mark.parametrize("vad", [True, False], ids=["vad", "no_vad"])
@pytest.mark.parametrize(
    "sound",
    [speech.tone(12), speech.noise(12, level=0.2), speech.silence(12)],
    ids=["tone", "noise", "silence"],
)
def test_a_tone_noise_or_silence_gives_no_text(models_dir, sound, vad):
    result = Transcriber("base", models_dir=models_dir, vad=vad).transcribe(speech.clip(sound))
    words = text_of(result.segments).split()
    assert words == [] if vad else len(words) <= 3
    assert result.duration_s == pytest.approx(12, abs=0.1)


def test_windows_keep_file_timestamps_and_lose_no_words(models_dir):
    parts = [FIRST, speech.silence(3), SECOND, speech.silence(3), THIRD]
    path = speech.clip(*parts)
    chunks = list(iter_chunks(path, window_s=8, cut_search_s=3))
    assert len(chunks) >= 3
    assert sum(len(c.samples) for c in chunks) == len(speech.read_samples(path))
    result = Transcriber("base", models_dir=models_dir, window_s=8).transcribe(path)
    assert speech.word_overlap(f"{FIRST} {SECOND} {THIRD}", text_of(result.segments)) >= 0.6
    third = [s for s in result.segments if "software" in s.text.lower()]
    assert third and third[0].start_s > 10
    assert [s.start_s for s in result.segments] == sorted(s.start_s for s in result.segments)


def test_a_fixed_language_is_used_as_given(models_dir):
    result = Transcriber("base", models_dir=models_dir, language="en").transcribe(speech.clip(THIRD))
    assert result.language == "en"
    assert speech.word_overlap(THIRD, text_of(result.segments)) >= 0.6


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _bad_codec_wav(tmp_path):
    data = bytearray(speech.clip(THIRD).read_bytes())
    fmt = data.find(b"fmt ") + 8
    data[fmt : fmt + 2] = struct.pack("<H", 0x1234)
    path = tmp_path / "bad-codec.wav"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: _write(tmp / "empty.mp3", b""), "zero-length"),
        (lambda tmp: _write(tmp / "junk.mp3", b"\x00junk" * 500), "corrupt"),
        (lambda tmp: _write(tmp / "page.mp3", b"<html>not audio</html>"), "corrupt"),
        (_bad_codec_wav, "unsupported audio codec"),
        (lambda tmp: tmp / "missing.mp3", "no audio file"),
    ],
    ids=["zero_length", "corrupt", "html_page", "unsupported_codec", "missing"],
)
def test_undecodable_audio_raises_a_clear_audio_error(transcriber, tmp_path, make, message):
    with pytest.raises(AudioError, match=message):
        transcriber.transcribe(make(tmp_path))


def seg(text: str, no_speech: float = 0.1, logprob: float = -0.3, seq: int = 0) -> Segment:
    return Segment(seq, 0.0, 1.0, text, logprob, no_speech)


def test_unsure_text_where_the_model_heard_no_speech_is_dropped():
    words = "several honest words of an actual sentence"
    assert is_silence_hallucination(seg(words, no_speech=0.8, logprob=-1.4))
    assert not is_silence_hallucination(seg(words, no_speech=0.8, logprob=-0.2))
    assert not is_silence_hallucination(seg(words, no_speech=0.2, logprob=-1.4))
    assert is_silence_hallucination(seg("Thank you.", no_speech=0.7, logprob=-0.4))
    assert not is_silence_hallucination(seg("Thank you.", no_speech=0.1, logprob=-0.4))
    assert not is_silence_hallucination(
        seg("A confident sentence of real words.", no_speech=0.7, logprob=-0.4)
    )


def test_a_loop_where_the_model_heard_no_speech_is_dropped_and_a_loop_in_speech_is_kept_once():
    loop = "1 cm x 2 cm" + " x 2 cm" * 10  # what Whisper base said over 12 s of noise, without VAD
    assert apply_guards([seg(loop, no_speech=0.77, logprob=-0.45)]) == []
    kept = apply_guards([seg("We tested it, " + "and it worked " * 5, no_speech=0.1, logprob=-0.45)])
    assert [s.text for s in kept] == ["We tested it, and it worked"]


def test_a_phrase_looped_three_times_or_more_is_kept_once():
    assert collapse_repeated_phrases("Thank you. Thank you. Thank you. Thank you.") == "Thank you."
    assert collapse_repeated_phrases("So I said go go go go now") == "So I said go now"
    assert collapse_repeated_phrases("It was very very good") == "It was very very good"
    looped = "and then we went home " * 6
    assert collapse_repeated_phrases("Well, " + looped + "finally.") == "Well, and then we went home finally."


def test_guards_drop_empty_and_repeated_segments_and_renumber():
    kept = apply_guards(
        [
            seg("First point.", seq=0),
            seg(" ... ", seq=1),
            seg("First point.", seq=2),
            seg("first point", seq=3),
            seg("Made up.", no_speech=0.9, logprob=-2.0, seq=4),
            seg("Second point.", seq=5),
            seg("First point.", seq=6),
        ]
    )
    assert [(s.seq, s.text) for s in kept] == [(0, "First point."), (1, "Second point."), (2, "First point.")]


def test_a_window_is_split_into_sentences_with_interpolated_times_by_the_one_splitter():
    window = Segment(
        0, 10.0, 30.0, "First one here. Second one, longer than that! And 3 more? yes e.g. this", -0.2, 0.1
    )
    parts = split_into_sentences([window])
    assert [p.text for p in parts] == [
        "First one here.",
        "Second one, longer than that!",
        "And 3 more?",
        "yes e.g. this",
    ]
    assert parts[0].start_s == 10.0 and parts[-1].end_s == 30.0
    assert all(a.end_s == b.start_s for a, b in zip(parts, parts[1:], strict=False))
    assert all(p.avg_logprob == -0.2 and p.no_speech_prob == 0.1 for p in parts)
