"""The daily job end to end on publisher transcripts, three consecutive days, and its schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import duckdb

from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.defs.daily import DAILY_JOB_NAME
from podigest_dagster.settings import feeds_file, warehouse_path
from podigest_dagster_tests.defs.ingest.test_ingest_assets import mp3

DAYS = ("2026-11-10", "2026-11-11", "2026-11-12")
SHOWS = ("Morning Ledger", "Field Notes", "Open Kitchen")
INSIGHTS = {
    "2026-11-10": [
        "Index funds beat most active managers over twenty years because fees of one percent compound into a third of the final balance.",
        "Cities that replace parking minimums with shared garages build cheaper housing, since each underground space adds about fifty thousand dollars to a flat.",
    ],
    "2026-11-11": [
        "Sleeping less than six hours a night raises the risk of catching a cold fourfold, because the immune system makes fewer antibodies after short nights.",
        "Freezing bread on the day you buy it keeps it fresh for weeks, since staling is caused by starch crystallising fastest at fridge temperatures.",
    ],
    "2026-11-12": [
        "Solar panels now produce electricity more cheaply than new coal plants in most countries, which is why utilities keep cancelling coal projects.",
        "Judges hand down harsher sentences just before lunch than after it, which shows how fatigue quietly shapes decisions that should be neutral.",
    ],
}
BANTER = [
    "Welcome back to the show, great to have you here.",
    "This episode is brought to you by Acme Mattress, use code SLEEP for twenty percent off.",
    "If you enjoy the show, please subscribe and leave us a review.",
]


def vtt(lines: list[str]) -> str:
    cues = ["WEBVTT", ""]
    for n, line in enumerate(lines):
        cues += [f"00:00:{n * 6:02d}.000 --> 00:00:{n * 6 + 5:02d}.500", line, ""]
    return "\n".join(cues)


def serve_days(http_server) -> None:
    specs = []
    for show_n, show in enumerate(SHOWS):
        items = []
        for day in DAYS:
            key = f"{show_n}-{day}"
            lines = BANTER[:1] + INSIGHTS[day][show_n % 2 :] + BANTER[1:] + INSIGHTS[day][: show_n % 2]
            transcript = http_server.add(f"/t/{key}.vtt", vtt(lines), Content_Type="text/vtt")
            audio = http_server.add(f"/a/{key}.mp3", mp3(key), Content_Type="audio/mpeg")
            items.append(
                f"<item><title>{show} on {day}</title><guid>{key}</guid>"
                f"<pubDate>{datetime.fromisoformat(day + 'T08:00:00+00:00').strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
                f'<enclosure url="{audio}" type="audio/mpeg" length="4000"/>'
                f'<podcast:transcript url="{transcript}" type="text/vtt"/></item>'
            )
        feed = (
            '<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
            f"<channel><title>{show}</title>{''.join(items)}</channel></rss>"
        )
        specs.append(FeedSpec(url=http_server.add(f"/f/{show_n}.xml", feed, Content_Type="application/rss+xml"), name=show))
    save_feeds(feeds_file(), specs)


def test_three_consecutive_partitions_each_digest_only_from_its_own_day(podigest_home, http_server):
    serve_days(http_server)
    from podigest_dagster.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def(DAILY_JOB_NAME)
    with dg.instance_for_test() as instance:
        for day in DAYS:
            result = job.execute_in_process(instance=instance, partition_key=day)
            assert result.success
            dbt_checks = [
                e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] in ("marts", "staging")
            ]
            assert len(dbt_checks) >= 10 and all(e.passed for e in dbt_checks)

    with duckdb.connect(str(warehouse_path()), read_only=True) as conn:
        for day in DAYS:
            payload = json.loads(
                conn.execute("SELECT json FROM digests WHERE partition_date = ?", [day]).fetchone()[0]
            )
            assert payload["date"] == day
            assert 1 <= len(payload["items"]) <= 5
            for entry in payload["items"]:
                assert all(day in source["episode"] for source in entry["sources"]), entry
            texts = " ".join(entry["insight"].lower() for entry in payload["items"])
            assert "subscribe" not in texts and "code sleep" not in texts
            assert any(entry["support"] >= 2 for entry in payload["items"]), (day, [(e["support"], e["insight"][:60]) for e in payload["items"]])
        marts = conn.execute("SELECT count(DISTINCT partition_date) FROM marts.fct_daily_digest").fetchone()[0]
    assert marts == 3


def test_the_schedule_asks_for_the_latest_complete_day():
    from podigest_dagster.definitions import defs

    schedule = defs.resolve_schedule_def("daily_digest_schedule")
    tick = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        data = schedule.evaluate_tick(context)
    assert [request.partition_key for request in data.run_requests] == ["2026-11-27"]
    assert data.run_requests[0].job_name == DAILY_JOB_NAME
