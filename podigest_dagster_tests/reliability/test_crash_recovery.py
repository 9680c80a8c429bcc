"""A real SIGKILL in the middle of download, transcription, digest and delivery, then a re-run:
finished work is kept, nothing partial is taken as complete, no email goes out twice."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from podigest_dagster import settings
from podigest_dagster.core.digest import ledger as delivery_ledger
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.defs.digest.assets import daily_digest, digest_delivery
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.ingest.assets import episode_audio, episodes
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster_tests.core.ingest.test_feeds import item, rss
from podigest_dagster_tests.defs.digest.test_digest_assets import DEFAULT_ITEMS, _insert_top_insights
from podigest_dagster_tests.defs.ingest.test_ingest_assets import Setup
from podigest_dagster_tests.defs.transcribe.test_transcripts_asset import add_episode
from podigest_dagster_tests.defs.transcribe.test_transcripts_asset import (
    materialize as materialize_transcripts,
)
from podigest_dagster_tests.defs.transcribe.test_transcripts_asset import metadata as transcript_metadata
from podigest_dagster_tests.support import speech
from podigest_dagster_tests.support.smtp_server import SMTPTestServer

DAY = "2026-11-20"
CHILD = "from podigest_dagster_tests.reliability.crash_child import main; main()"
ROOT = Path(__file__).resolve().parents[2]


class Child:
    """A stage running in its own Python process, with its output in a file for failure messages."""

    def __init__(self, stage: str, args: dict, log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, stage, json.dumps(args)], cwd=ROOT, stdout=out, stderr=out
            )

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 180) -> None:
        end = time.monotonic() + timeout_s
        while not condition():
            if self.proc.poll() is not None:
                pytest.fail(f"child exited ({self.proc.returncode}) before the marker:\n{self.tail()}")
            if time.monotonic() > end:
                self.kill()
                pytest.fail(f"no marker after {timeout_s}s:\n{self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def rows(db: str, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def slow_audio(body: bytes, chunk: int = 4096, delay_s: float = 0.02):
    """Serves `body` with its real length, a small chunk at a time (a download that takes seconds)."""

    def handle(req):
        req.send_response(200)
        req.send_header("Content-Type", "audio/mpeg")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        try:
            for start in range(0, len(body), chunk):
                req.wfile.write(body[start : start + chunk])
                req.wfile.flush()
                time.sleep(delay_s)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return handle


def test_a_download_killed_mid_file_leaves_no_audio_and_the_rerun_completes_it(
    podigest_home, http_server, tmp_path
):
    setup = Setup(podigest_home, http_server)
    audio = b"ID3\x04\x00\x00\x00\x00\x00\x00" + os.urandom(2 * 1024 * 1024)
    http_server.add_handler("/audio/ep.mp3", slow_audio(audio))
    feed = rss(
        item("Slow episode", guid="s1", pub="Fri, 20 Nov 2026 09:00:00 +0000", enclosure="/audio/ep.mp3")
    )
    http_server.add("/feed.xml", feed, Content_Type="application/rss+xml")
    save_feeds(setup.feeds_file, [FeedSpec(http_server.url("/feed.xml"))])
    assert setup.materialize(assets=(episodes,)).success
    audio_dir = podigest_home / "audio"
    args = {
        "day": DAY,
        "db": setup.warehouse.database,
        "feeds_file": str(setup.feeds_file),
        "audio_dir": str(audio_dir),
    }

    def part_is_growing() -> bool:
        return any(p.stat().st_size > 256 * 1024 for p in audio_dir.glob("tmp/*.part"))

    child = Child("audio", args, tmp_path / "child.log")
    child.wait_for(part_is_growing)
    child.kill()

    [part] = list(audio_dir.glob("tmp/*.part"))
    assert 0 < part.stat().st_size < len(audio)
    assert [p for p in audio_dir.rglob("*") if p.is_file() and p.suffix != ".part"] == []
    assert rows(setup.warehouse.database, "SELECT count(*) FROM episode_audio WHERE status = 'ok'") == [(0,)]

    http_server.add("/audio/ep.mp3", audio, Content_Type="audio/mpeg")
    assert setup.materialize(selection=[episode_audio]).success
    [(status, path, size, sha)] = rows(
        setup.warehouse.database, "SELECT status, path, bytes, sha256 FROM episode_audio"
    )
    assert (status, size, sha) == ("ok", len(audio), hashlib.sha256(audio).hexdigest())
    assert Path(path).read_bytes() == audio and Path(path).parent.parent == audio_dir


SENTENCES = [
    "Researchers found that regular exercise makes people happier and more productive at work.",
    "The best investors think in decades and ignore the daily noise of the markets.",
    "Cities that remove free parking see more housing and more shops on the same streets.",
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


def test_transcription_killed_after_one_episode_keeps_it_and_the_rerun_does_only_the_rest(
    podigest_home, models_dir, tmp_path
):
    warehouse = WarehouseResource(database=str(settings.warehouse_path()))
    ids = ["ep1", "ep22", "ep333"]
    for episode_id, sentence in zip(ids, SENTENCES, strict=True):
        add_episode(warehouse, episode_id, audio=speech.clip(sentence, sentence, fmt="mp3"))
    db = warehouse.database

    def one_committed() -> bool:
        try:
            return bool(rows(db, "SELECT 1 FROM transcripts WHERE status = 'ok'"))
        except duckdb.IOException:
            return False

    child = Child(
        "transcripts", {"day": DAY, "db": db, "models_dir": str(models_dir)}, tmp_path / "child.log"
    )
    child.wait_for(one_committed, timeout_s=300)
    child.kill()

    kept = rows(db, "SELECT episode_id, transcribed_at, segment_count FROM transcripts WHERE status = 'ok'")
    assert 1 <= len(kept) < len(ids)
    assert rows(db, "SELECT count(*) FROM transcripts") == [(len(kept),)]
    segments_before = rows(db, "SELECT * FROM transcript_segments ORDER BY ALL")
    assert len(segments_before) == sum(n for _, _, n in kept)

    resources = {
        "warehouse": warehouse,
        "transcriber": TranscriberResource(models_dir=str(models_dir)),
        "ingest": IngestSettings(retries=0),
    }
    resumed = materialize_transcripts(resources)
    meta = transcript_metadata(resumed)
    assert (meta["skipped"], meta["transcribed"], meta["failed"]) == (len(kept), len(ids) - len(kept), 0)
    done = {
        r[0]: r[1:] for r in rows(db, "SELECT episode_id, transcribed_at, segment_count FROM transcripts")
    }
    assert set(done) == set(ids)
    for episode_id, stamp, count in kept:
        assert done[episode_id] == (stamp, count)
    for episode_id, sentence in zip(ids, SENTENCES, strict=True):
        text = " ".join(
            r[0] for r in rows(db, "SELECT text FROM transcript_segments WHERE episode_id = ?", [episode_id])
        )
        assert speech.word_overlap(sentence, text) >= 0.6, (episode_id, text)


def digest_state(db: str) -> tuple:
    """(item_count, items stored, markdown stored) of the day's digest."""
    [(count, markdown)] = rows(db, "SELECT item_count, markdown FROM digests WHERE partition_date = ?", [DAY])
    [(items,)] = rows(db, "SELECT count(*) FROM digest_items WHERE partition_date = ?", [DAY])
    return count, items, markdown


