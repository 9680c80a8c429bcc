"""Audio only when it is needed, through the real assets (feeds on a local HTTP server, real Whisper on
synthesised speech): a usable publisher transcript means no audio download; a broken or empty one falls back
to the audio; retention 0 leaves only audio still to transcribe; a pruned day runs again without a download,
even when the feed moved its enclosures; only a transcript that must be redone fetches its audio again. One
day, run three times (each run costs Whisper and a Dagster run: a few seconds)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.defs.ingest.assets import episode_audio, episodes
from podigest_dagster.defs.ingest.audio_cache import audio_cache
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.assets import transcripts
from podigest_dagster.defs.transcribe.publisher import publisher_transcripts
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster_tests.core.ingest.test_feeds import item, rss
from podigest_dagster_tests.support import speech

DAY = "2026-11-20"
PUB = "Fri, 20 Nov 2026 09:00:00 +0000"
SAID = {
    "gone": "Researchers found that regular exercise makes people happier and more productive.",
    "empty": "The best investors think in decades and ignore the daily noise of markets.",
}
GOOD_VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:08.000\nPublishers write their own transcripts.\n"
CHAIN = [episodes, publisher_transcripts, episode_audio, transcripts, audio_cache]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


class Day:
    """One show's day on the test server: four episodes, each linking a different kind of transcript."""

    def __init__(self, home: Path, server, models_dir: Path) -> None:
        self.home, self.server = home, server
        self.warehouse = WarehouseResource(database=str(home / "w.duckdb"))
        self.transcriber = TranscriberResource(models_dir=str(models_dir))
        self.feeds_file = home / "feeds.yaml"
        server.add("/t/good.vtt", GOOD_VTT, Content_Type="text/vtt")
        server.add("/t/empty.vtt", "WEBVTT\n\n", Content_Type="text/vtt")
        self.audio = {name: speech.clip(SAID[name], fmt="mp3").read_bytes() for name in ("gone", "empty")}
        self.audio["good"] = self.audio["gone"]
        self.audio["broken"] = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00junk" * 400
        self.serve_feed("a")
        save_feeds(self.feeds_file, [FeedSpec(server.url("/feed.xml"), "Show")])

    def serve_feed(self, folder: str) -> None:
        """The feed, its enclosures under /<folder>/ (a host that moves them changes the folder)."""
        for name, body in self.audio.items():
            self.server.add(f"/{folder}/{name}.mp3", body, Content_Type="audio/mpeg")

        def episode(name: str, transcript: str | None) -> str:
            link = f'<podcast:transcript url="/t/{transcript}" type="text/vtt"/>' if transcript else ""
            extra = f"<itunes:duration>00:00:10</itunes:duration>{link}"
            return item(name, guid=name, pub=PUB, enclosure=f"/{folder}/{name}.mp3", extra=extra)

        feed = rss(
            episode("good", "good.vtt"), episode("gone", "gone.vtt"), episode("empty", "empty.vtt"),
            episode("broken", None), title="Show",
        )  # fmt: skip
        self.server.add("/feed.xml", feed, Content_Type="application/rss+xml")

    def run(self, **ingest) -> dg.ExecuteInProcessResult:
        settings = IngestSettings(
            feeds_file=str(self.feeds_file), audio_dir=str(self.home / "audio"), retries=0, backoff_s=0.01,
            **{"audio_retention_days": 0.0, **ingest},
        )  # fmt: skip
        return dg.materialize(
            CHAIN,
            partition_key=DAY,
            resources={"warehouse": self.warehouse, "ingest": settings, "transcriber": self.transcriber},
        )

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(self.warehouse.database, read_only=True) as conn:
            return conn.execute(query).fetchall()

    def by_guid(self, columns: str, table: str) -> dict[str, tuple]:
        rows = self.sql(f"SELECT e.guid, {columns} FROM {table} x JOIN episodes e USING (episode_id)")  # noqa: S608
        return {row[0]: row[1:] for row in rows}

    def audio_files(self) -> list[Path]:
        return [p for p in (self.home / "audio").rglob("*") if p.is_file() and p.parent.name != "tmp"]


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_audio_is_fetched_only_without_a_usable_transcript_pruned_once_transcribed_and_fetched_again_to_redo(
    podigest_home, http_server, models_dir
):
    day = Day(podigest_home, http_server, models_dir)
    first = day.run()
    assert first.success

    assert http_server.hits("/a/good.mp3") == 0, "a usable publisher transcript needs no audio"
    assert [http_server.hits(f"/a/{n}.mp3") for n in ("gone", "empty", "broken")] == [1, 1, 1]
    done = day.by_guid("x.status, x.source, x.error", "transcripts")
    assert done["good"][:2] == ("ok", "publisher")
    assert done["gone"][:2] == done["empty"][:2] == ("ok", "whisper:base")
    assert done["broken"][0] == "failed"
    for name, sentence in SAID.items():
        text = " ".join(t for (t,) in day.sql(
            f"SELECT text FROM transcript_segments JOIN episodes USING (episode_id) WHERE guid = '{name}'"))  # noqa: S608  # fmt: skip
        assert speech.word_overlap(sentence, text) >= 0.6, (name, text)
    checked = day.by_guid("x.status, x.error", "publisher_transcripts")
    assert checked["good"] == ("ok", None)
    assert checked["gone"][0] == "unusable" and "HTTP 404" in checked["gone"][1]
    assert checked["empty"][0] == "unusable" and "holds no text" in checked["empty"][1]
    assert "broken" not in checked

    audio = metadata(first, "episode_audio")
    assert (audio["downloaded"], audio["not_needed_publisher"], audio["failed"]) == (3, 1, 0)
    publisher = metadata(first, "publisher_transcripts")
    assert (publisher["used"], publisher["unusable"], publisher["not_linked"]) == (1, 2, 1)
    said = metadata(first, "transcripts")
    assert (said["transcribed"], said["from_publisher"], said["skipped"], said["failed"]) == (2, 1, 0, 1)

    # Retention 0: only the audio still to transcribe (the broken file, a re-run retries it) stays.
    kept = day.by_guid("x.status, x.path", "episode_audio")
    assert kept["gone"][0] == kept["empty"][0] == "pruned" and kept["broken"][0] == "ok"
    assert day.audio_files() == [Path(kept["broken"][1])]
    cache = metadata(first, "audio_cache")
    assert (cache["files_pruned"], cache["files_kept"], cache["pending_files"]) == (2, 1, 1)

    # The host moves its enclosures; the day runs again: nothing is downloaded or fetched again.
    day.serve_feed("b")
    requests_before = len(http_server.requests)
    again = day.run()
    assert again.success
    fetched = [path for path, _ in http_server.requests[requests_before:]]
    assert [p for p in fetched if p.startswith(("/a/", "/b/", "/t/"))] == []
    audio = metadata(again, "episode_audio")
    assert (audio["downloaded"], audio["not_needed_publisher"], audio["not_needed_transcribed"]) == (0, 1, 2)
    assert audio["already_present"] == 1
    said = metadata(again, "transcripts")
    assert (said["transcribed"], said["from_publisher"], said["skipped"]) == (0, 0, 3)
    assert day.by_guid("x.enclosure_url", "episodes")["gone"] == (http_server.url("/b/gone.mp3"),)

    # Transcripts made by another model must be redone with this one: their pruned audio is fetched again.
    with duckdb.connect(day.warehouse.database) as conn:
        conn.execute("UPDATE transcripts SET source = 'whisper:tiny' WHERE source = 'whisper:base'")
    redone = day.run(audio_retention_days=7.0)
    assert redone.success
    assert [http_server.hits(f"/b/{n}.mp3") for n in ("good", "gone", "empty")] == [0, 1, 1]
    assert metadata(redone, "transcripts")["transcribed"] == 2
    assert {k: v for k, v in day.by_guid("x.source", "transcripts").items() if k != "broken"} == {
        "good": ("publisher",), "gone": ("whisper:base",), "empty": ("whisper:base",)
    }  # fmt: skip
    audio = day.by_guid("x.status, x.pruned_at", "episode_audio")
    assert audio["gone"] == audio["empty"] == ("ok", None), "within the 7-day retention the audio stays"
