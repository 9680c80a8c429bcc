"""The digest stage: render the day's top insights (daily_digest), check it, then email it and publish RSS."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core import delivery_ledger as ledger
from podigest_dagster.core import digest_quality as quality
from podigest_dagster.core.digest_store import (
    load_feed_entries,
    load_stored_digest,
    load_top_insights,
    save_digest,
    write_atomic,
    write_digest_files,
)
from podigest_dagster.core.email_message import build_message, new_message_id
from podigest_dagster.core.render import Digest, Renderings, render_all, subject
from podigest_dagster.core.rss import FeedEntry, build_feed
from podigest_dagster.core.smtp_delivery import SmtpSendError, SmtpSettings, send_email
from podigest_dagster.partitions import daily_partitions
from podigest_dagster.resources.mailer import MailerResource
from podigest_dagster.resources.warehouse import WarehouseResource

DIGEST_KEY = dg.AssetKey("daily_digest")
RSS_FILE = "digests.xml"

CHECK_ITEM_COUNT = "digest_has_one_to_five_items"
CHECK_NO_REPEATS = "digest_items_are_distinct"
CHECK_TRACEABLE = "digest_items_have_timestamped_sources"

digest_checks = [
    dg.AssetCheckSpec(CHECK_ITEM_COUNT, asset=DIGEST_KEY, blocking=True, description="1 to 5 items"),
    dg.AssetCheckSpec(CHECK_NO_REPEATS, asset=DIGEST_KEY, blocking=True, description="no two items alike"),
    dg.AssetCheckSpec(
        CHECK_TRACEABLE,
        asset=DIGEST_KEY,
        blocking=True,
        description="every item has a source with a timestamp",
    ),
]


@dg.asset(
    partitions_def=daily_partitions,
    deps=[dg.AssetKey("top_insights")],
    group_name="digest",
    check_specs=digest_checks,
    kinds={"duckdb", "markdown", "html"},
)
def daily_digest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The day's top insights rendered as Markdown, HTML, text and JSON; stored in the warehouse and as files."""
    date = context.partition_key
    with warehouse.read_connection() as conn:
        digest = load_top_insights(conn, date)
    rendered = render_all(digest)
    with warehouse.get_connection() as conn:
        save_digest(conn, digest, rendered, datetime.now(UTC))
    paths = write_digest_files(settings.digests_dir(), date, rendered)
    context.log.info(f"digest for {date}: {len(digest.items)} items, files in {settings.digests_dir()}")
    yield dg.MaterializeResult(
        metadata={
            "preview": dg.MetadataValue.md(rendered.markdown),
            "item_count": len(digest.items),
            **{f"path_{suffix}": dg.MetadataValue.path(str(path)) for suffix, path in paths.items()},
        }
    )
    yield from evaluate_checks(digest)


def evaluate_checks(digest: Digest) -> list[dg.AssetCheckResult]:
    """The three quality checks; an empty day fails the count check with WARN so a quiet day is not an error."""
    count = len(digest.items)
    pairs = quality.alike_pairs(digest)
    untraceable = quality.untraceable_ranks(digest)
    return [
        dg.AssetCheckResult(
            check_name=CHECK_ITEM_COUNT,
            asset_key=DIGEST_KEY,
            passed=quality.item_count_ok(digest),
            severity=dg.AssetCheckSeverity.WARN if count == 0 else dg.AssetCheckSeverity.ERROR,
            metadata={"item_count": count},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_NO_REPEATS,
            asset_key=DIGEST_KEY,
            passed=not pairs,
            metadata={"alike_ranks": str(pairs)},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_TRACEABLE,
            asset_key=DIGEST_KEY,
            passed=not untraceable,
            metadata={"ranks_without_timestamp": str(untraceable)},
        ),
    ]


