"""The transcripts asset on a real warehouse: Whisper on real speech, publisher VTT over HTTP, failures, resumption."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from podigest_dagster import settings
from podigest_dagster.core.transcribe.engine import Transcriber
from podigest_dagster.core.transcribe.segments import Segment
from podigest_dagster.core.transcribe.store import store_outcome
from podigest_dagster.core.transcribe.whisper_model import ModelError
from podigest_dagster.core.transcribe.work import Outcome
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.assets import FAILURE_CHECK, transcripts
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster_tests.support import speech

DAY = "2026-11-20"
FIRST = "Researchers found that regular exercise makes people happier and more productive."
SECOND = "The best investors think in decades and ignore the daily noise of markets."
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nPublishers write their own transcripts.\n"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def warehouse(podigest_home):
    resource = WarehouseResource(database=str(settings.warehouse_path()))
    with resource.get_connection():
        pass
    return resource


@pytest.fixture
def resources(warehouse, models_dir):
    return {
        "warehouse": warehouse,
        "transcriber": TranscriberResource(models_dir=str(models_dir)),
        "ingest": IngestSettings(retries=0),
    }


def add_episode(warehouse, episode_id, *, day=DAY, audio=None, audio_status="ok", transcript_urls=None):
    """An episode row, and its episode_audio row when `audio` (a file) or a non-ok status is given."""
    now = datetime.now(UTC)
    with warehouse.get_connection() as conn:
        conn.execute(
            "INSERT INTO episodes (episode_id, feed_url, podcast, title, published_at, partition_date, "
            "date_status, transcript_urls, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?)",
            [
                episode_id,
                "http://feed.test/rss",
                "Show",
                f"Episode {episode_id}",
                datetime.fromisoformat(f"{day}T0{len(episode_id) % 9}:00:00+00:00"),
                day,
                json.dumps(transcript_urls) if transcript_urls is not None else None,
                now,
                now,
            ],
        )
        if audio is not None or audio_status != "ok":
            sha = hashlib.sha256(audio.read_bytes()).hexdigest() if audio is not None else None
            conn.execute(
                "INSERT INTO episode_audio (episode_id, partition_date, status, sha256, path, error) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [episode_id, day, audio_status, sha, str(audio) if audio else None, None],
            )


def materialize(resources, raise_on_error=True):
    return dg.materialize(
        [transcripts, dg.AssetSpec("episode_audio", partitions_def=daily_partitions)],
        resources=resources,
        partition_key=DAY,
        selection=[transcripts],
        raise_on_error=raise_on_error,
    )


def rows(sql, params=()):
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def metadata(result):
    [mat] = result.asset_materializations_for_node("transcripts")
    return {k: v.value for k, v in mat.metadata.items()}


def check_passed(result) -> bool:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == FAILURE_CHECK]
    return evaluation.passed


def test_a_partition_is_transcribed_from_audio_and_publisher_and_a_rerun_skips_it(
    warehouse, resources, http_server, tmp_path
):
    corrupt = tmp_path / "broken.mp3"
    corrupt.write_bytes(b"ID3" + b"\x00junk" * 400)
    vtt_url = http_server.add("/ep-pub.vtt", VTT, Content_Type="text/vtt")
    add_episode(warehouse, "ep-audio", audio=speech.clip(FIRST, fmt="mp3"))
    add_episode(warehouse, "ep-pub", transcript_urls=[{"url": vtt_url, "type": "text/vtt"}])
    add_episode(warehouse, "ep-broken", audio=corrupt)
    add_episode(warehouse, "ep-other-day", day="2026-11-21", audio=speech.clip(FIRST, fmt="mp3"))

    first = materialize(resources)
    assert metadata(first) | {"audio_hours": 0, "realtime_factor": 0} == {
        "episodes": 3,
        "transcribed": 1,
        "from_publisher": 1,
        "skipped": 0,
        "failed": 1,
        "audio_hours": 0,
        "realtime_factor": 0,
    }
    assert metadata(first)["realtime_factor"] > 0
    assert check_passed(first)
    done = {
        r[0]: r[1:]
        for r in rows("SELECT episode_id, status, source, language, segment_count, error FROM transcripts")
    }
    assert set(done) == {"ep-audio", "ep-pub", "ep-broken"}
    assert done["ep-audio"][:3] == ("ok", "whisper:base", "en")
    assert done["ep-pub"][:2] == ("ok", "publisher")
    assert done["ep-broken"][0] == "failed" and "corrupt" in done["ep-broken"][4]
    whisper_text = " ".join(
        r[0] for r in rows("SELECT text FROM transcript_segments WHERE episode_id = 'ep-audio'")
    )
    assert speech.word_overlap(FIRST, whisper_text) >= 0.6
    assert rows(
        "SELECT seq, start_s, end_s, text, source FROM transcript_segments WHERE episode_id = 'ep-pub'"
    ) == [(0, 1.0, 3.0, "Publishers write their own transcripts.", "publisher")]
    before = rows("SELECT * FROM transcript_segments ORDER BY ALL")
    stamps = rows("SELECT episode_id, transcribed_at FROM transcripts WHERE status = 'ok' ORDER BY 1")

    second = materialize(resources)
    assert (metadata(second)["skipped"], metadata(second)["transcribed"], metadata(second)["failed"]) == (
        2,
        0,
        1,
    )
    assert rows("SELECT * FROM transcript_segments ORDER BY ALL") == before
    assert rows("SELECT episode_id, transcribed_at FROM transcripts WHERE status = 'ok' ORDER BY 1") == stamps
    assert http_server.hits("/ep-pub.vtt") == 1


def test_a_crash_mid_partition_keeps_the_first_episode_and_a_rerun_does_the_rest(
    warehouse, resources, monkeypatch
):
    add_episode(warehouse, "a1", audio=speech.clip(FIRST, fmt="mp3"))
    add_episode(warehouse, "a22", audio=speech.clip(SECOND, fmt="mp3"))
    real = Transcriber.transcribe
    calls = []

    def crash_on_second(self, path, progress=None):
        calls.append(path)
        if len(calls) == 2:
            raise ModelError("model files vanished mid-run")
        return real(self, path, progress=progress)

    monkeypatch.setattr(Transcriber, "transcribe", crash_on_second)
    crashed = materialize(resources, raise_on_error=False)
    assert not crashed.success
    assert rows("SELECT episode_id, status FROM transcripts") == [("a1", "ok")]

    monkeypatch.setattr(Transcriber, "transcribe", real)
    resumed = materialize(resources)
    assert (metadata(resumed)["skipped"], metadata(resumed)["transcribed"]) == (1, 1)
    assert rows("SELECT episode_id, status FROM transcripts ORDER BY 1") == [("a1", "ok"), ("a22", "ok")]
    text = " ".join(r[0] for r in rows("SELECT text FROM transcript_segments WHERE episode_id = 'a22'"))
    assert speech.word_overlap(SECOND, text) >= 0.6


def test_audio_that_breaks_whisper_unexpectedly_fails_only_its_episode(warehouse, resources, monkeypatch):
    odd = speech.clip(SECOND, fmt="mp3")
    add_episode(warehouse, "a1", audio=speech.clip(FIRST, fmt="mp3"))
    add_episode(warehouse, "a22", audio=odd)
    real = Transcriber.transcribe

    def odd_second(self, path, progress=None):
        if str(path) == str(odd):
            raise IndexError("odd frame layout")
        return real(self, path, progress=progress)

    monkeypatch.setattr(Transcriber, "transcribe", odd_second)
    result = materialize(resources, raise_on_error=False)
    assert (metadata(result)["transcribed"], metadata(result)["failed"]) == (1, 1)
    assert rows("SELECT episode_id, status, error FROM transcripts ORDER BY 1") == [
        ("a1", "ok", None),
        ("a22", "failed", "transcription failed: IndexError: odd frame layout"),
    ]


def test_new_audio_is_transcribed_again_and_unchanged_audio_is_not(warehouse, resources):
    add_episode(warehouse, "ep", audio=speech.clip(FIRST, fmt="mp3"))
    materialize(resources)
    with warehouse.get_connection() as conn:
        conn.execute(
            "UPDATE episode_audio SET path = ?, sha256 = 'changed' WHERE episode_id = 'ep'",
            [str(speech.clip(SECOND, fmt="mp3"))],
        )
    again = materialize(resources)
    assert metadata(again)["transcribed"] == 1
    text = " ".join(r[0] for r in rows("SELECT text FROM transcript_segments WHERE episode_id = 'ep'"))
    assert speech.word_overlap(SECOND, text) >= 0.6
    assert rows("SELECT audio_sha256 FROM transcripts") == [("changed",)]


def test_the_failure_check_fails_the_partition_when_most_episodes_fail(warehouse, resources, tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    add_episode(warehouse, "gone", audio_status="failed")
    add_episode(warehouse, "empty", audio=empty)
    add_episode(warehouse, "fine", audio=speech.clip(FIRST, fmt="mp3"))
    result = materialize(resources, raise_on_error=False)
    assert not result.success, "a blocking check failing must fail the partition"
    assert metadata(result)["failed"] == 2
    assert not check_passed(result)
    assert rows("SELECT episode_id FROM transcripts WHERE status = 'ok'") == [("fine",)]
    errors = dict(rows("SELECT episode_id, error FROM transcripts WHERE status = 'failed'"))
    assert "zero-length" in errors["empty"]
    assert "no audio to transcribe" in errors["gone"]


def test_text_that_is_not_valid_unicode_is_stored_with_replacement_characters(warehouse):
    add_episode(warehouse, "odd")
    outcome = Outcome(
        "failed", "publisher", None, language="e\ud800n",
        segments=[Segment(0, 0.0, 1.0, "lone \udc00 surrogate")], error="bad \ud800 reason",
    )  # fmt: skip
    with warehouse.get_connection() as conn:
        store_outcome(conn, DAY, "odd", outcome)
        store_outcome(conn, DAY, "odd", outcome)
    assert rows("SELECT language, error FROM transcripts") == [("e\ufffdn", "bad \ufffd reason")]
    assert rows("SELECT text FROM transcript_segments") == [("lone \ufffd surrogate",)]


# --- nothing to do loads nothing; progress per window ------------------------------------------------


def refuse(*args, **kwargs):
    raise AssertionError("a Transcriber or a Whisper model was asked for on a day with nothing to do")


def test_a_day_with_every_episode_done_creates_no_transcriber(warehouse, resources, monkeypatch):
    for episode_id in ("ep-1", "ep-2"):
        audio = speech.clip(speech.tone(2, level=0.1))
        add_episode(warehouse, episode_id, audio=audio)
        with warehouse.read_connection() as conn:
            sha = conn.execute("SELECT sha256 FROM episode_audio WHERE episode_id = ?", [episode_id]).fetchone()[0]
        outcome = Outcome("ok", "whisper:base", sha, "en", 2.0, 0.5, [Segment(0, 0.0, 2.0, "Done before.")])
        with warehouse.get_connection() as conn:
            store_outcome(conn, DAY, episode_id, outcome)
    monkeypatch.setattr("podigest_dagster.defs.transcribe.resources.shared_transcriber", refuse)
    monkeypatch.setattr("podigest_dagster.core.transcribe.engine.load_model", refuse)

    result = materialize(resources)

    assert metadata(result)["skipped"] == 2 and metadata(result)["transcribed"] == 0


class SilentPipeline:
    def transcribe(self, samples, language=None, **options):
        return [], SimpleNamespace(language="en", duration_after_vad=0.0)


def test_each_window_of_audio_is_logged_with_the_episodes_place_in_the_day(warehouse, resources, monkeypatch):
    add_episode(warehouse, "ep-long", audio=speech.clip(speech.tone(25, level=0.1)))
    small_windows = Transcriber("base", window_s=10)
    monkeypatch.setattr(Transcriber, "pipeline", lambda self: SilentPipeline())
    monkeypatch.setattr(
        "podigest_dagster.defs.transcribe.resources.shared_transcriber", lambda **config: small_windows
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [transcripts, dg.AssetSpec("episode_audio", partitions_def=daily_partitions)],
            resources=resources,
            partition_key=DAY,
            selection=[transcripts],
            instance=instance,
        )
        assert result.success
        messages = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    windows = [m for m in messages if ": window " in m]
    assert [m.split(": window ")[1].split(",")[0] for m in windows] == ["1/3", "2/3", "3/3"]
    assert all(m.startswith("episode 1/1 ep-long: window ") and "real time" in m for m in windows)
    assert windows[-1].endswith(", done")
    assert any(m.startswith("episode 1/1 ep-long: starting") for m in messages)
    assert metadata(result)["transcribed"] == 1
