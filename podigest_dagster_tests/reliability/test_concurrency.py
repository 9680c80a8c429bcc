"""A backfill of three partitions as three concurrent processes, with `podigest sql` readers running
throughout: no DuckDB lock error, no row lost or duplicated, every read answered."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from podigest_dagster import settings
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.warehouse.db import read_connection, write_connection
from podigest_dagster.warehouse.sql_console import run_query
from podigest_dagster_tests.core.ingest.test_feeds import item, rss
from podigest_dagster_tests.defs.ingest.test_ingest_assets import mp3
from podigest_dagster_tests.reliability.test_crash_recovery import Child

DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")
SHOWS = 4
PER_DAY = 3
CLI = Path(sys.executable).with_name("podigest")


def pub(day: str, n: int) -> str:
    d = int(day[-2:])
    weekday = ("Fri", "Sat", "Sun")[d - 20]
    return f"{weekday}, {d} Nov 2026 0{n + 1}:00:00 +0000"


def serve_shows(http_server) -> list[FeedSpec]:
    """SHOWS feeds, each with PER_DAY episodes on every day, each episode with audio and a VTT transcript (which
    is used: the audio is never downloaded)."""
    specs = []
    for show in range(SHOWS):
        items = []
        for day in DAYS:
            for n in range(PER_DAY):
                key = f"{show}-{day}-{n}"
                http_server.add(f"/audio/{key}.mp3", mp3(key), Content_Type="audio/mpeg")
                vtt = f"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nShow {show} says {key} out loud.\n"
                http_server.add(f"/t/{key}.vtt", vtt, Content_Type="text/vtt")
                transcript = f'<podcast:transcript url="{http_server.url(f"/t/{key}.vtt")}" type="text/vtt"/>'
                items.append(
                    item(f"Episode {key}", key, pub(day, n), http_server.url(f"/audio/{key}.mp3"), transcript)
                )
        url = http_server.add(
            f"/feed{show}.xml", rss(*items, title=f"Show {show}"), Content_Type="application/rss+xml"
        )
        specs.append(FeedSpec(url=url, name=f"Show {show}"))
    return specs


def test_three_partitions_at_once_lose_and_duplicate_nothing_while_sql_readers_run(
    podigest_home, http_server, tmp_path
):
    save_feeds(settings.feeds_file(), serve_shows(http_server))
    db = str(settings.warehouse_path())
    with write_connection(db):
        pass
    args = {"db": db, "feeds_file": str(settings.feeds_file()), "audio_dir": str(settings.audio_dir()),
            "models_dir": str(tmp_path / "models")}  # fmt: skip
    children = [Child("chain", args | {"day": day}, tmp_path / f"{day}.log") for day in DAYS]

    reads, cli_reads, failures = 0, 0, []
    while any(c.proc.poll() is None for c in children):
        try:
            run_query(
                db, "SELECT count(*) AS n FROM episodes e JOIN transcript_segments s USING (episode_id)"
            )
            reads += 1
        except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
            failures.append(repr(exc))
        if cli_reads < 2:
            done = subprocess.run(
                [str(CLI), "sql", "SELECT count(*) FROM transcripts"], capture_output=True, text=True
            )
            failures += [done.stderr] if done.returncode else []
            cli_reads += 1
        time.sleep(0.02)

    logs = "\n".join(c.log.read_text(errors="replace") for c in children)
    assert [c.proc.returncode for c in children] == [0, 0, 0], logs[-4000:]
    assert "Could not set lock" not in logs and "Conflict" not in logs
    assert failures == [] and reads > 0 and cli_reads == 2
    expected = SHOWS * PER_DAY
    with read_connection(db) as conn:

        def per_day(sql: str) -> dict[str, int]:
            return dict(conn.execute(sql).fetchall())

        assert per_day("SELECT partition_date::VARCHAR, count(*) FROM episodes GROUP BY 1") == dict.fromkeys(
            DAYS, expected
        )
        # Transcript first: every episode's publisher transcript is usable, so no audio is downloaded.
        assert conn.execute("SELECT count(*) FROM episode_audio").fetchone() == (0,)
        assert per_day(
            "SELECT partition_date::VARCHAR, count(*) FROM publisher_transcripts WHERE status = 'ok' GROUP BY 1"
        ) == dict.fromkeys(DAYS, expected)
        assert per_day(
            "SELECT partition_date::VARCHAR, count(*) FROM transcripts WHERE status = 'ok' AND source = 'publisher' GROUP BY 1"
        ) == dict.fromkeys(DAYS, expected)
        assert conn.execute(
            "SELECT count(*), count(DISTINCT episode_id) FROM transcript_segments"
        ).fetchone() == (
            len(DAYS) * expected,
            len(DAYS) * expected,
        )
        assert conn.execute(
            "SELECT count(*) FROM feeds WHERE last_status IN ('ok', 'not_modified')"
        ).fetchone() == (SHOWS,)
        [(texts,)] = conn.execute("SELECT count(*) FROM transcript_segments s JOIN episodes e USING (episode_id) "
                                  "WHERE s.text = 'Show ' || split_part(e.guid, '-', 1) || ' says ' || e.guid || ' out loud.'").fetchall()  # fmt: skip
    assert texts == len(DAYS) * expected
    assert [path for path, _ in http_server.requests if path.startswith("/audio/")] == []
