"""Delivering a stored digest: rewrite the RSS feed, and email each recipient at most once.

Each send is claimed in the delivery ledger, sent with no warehouse connection open, then settled; every
state change is one short write through `connect`, so a crash mid-send is found and marked by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from podigest_dagster.core.digest import ledger
from podigest_dagster.core.digest.email_message import build_message, new_message_id
from podigest_dagster.core.digest.readers import reader_key
from podigest_dagster.core.digest.render import Digest, render_all, subject
from podigest_dagster.core.digest.rss import FEED_FILE, FeedEntry, build_feed
from podigest_dagster.core.digest.smtp import SmtpSendError, SmtpSettings, send_email
from podigest_dagster.core.digest.store import write_atomic
from podigest_dagster.warehouse.db import Connect

RSS_FILE = FEED_FILE
EMAIL = "email"


class Log(Protocol):
    """The three log levels delivery reports at (a logging.Logger or Dagster's context.log)."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...


@dataclass(frozen=True)
class Mailing:
    """Validated email settings: the SMTP server, the sender, the recipients and the List-Unsubscribe value."""

    smtp: SmtpSettings
    sender: str
    recipients: tuple[str, ...]
    list_unsubscribe: str | None
    resend_unknown: bool


def publish_rss(
    connect: Connect, folder: Path, date: str, entries: list[FeedEntry], public_url: str | None = None
) -> Path:
    """Rewrite digests.xml atomically from all stored digests and record channel 'rss' for the day.

    `public_url` is where `folder` is published (PODIGEST_PUBLIC_URL): the feed's links point there;
    without it they point at the episodes the digests cite (never at the local folder)."""
    path = write_atomic(folder / RSS_FILE, build_feed(entries, public_url=public_url))
    with connect() as conn:
        ledger.record_published(conn, date, "rss", RSS_FILE)
    return path


@dataclass(frozen=True)
class Letter:
    """One reader's email of the day: the To: address, the ledger key (the reader's bare lower-cased
    address), the bodies, and what the ledger records about it (digest kind and items JSON)."""

    recipient: str
    reader: str
    text: str
    html: str
    digest: str = "general"
    items: str | None = None


def send_digest(connect: Connect, digest: Digest, mailing: Mailing, log: Log) -> dict[str, int]:
    """Send the digest to every recipient not already sent to; returns counts per outcome for the run metadata."""
    rendered = render_all(digest)
    letters = [Letter(r, reader_key(r), rendered.text, rendered.html) for r in mailing.recipients]
    return send_letters(connect, digest.date, letters, mailing, log)


def send_letters(connect: Connect, date: str, letters: list[Letter], mailing: Mailing, log: Log) -> dict[str, int]:
    """Send each letter once per reader and day (the delivery ledger); counts per outcome."""
    in_flight_s = 2 * mailing.smtp.timeout_s + 60
    with connect() as conn:
        orphans = ledger.mark_orphans_unknown(conn, date, EMAIL, in_flight_s=in_flight_s)
    for orphan in orphans:
        log.warning(
            f"email to {orphan.recipient} for {date} (Message-ID {orphan.message_id}) was cut off mid-send "
            f"by an earlier run: marked 'unknown', {'resending' if mailing.resend_unknown else 'not resent'}"
        )
    counts = {"sent": 0, "already_sent": 0, "failed": 0, "unknown": 0, "skipped_unknown": 0}
    for letter in letters:
        counts[_send_one(connect, date, letter, mailing, log)] += 1
    log.info(f"email for {date}: {counts}")
    return counts


def _send_one(connect: Connect, date: str, letter: Letter, mailing: Mailing, log: Log) -> str:
    """Claim, send outside any write connection, settle. Returns the counter to bump.

    `send_email` reports every failure as SmtpSendError (saying whether the body may have gone out); any
    other exception here happened before the hand-over, so the claim is settled `failed` and retried."""
    with connect() as conn:
        reader = _ledger_key(conn, date, letter.reader)
        message_id = ledger.claim(conn, date, EMAIL, reader, new_message_id(mailing.sender), mailing.resend_unknown)
        if message_id is not None:
            ledger.describe(conn, date, EMAIL, reader, letter.digest, letter.items)
        state = ledger.load(conn, date, EMAIL).get(reader)
    if message_id is None:
        return "already_sent" if state and state.status == ledger.SENT else "skipped_unknown"
    try:
        msg = build_message(
            subject=subject(date),
            text=letter.text,
            html=letter.html,
            sender=mailing.sender,
            recipient=letter.recipient,
            message_id=message_id,
            list_unsubscribe=mailing.list_unsubscribe,
        )
        send_email(mailing.smtp, msg, letter.recipient)
    except SmtpSendError as exc:
        return _settle_failure(connect, date, reader, exc, log)
    except Exception as exc:
        not_sent = SmtpSendError(mailing.smtp.redact(f"message not sent: {type(exc).__name__}: {exc}"))
        return _settle_failure(connect, date, reader, not_sent, log)
    with connect() as conn:
        ledger.mark_sent(conn, date, EMAIL, reader)
    log.info(f"email for {date} sent to {letter.recipient} ({message_id})")
    return "sent"


def _ledger_key(conn, date: str, reader: str) -> str:
    """The reader's row key for the day: their bare lower-cased address, or the recipient as an earlier
    version wrote it ("Ann <Ann@x.org>") when such a row exists, so re-running an old day never resends."""
    rows = ledger.load(conn, date, EMAIL)
    if reader in rows:
        return reader
    return next((recipient for recipient in rows if reader_key(recipient) == reader), reader)


def _settle_failure(connect: Connect, date: str, recipient: str, exc: SmtpSendError, log: Log) -> str:
    with connect() as conn:
        if exc.maybe_delivered:
            ledger.mark_unknown(conn, date, EMAIL, recipient, str(exc))
        else:
            ledger.mark_failed(conn, date, EMAIL, recipient, str(exc))
    if exc.maybe_delivered:
        log.warning(f"email to {recipient} for {date} may or may not have arrived: {exc}")
        return "unknown"
    log.error(f"email to {recipient} for {date} failed (will retry on the next run): {exc}")
    return "failed"