@dg.asset(
    partitions_def=daily_partitions,
    deps=[daily_digest],
    group_name="digest",
    kinds={"email", "rss"},
)
def digest_delivery(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mailer: MailerResource
) -> dg.MaterializeResult:
    """Publish every stored digest as RSS, then email the day's digest once to each recipient."""
    date = context.partition_key
    with warehouse.read_connection() as conn:
        digest = load_stored_digest(conn, date)
        feed_entries = load_feed_entries(conn)
    if digest is None:
        raise dg.Failure(f"no digest stored for {date}: materialise daily_digest first")
    rss_path = publish_rss(warehouse, date, feed_entries)
    outcome = deliver_email(context, warehouse, mailer, digest)
    metadata = {"rss_path": dg.MetadataValue.path(str(rss_path)), "rss_entries": len(feed_entries), **outcome}
    if outcome.get("failed"):
        raise dg.Failure(
            f"email for {date} failed for {outcome['failed']} recipient(s); re-run the partition to retry",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


def publish_rss(warehouse: WarehouseResource, date: str, entries: list[FeedEntry]) -> Path:
    """Rewrite digests.xml atomically from all stored digests and record channel 'rss' for the day."""
    folder = settings.digests_dir()
    path = write_atomic(folder / RSS_FILE, build_feed(entries, channel_link=folder.as_uri()))
    with warehouse.get_connection() as conn:
        ledger.record_published(conn, date, "rss", RSS_FILE)
    return path


def deliver_email(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mailer: MailerResource, digest: Digest
) -> dict[str, int | str]:
    """Send to every recipient not already sent to; returns counts for the run metadata."""
    if not mailer.is_configured():
        context.log.info(
            "email skipped: no SMTP host or no recipients configured (set PODIGEST_SMTP_HOST and "
            "PODIGEST_DIGEST_RECIPIENTS); RSS was still written"
        )
        return {"email": "not configured"}
    if not digest.items:
        context.log.info(f"email skipped: no insights for {digest.date}")
        return {"email": "nothing to send"}
    smtp = _validated_settings(mailer)
    rendered = render_all(digest)
    with warehouse.get_connection() as conn:
        orphans = ledger.mark_orphans_unknown(conn, digest.date, "email", in_flight_s=2 * smtp.timeout_s + 60)
    for orphan in orphans:
        context.log.warning(
            f"email to {orphan.recipient} for {digest.date} (Message-ID {orphan.message_id}) was cut off mid-send "
            f"by an earlier run: marked 'unknown', {'resending' if mailer.resend_unknown else 'not resent'}"
        )
    counts = {"sent": 0, "already_sent": 0, "failed": 0, "unknown": 0, "skipped_unknown": 0}
    for recipient in mailer.recipient_list():
        counts[_send_one(context, warehouse, mailer, digest, rendered, recipient)] += 1
    context.log.info(f"email for {digest.date}: {counts}")
    return counts


def _validated_settings(mailer: MailerResource) -> SmtpSettings:
    """The SMTP settings once sender, recipients and List-Unsubscribe are valid; else a one-line step failure."""
    try:
        mailer.validate()
    except ValueError as exc:
        raise dg.Failure(f"email configuration error: {exc}") from None
    return mailer.settings()


def _send_one(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    mailer: MailerResource,
    digest: Digest,
    rendered: Renderings,
    recipient: str,
) -> str:
    """Claim, send outside any write connection, settle. Returns the counter to bump.

    `send_email` reports every failure as SmtpSendError (saying whether the body may have gone out); any
    other exception here happened before the hand-over, so the claim is settled `failed` and retried."""
    with warehouse.get_connection() as conn:
        message_id = ledger.claim(
            conn, digest.date, "email", recipient, new_message_id(mailer.sender), mailer.resend_unknown
        )
        state = ledger.load(conn, digest.date, "email").get(recipient)
    if message_id is None:
        return "already_sent" if state and state.status == ledger.SENT else "skipped_unknown"
    try:
        msg = build_message(
            subject=subject(digest.date),
            text=rendered.text,
            html=rendered.html,
            sender=mailer.sender,
            recipient=recipient,
            message_id=message_id,
            list_unsubscribe=mailer.unsubscribe_header(),
        )
        send_email(mailer.settings(), msg, recipient)
    except SmtpSendError as exc:
        return _settle_failure(context, warehouse, digest.date, recipient, exc)
    except Exception as exc:
        not_sent = SmtpSendError(mailer.settings().redact(f"message not sent: {type(exc).__name__}: {exc}"))
        return _settle_failure(context, warehouse, digest.date, recipient, not_sent)
    with warehouse.get_connection() as conn:
        ledger.mark_sent(conn, digest.date, "email", recipient)
    context.log.info(f"email for {digest.date} sent to {recipient} ({message_id})")
    return "sent"


def _settle_failure(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    date: str,
    recipient: str,
    exc: SmtpSendError,
) -> str:
    with warehouse.get_connection() as conn:
        if exc.maybe_delivered:
            ledger.mark_unknown(conn, date, "email", recipient, str(exc))
        else:
            ledger.mark_failed(conn, date, "email", recipient, str(exc))
    if exc.maybe_delivered:
        context.log.warning(f"email to {recipient} for {date} may or may not have arrived: {exc}")
        return "unknown"
    context.log.error(f"email to {recipient} for {date} failed (will retry on the next run): {exc}")
    return "failed"
