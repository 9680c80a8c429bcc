"""Two partitions materialised at once with the multiprocess executor: writers queue, nothing is lost."""

from __future__ import annotations

import multiprocessing
import os
import sys

import dagster as dg
import duckdb

from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.ingest.assets import episode_audio, episodes
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.transcribe.publisher import publisher_transcripts
from podigest_dagster.defs.transcribe.resources import TranscriberResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.settings import audio_dir, feeds_file, warehouse_path
from podigest_dagster_tests.core.ingest.test_feeds import item, rss
from podigest_dagster_tests.defs.ingest.test_ingest_assets import mp3

DAYS = ("2026-11-20", "2026-11-21")
PUB = {"2026-11-20": "Fri, 20 Nov 2026 09:00:00 +0000", "2026-11-21": "Sat, 21 Nov 2026 09:00:00 +0000"}
SHOWS = 6


def ingest_job() -> dg.JobDefinition:
    """Built in every step process from the environment the test sets (PODIGEST_HOME)."""
    defs = dg.Definitions(
        assets=[episodes, publisher_transcripts, episode_audio],
        jobs=[
            dg.define_asset_job(
                "ingest_job",
                partitions_def=daily_partitions,
                # Step processes fork from a server that has this module (and so Dagster and podigest)
                # imported, instead of each spawning a new interpreter that imports them again.
                executor_def=dg.multiprocess_executor.configured(
                    {"start_method": {"forkserver": {"preload_modules": [__name__]}}}
                ),
            )
        ],
        resources={
            "warehouse": WarehouseResource(database=str(warehouse_path())),
            "ingest": IngestSettings(
                feeds_file=str(feeds_file()), audio_dir=str(audio_dir()), retries=1, backoff_s=0.01
            ),
            "transcriber": TranscriberResource(),
        },
    )
    return defs.resolve_job_def("ingest_job")


def serve_shows(http_server) -> list[FeedSpec]:
    specs = []
    for show in range(SHOWS):
        items = []
        for day in DAYS:
            for n in range(3):
                path = f"/audio/{show}-{day}-{n}.mp3"
                http_server.add(path, mp3(path), Content_Type="audio/mpeg")
                items.append(item(f"Show {show} {day} #{n}", f"{show}-{day}-{n}", PUB[day], http_server.url(path)))
        url = http_server.add(f"/feed{show}.xml", rss(*items, title=f"Show {show}"), Content_Type="application/rss+xml")
        specs.append(FeedSpec(url=url, name=f"Show {show}"))
    return specs


def run_partition(day: str, instance_dir: str) -> None:
    """One partition in its own process, its steps in further processes (multiprocess executor)."""
    os.makedirs(instance_dir, exist_ok=True)
    with dg.DagsterInstance.local_temp(instance_dir) as instance:
        with dg.execute_job(dg.reconstructable(ingest_job), instance=instance, tags={"dagster/partition": day}) as result:
            sys.exit(0 if result.success else 1)


def test_two_partitions_in_parallel_with_the_multiprocess_executor_lose_and_duplicate_nothing(
    podigest_home, http_server
):
    save_feeds(feeds_file(), serve_shows(http_server))
    spawn = multiprocessing.get_context("spawn")
    runs = {
        day: spawn.Process(target=run_partition, args=(day, str(podigest_home / f"dagster-{day}"))) for day in DAYS
    }
    for process in runs.values():
        process.start()
    for process in runs.values():
        process.join(timeout=300)
    results = {day: process.exitcode == 0 for day, process in runs.items()}

    assert results == dict.fromkeys(DAYS, True)
    with duckdb.connect(str(warehouse_path()), read_only=True) as conn:
        per_day = dict(
            conn.execute(
                "SELECT CAST(partition_date AS VARCHAR), count(*) FROM episodes GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        audio = dict(
            conn.execute(
                "SELECT CAST(partition_date AS VARCHAR), count(*) FROM episode_audio WHERE status = 'ok' "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        feeds_ok = conn.execute("SELECT count(*) FROM feeds WHERE last_status IN ('ok', 'not_modified')").fetchone()
    assert per_day == {day: SHOWS * 3 for day in DAYS}
    assert audio == {day: SHOWS * 3 for day in DAYS}
    assert feeds_ok == (SHOWS,)
