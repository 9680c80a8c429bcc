"""The bundled demo podcasts: three shows over two days of real (synthetic) speech, runnable offline."""

from __future__ import annotations

from pathlib import Path

import yaml

from podigest_dagster.demo.scripts import DEMO_DATE, DEMO_PREVIOUS_DATE, SHOWS
from podigest_dagster.settings import demo_dir

__all__ = ["DEMO_DATE", "DEMO_PREVIOUS_DATE", "demo_dir", "demo_feed_urls", "write_demo_feeds_yaml"]


def demo_feed_urls() -> list[tuple[str, str]]:
    """Each demo show's feed as a (file:// URL, show name) pair."""
    return [((demo_dir() / "feeds" / f"{show.key}.xml").as_uri(), show.name) for show in SHOWS]


def write_demo_feeds_yaml(path: Path) -> Path:
    """Write a feeds.yaml listing the demo feeds, in the same format users write by hand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    feeds = [{"url": url, "name": name} for url, name in demo_feed_urls()]
    path.write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False), encoding="utf-8")
    return path
