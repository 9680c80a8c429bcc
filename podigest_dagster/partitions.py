"""One partition is one UTC day of publication: [D 00:00, D+1 00:00) UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

PARTITIONS_START = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")


def partition_window(partition_key: str) -> tuple[datetime, datetime]:
    """The UTC half-open interval of publication times that belong to a partition."""
    day = date.fromisoformat(partition_key)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def yesterday_utc() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
