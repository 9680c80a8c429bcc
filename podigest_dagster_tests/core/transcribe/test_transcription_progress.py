"""Transcription progress: the engine reports each ~10-minute window through a plain callback, and the
lines built from it say i/N, the speed and the time left; the label of a model is known without one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from podigest_dagster.core.transcribe.engine import Transcriber, WindowProgress, model_label
from podigest_dagster.core.transcribe.work import EpisodeWork, day_position, progress_line, start_line
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster_tests.support import speech


class SilentPipeline:
    """Stands in for faster-whisper: every window decodes to nothing, so no model is needed."""

    def __init__(self) -> None:
        self.windows: list[int] = []

    def transcribe(self, samples, language=None, **options):
        self.windows.append(len(samples))
        return [], SimpleNamespace(language="en", duration_after_vad=0.0)


def test_the_callback_is_called_after_every_window_with_how_far_the_file_has_come(monkeypatch):
    pipeline = SilentPipeline()
    monkeypatch.setattr(Transcriber, "pipeline", lambda self: pipeline)
    path = speech.clip(speech.tone(25, level=0.1))
    seen: list[WindowProgress] = []

    result = Transcriber("base", window_s=10).transcribe(path, progress=seen.append)

    assert len(seen) == len(pipeline.windows) == 3
    assert [p.window for p in seen] == [1, 2, 3]
    assert all(p.windows == 3 for p in seen)
    done = [p.audio_done_s for p in seen]
    assert done == sorted(done) and done[-1] == pytest.approx(result.duration_s) == pytest.approx(25, abs=0.1)
    assert all(p.audio_total_s == pytest.approx(25, abs=0.1) for p in seen)
    assert seen[-1].seconds_left == pytest.approx(0, abs=1e-6)
    assert all(p.elapsed_s >= 0 for p in seen)


def test_without_a_callback_nothing_is_probed_or_reported(monkeypatch):
    monkeypatch.setattr(Transcriber, "pipeline", lambda self: SilentPipeline())
    monkeypatch.setattr(
        "podigest_dagster.core.transcribe.engine.probe_duration",
        lambda path: pytest.fail("probed without a progress callback"),
    )
    assert Transcriber("base", window_s=10).transcribe(speech.clip(speech.tone(12, level=0.1))).segments == []


def test_a_progress_line_says_where_the_day_stands_and_how_long_is_left():
    progress = WindowProgress(window=1, windows=3, audio_done_s=600, audio_total_s=1800, elapsed_s=60)
    assert progress.realtime_factor == 10 and progress.seconds_left == 120
    line = progress_line("ep-1", 2, 5, progress, later_audio_s=1200)
    assert line == "episode 2/5 ep-1: window 1/3, 10:00 of 30:00 audio, 10.0x real time, about 4 min left"
    last = WindowProgress(window=1, windows=1, audio_done_s=30, audio_total_s=30, elapsed_s=3)
    assert progress_line("ep-2", 5, 5, last).endswith("10.0x real time, done")
    unknown = WindowProgress(window=4, windows=None, audio_done_s=3700, audio_total_s=None, elapsed_s=0)
    assert progress_line("ep-3", 0, 0, unknown) == "episode ep-3: window 4, 1:01:40 audio"


def work(episode_id: str, duration: float | None, done: bool = False, transcript: str | None = None) -> EpisodeWork:
    return EpisodeWork(
        episode_id, transcript, duration, "ok", f"/a/{episode_id}", "sha", None,
        "ok" if done else None, "whisper:base" if done else None, "sha" if done else None,
    )


def test_an_episode_knows_its_place_in_the_day_and_the_audio_still_to_come():
    publisher = '[{"url": "https://x.example/t.vtt", "type": "text/vtt"}]'
    day = [work("a", 100, done=True), work("b", 200), work("c", 300, transcript=publisher), work("d", 400)]
    assert day_position(day, "b", "whisper:base") == (2, 4, 400)
    assert day_position(day, "d", "whisper:base") == (4, 4, 0)
    assert day_position(day, "zz", "whisper:base") == (0, 4, 0)
    assert start_line(day[1], 2, 4) == "episode 2/4 b: starting (3:20 of audio declared)"


@pytest.mark.parametrize(
    ("model", "label"), [("base", "whisper:base"), ("large-v3", "whisper:large-v3"), ("/models/my-ct2", "whisper:my-ct2")]
)
def test_the_label_transcripts_are_recorded_with_needs_no_transcriber(model, label, monkeypatch):
    monkeypatch.setattr(
        "podigest_dagster.defs.transcribe.resources.shared_transcriber",
        lambda **config: pytest.fail("a Transcriber was created to read a label"),
    )
    assert model_label(model) == label == Transcriber(model).model_label
    assert TranscriberResource(model=model).source_label() == label
