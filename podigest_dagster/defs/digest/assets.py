"""The digest stage: render the day's top insights (daily_digest), check it, then email it and publish RSS."""

from datetime import UTC, datetime

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.digest import quality
from podigest_dagster.core.digest.delivery import Mailing, publish_rss, send_letters
from podigest_dagster.core.digest.reader_digests import letters_for
from podigest_dagster.core.digest.render import Digest, render_all
from podigest_dagster.core.digest.store import (
    load_feed_entries,
    load_reader_digests,
    load_stored_digest,
    load_top_insights,
    save_digest,
    write_digest_files,
)
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.digest.readers import readers_or_fail
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.warehouse import WarehouseResource

DIGEST_KEY = dg.AssetKey("daily_digest")

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
    deps=[daily_digest, dg.AssetKey("reader_digests")],
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
    try:
        public_url = settings.public_url()
    except ValueError as exc:
        raise dg.Failure(str(exc)) from None
    rss_path = publish_rss(warehouse.get_connection, settings.digests_dir(), date, feed_entries, public_url)
    outcome = deliver_email(context, warehouse, mailer, digest)
    metadata = {"rss_path": dg.MetadataValue.path(str(rss_path)), "rss_entries": len(feed_entries), **outcome}
    if outcome.get("failed"):
        raise dg.Failure(
            f"email for {date} failed for {outcome['failed']} recipient(s); re-run the partition to retry",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


def deliver_email(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mailer: MailerResource, digest: Digest
) -> dict[str, int | str]:
    """Email each reader of readers.yaml their own digest (stored by reader_digests) and each other
    recipient the general one, once per reader and day, unless email is off or the day is empty; returns
    counts for the run metadata."""
    readers = readers_or_fail(context).readers
    if not (mailer.is_configured() or (mailer.host.strip() and readers)):
        context.log.info(
            "email skipped: no SMTP host or no recipients configured (set PODIGEST_SMTP_HOST and "
            "PODIGEST_DIGEST_RECIPIENTS or readers.yaml); RSS was still written"
        )
        return {"email": "not configured"}
    if not digest.items:
        context.log.info(f"email skipped: no insights for {digest.date}")
        return {"email": "nothing to send"}
    mailing = _mailing(mailer)
    with warehouse.read_connection() as conn:
        stored = load_reader_digests(conn, digest.date)
    letters, skipped = letters_for(readers, mailing.recipients, digest, stored)
    for line in skipped:
        context.log.warning(f"email skipped for {line}")
    counts = send_letters(warehouse.get_connection, digest.date, letters, mailing, context.log)
    return {**counts, **({"readers_skipped": len(skipped)} if skipped else {})}


def _mailing(mailer: MailerResource) -> Mailing:
    """The settings once SMTP, sender, recipients and List-Unsubscribe are valid; else a one-line step failure."""
    try:
        mailer.validate()
    except ValueError as exc:
        raise dg.Failure(f"email configuration error: {exc}") from None
    return Mailing(
        smtp=mailer.settings(),
        sender=mailer.sender,
        recipients=tuple(mailer.recipient_list()),
        list_unsubscribe=mailer.unsubscribe_header(),
        resend_unknown=mailer.resend_unknown,
    )
