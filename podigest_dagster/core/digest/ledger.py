"""The deliveries table as an exactly-once ledger: claim a send before talking to SMTP, settle it after.

States per (partition_date, channel, recipient), the recipient being the reader's bare lower-cased address
(one email per reader and day, whichever digest they get):
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

from podigest_dagster.warehouse.db import retry_conflicts, transaction

SENDING, SENT, FAILED, UNKNOWN = "sending", "sent", "failed", "unknown"
ORPHAN_NOTE = "a previous run stopped during the SMTP conversation; the message may have been delivered"


@dataclass(frozen=True)
class Delivery:
    recipient: str
    status: str
    message_id: str | None
    attempts: int
    error: str | None


# MERGE (not ON CONFLICT): the same SQL runs on a DuckDB file and on a DuckLake, which has no keys.
UPSERT_ATTEMPT = (
    "MERGE INTO deliveries AS t USING (SELECT ?::DATE AS partition_date, ?::VARCHAR AS channel, "
    "?::VARCHAR AS recipient, ?::VARCHAR AS message_id, ?::VARCHAR AS status, ?::TIMESTAMPTZ AS updated_at) AS s "
    "ON t.partition_date = s.partition_date AND t.channel = s.channel AND t.recipient = s.recipient "
    "WHEN MATCHED THEN UPDATE SET message_id = s.message_id, status = s.status, error = NULL, "
    "attempts = t.attempts + 1, updated_at = s.updated_at "
    "WHEN NOT MATCHED THEN INSERT (partition_date, channel, recipient, message_id, status, error, attempts, "
    "updated_at) VALUES (s.partition_date, s.channel, s.recipient, s.message_id, s.status, NULL, 1, s.updated_at)"
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


@retry_conflicts
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
    recognise the duplicate. The read and the write are one transaction under the writer lock (the file's,
    or the DuckLake catalog's that every machine shares), so two runs never both claim one recipient.
    """
    with transaction(conn):
        current = load(conn, date, channel).get(recipient)
        if not claimable(current, resend_unknown):
            return None
        message_id = (current.message_id if current else None) or new_message_id
        conn.execute(
            UPSERT_ATTEMPT,
            [date, channel, recipient, message_id, SENDING, _now()],
        )
    return message_id


def describe(
    conn: duckdb.DuckDBPyConnection, date: str, channel: str, recipient: str, digest: str, items: str | None
) -> None:
    """Record which digest a claimed send carries (`general` or `reader`) and its items (JSON)."""
    conn.execute(
        "UPDATE deliveries SET digest = ?, items = ? WHERE partition_date = ? AND channel = ? AND recipient = ?",
        [digest, items, date, channel, recipient],
    )


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
