"""digest_site materialised for real on a small hand-written archive: the schedule's way of keeping the web
archive current (index with the latest day and the past ones, a page per day and per show, the feed
linking each day to its page under PODIGEST_PUBLIC_URL), and a latest day with nothing worth sending."""

from __future__ import annotations

import re

import dagster as dg
import feedparser

from podigest_dagster import settings
from podigest_dagster.core.digest.site import NOTHING_TODAY, show_slug
from podigest_dagster.defs.digest.site import digest_site
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import write_connection
from podigest_dagster_tests.support.archive import add_digest, site_archive

DEMO_MP3 = settings.demo_dir() / "audio" / "city-signals-2026-11-27.mp3"


def _materialize(day: str) -> dict:
    resources = {"warehouse": WarehouseResource(database=str(settings.warehouse_path()))}
    result = dg.materialize([digest_site], partition_key=day, resources=resources)
    assert result.success
    return {
        k: getattr(v, "value", v)
        for k, v in result.asset_materializations_for_node("digest_site")[0].metadata.items()
    }


def test_the_asset_writes_the_archive_and_a_new_empty_day_becomes_an_honest_front_page(
    podigest_home, monkeypatch
):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", "https://digest.example.org/")
    with write_connection(settings.warehouse_path()) as conn:
        site_archive(conn, settings.audio_dir(), "https://cdn.example.org/city-1.mp3", DEMO_MP3)
    meta = _materialize("2024-03-05")
    site = settings.site_dir()
    assert (meta["days"], meta["shows"], meta["audio_copied"]) == (2, 3, 1)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert (
        "Top insights for" in index
        and 'href="2024-03-05.html"' in index
        and 'href="2024-03-04.html"' in index
    )
    day = (site / "2024-03-05.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/episodes/city-1"' in day and "Open the episode" in day
    assert (site / "shows" / f"{show_slug('City Signals')}.html").is_file()
    links = [e.link for e in feedparser.parse((site / "digests.xml").read_bytes()).entries]
    assert links == ["https://digest.example.org/2024-03-05.html"]

    with write_connection(settings.warehouse_path()) as conn:
        add_digest(conn, "2024-03-06", [])
    assert _materialize("2024-03-06")["days"] == 3
    index = (site / "index.html").read_text(encoding="utf-8")
    latest = index.split('id="days"', 1)[0]
    assert NOTHING_TODAY in latest and "2024-03-06" in latest and 'class="items"' not in latest
    listed = re.findall(r'<li><a href="(\d{4}-\d{2}-\d{2})\.html">', index.split('id="days"', 1)[1])
    assert listed == ["2024-03-06", "2024-03-05", "2024-03-04"]
    assert NOTHING_TODAY in (site / "2024-03-06.html").read_text(encoding="utf-8")
