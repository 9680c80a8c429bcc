"""The daily partitions (one UTC day of publication: [D 00:00, D+1 00:00) UTC), the job that
materialises the whole chain for one partition, and its schedule."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

PARTITIONS_START = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")



def yesterday_utc() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()

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
