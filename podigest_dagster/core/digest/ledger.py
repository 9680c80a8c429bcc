"""The deliveries table as an exactly-once ledger: claim a send before talking to SMTP, settle it after.

States per (partition_date, channel, recipient):
  (no row) | failed  -> claimable: a send is attempted
  sending            -> a send is in flight; found at the start of a run it means a previous run died
                        mid-conversation, so the message may or may not have gone out
  unknown            -> such an orphan, recorded for a human; resent only when `resend_unknown`
  sent               -> never sent again
Every call takes a connection held under the warehouse writer lock, so claiming is atomic across
processes: two runs cannot both claim the same recipient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

SENDING, SENT, FAILED, UNKNOWN = "sending", "sent", "failed", "unknown"
ORPHAN_NOTE = "a previous run stopped during the SMTP conversation; the message may have been delivered"


@dataclass(frozen=True)
class Delivery:
    recipient: str
    status: str
    message_id: str | None
    attempts: int
    error: str | None


UPSERT_ATTEMPT = (
    "INSERT INTO deliveries (partition_date, channel, recipient, message_id, status, error, attempts, updated_at) "
    "VALUES (?, ?, ?, ?, ?, NULL, 1, ?) "
    "ON CONFLICT (partition_date, channel, recipient) DO UPDATE SET "
    "message_id = excluded.message_id, status = excluded.status, error = NULL, "
    "attempts = deliveries.attempts + 1, updated_at = excluded.updated_at"
)


def load(conn: duckdb.DuckDBPyConnection, date: str, channel: str) -> dict[str, Delivery]:
    """Every recipient's row for a partition and channel."""
    rows = conn.execute(
        "SELECT recipient, status, message_id, attempts, error FROM deliveries "
        "WHERE partition_date = ? AND channel = ?",
        [date, channel],
    ).fetchall()
    return {row[0]: Delivery(*row) for row in rows}


def mark_orphans_unknown(
    conn: duckdb.DuckDBPyConnection, date: str, channel: str, in_flight_s: float = 0.0
) -> list[Delivery]:
    """Turn rows a dead run left in `sending` into `unknown`; returns them (they need attention).

    Rows claimed less than `in_flight_s` ago may belong to a run still talking to the server: left alone.
    """
    rows = conn.execute(
        "SELECT recipient, status, message_id, attempts, error FROM deliveries "
        "WHERE partition_date = ? AND channel = ? AND status = ? AND updated_at <= ?",
        [date, channel, SENDING, _now() - timedelta(seconds=in_flight_s)],
    ).fetchall()
    orphans = [Delivery(*row) for row in rows]
    for row in orphans:
        _set(conn, date, channel, row.recipient, UNKNOWN, ORPHAN_NOTE)
    return orphans


def claimable(current: Delivery | None, resend_unknown: bool) -> bool:
    """Whether a recipient may be sent to now."""
    if current is None or current.status == FAILED:
        return True
    return current.status == UNKNOWN and resend_unknown


def claim(
    conn: duckdb.DuckDBPyConnection,
    date: str,
    channel: str,
    recipient: str,
    new_message_id: str,
    resend_unknown: bool = False,
) -> str | None:
    """Mark the recipient `sending` and return the Message-ID to use, or None if it must not be sent.

    A retry keeps the Message-ID of the earlier attempt, so a receiver that got the first one can
    recognise the duplicate.
    """
    current = load(conn, date, channel).get(recipient)
    if not claimable(current, resend_unknown):
        return None
    message_id = (current.message_id if current else None) or new_message_id
    conn.execute(
        UPSERT_ATTEMPT,
        [date, channel, recipient, message_id, SENDING, _now()],
    )
    return message_id


def mark_sent(conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str) -> None:
    _set(conn, date, channel, recipient, SENT, None)


def mark_failed(conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str, error: str) -> None:
    _set(conn, date, channel, recipient, FAILED, error)


def mark_unknown(
    conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str, error: str
) -> None:
    _set(conn, date, channel, recipient, UNKNOWN, error)


def record_published(
    conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str, message_id: str | None = None
) -> None:
    """Upsert a `sent` row for an idempotent channel (RSS) that is simply rewritten each run."""
    conn.execute(
        UPSERT_ATTEMPT,
        [date, channel, recipient, message_id, SENT, _now()],
    )


def _set(
    conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str, status: str, error: str | None
) -> None:
    conn.execute(
        "UPDATE deliveries SET status = ?, error = ?, updated_at = ? "
        "WHERE partition_date = ? AND channel = ? AND recipient = ?",
        [status, error, _now(), date, channel, recipient],
    )


def _now() -> datetime:
    return datetime.now(UTC)
