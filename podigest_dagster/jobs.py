"""The daily job that materialises the whole chain for one partition, and its schedule."""

from __future__ import annotations

import os

import dagster as dg

from podigest_dagster.partitions import daily_partitions

DAILY_JOB_NAME = "daily_digest_job"

daily_digest_job = dg.define_asset_job(
    DAILY_JOB_NAME,
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Feeds -> episodes -> audio -> transcripts -> insights -> digest -> delivery, and the dbt marts, "
    "for one UTC day of publication.",
)


def schedule_hour() -> int:
    """PODIGEST_SCHEDULE_HOUR (UTC, default 6): when the latest complete day is processed."""
    hour = int(os.environ.get("PODIGEST_SCHEDULE_HOUR", "6"))
    if not 0 <= hour <= 23:
        raise ValueError(f"PODIGEST_SCHEDULE_HOUR must be 0-23, got {hour}")
    return hour


daily_digest_schedule = dg.build_schedule_from_partitioned_job(
    daily_digest_job,
    name="daily_digest_schedule",
    hour_of_day=schedule_hour(),
    minute_of_hour=0,
    description="Every day, runs the chain for the latest complete UTC day.",
)