@pytest.mark.parametrize("stall_at", ["transaction", "html_file"])
def test_a_digest_killed_while_storing_leaves_the_old_or_the_new_one_never_a_mix(
    podigest_home, tmp_path, stall_at
):
    db = str(settings.warehouse_path())
    folder = settings.digests_dir()
    _insert_top_insights(db, DAY, DEFAULT_ITEMS[:1])
    resources = {"warehouse": WarehouseResource(database=db), "mailer": MailerResource()}
    assert dg.materialize([daily_digest], partition_key=DAY, resources=resources).success
    old = digest_state(db)
    old_files = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    _insert_top_insights(db, DAY, DEFAULT_ITEMS)

    marker = tmp_path / "stalled"
    child = Child(
        "digest", {"day": DAY, "db": db, "stall_at": stall_at, "marker": str(marker)}, tmp_path / "c.log"
    )
    child.wait_for(marker.exists)
    child.kill()

    after = digest_state(db)
    assert after[0] == after[1]
    assert after == old if stall_at == "transaction" else after[:2] == (2, 2)
    finals = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if not p.name.endswith(".tmp")}
    assert set(finals) == set(old_files)
    assert finals[f"{DAY}.html"] == old_files[f"{DAY}.html"]
    if stall_at == "html_file":
        assert finals[f"{DAY}.md"] == after[2]
        assert json.loads(finals[f"{DAY}.json"]) == json.loads(old_files[f"{DAY}.json"])

    assert dg.materialize([daily_digest], partition_key=DAY, resources=resources).success
    final = digest_state(db)
    assert final[:2] == (2, 2)
    assert (folder / f"{DAY}.md").read_text(encoding="utf-8") == final[2]
    assert len(json.loads((folder / f"{DAY}.json").read_text(encoding="utf-8"))["items"]) == 2


@pytest.fixture
def smtp():
    server = SMTPTestServer().start()
    yield server
    server.handler.delay_s = 0
    server.stop()


def test_delivery_killed_during_the_smtp_conversation_never_sends_twice(
    podigest_home, smtp, tmp_path, monkeypatch
):
    db = str(settings.warehouse_path())
    _insert_top_insights(db, DAY)
    assert dg.materialize(
        [daily_digest], partition_key=DAY, resources={"warehouse": WarehouseResource(database=db)}
    ).success
    mailer = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "sender": "podigest <digest@example.org>",
        "recipients": ["ann@example.com", "bob@example.com"],
        "timeout_s": 30.0,
    }
    smtp.handler.delay_s = 120
    child = Child("delivery", {"day": DAY, "db": db, "mailer": mailer}, tmp_path / "child.log")
    child.wait_for(lambda: len(smtp.received) == 1)
    child.kill()
    smtp.handler.delay_s = 0

    def ledger() -> dict[str, str]:
        return dict(rows(db, "SELECT recipient, status FROM deliveries WHERE channel = 'email'"))

    assert ledger() == {"ann@example.com": "sending"}
    resources = {"warehouse": WarehouseResource(database=db), "mailer": MailerResource(**mailer)}

    def deliver() -> dg.ExecuteInProcessResult:
        return dg.materialize([daily_digest, digest_delivery], selection=[digest_delivery], partition_key=DAY,
                              resources=resources)  # fmt: skip

    assert deliver().success
    assert ledger() == {"ann@example.com": "sending", "bob@example.com": "sent"}
    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(delivery_ledger, "_now", lambda: later)
    assert deliver().success
    assert ledger() == {"ann@example.com": "unknown", "bob@example.com": "sent"}
    assert deliver().success
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["ann@example.com", "bob@example.com"]
