"""The ingest stage: poll every feed into `episodes`, then download the audio the day's transcription needs
(`episode_audio`: none for an episode whose publisher transcript was stored first)."""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import duckdb

from podigest_dagster.core.ingest import store
from podigest_dagster.core.ingest.audio_fetch import (
    AudioTally,
    fetch,
    fresh_enclosures,
    pending_downloads,
)
from podigest_dagster.core.ingest.download import remove_stale_parts
from podigest_dagster.core.ingest.feeds import FeedPoll, poll_feed
from podigest_dagster.core.ingest.feeds_config import FeedsConfigError, display_url, load_feeds
from podigest_dagster.core.text.display import md_cell
from podigest_dagster.defs.daily import daily_partitions
from podigest_dagster.defs.fanout import EPISODE_RETRY, mapping_keys
from podigest_dagster.defs.ingest.resources import IngestSettings
from podigest_dagster.defs.warehouse import WarehouseResource


@dg.asset(partitions_def=daily_partitions, group_name="ingest", kinds={"duckdb", "rss"})
def episodes(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings
) -> dg.MaterializeResult:
    """Every entry of every feed in feeds.yaml, normalised and upserted; one broken feed stops no other."""
    day = date.fromisoformat(context.partition_key)
    try:
        specs = load_feeds(ingest.feeds_path())
    except FeedsConfigError as exc:
        raise dg.Failure(description=str(exc)) from exc
    if not specs:
        context.log.warning(f"no feeds configured in {ingest.feeds_path()}")
    with warehouse.get_connection() as conn:
        validators = store.feed_validators(conn)
    polls = []
    for index, spec in enumerate(specs, start=1):
        etag, modified = validators.get(spec.url, (None, None))
        poll = poll_feed(spec.url, spec.name, etag, modified, **_feed_options(ingest))
        poll = _record(warehouse, poll, etag, modified)
        context.log.info(f"feed {index}/{len(specs)} {display_url(spec.url)}: {_poll_summary(poll)}")
        polls.append(poll)
    with warehouse.get_connection() as conn:
        in_partition = store.count_partition_episodes(conn, day)
    return dg.MaterializeResult(metadata=_episodes_metadata(polls, in_partition))


@dataclass(frozen=True)
class FeedDownloads:
    """One step's work: a show's episodes of the day whose audio must be downloaded."""

    feed_url: str
    tasks: tuple[store.AudioTask, ...]


@dg.op(
    ins={"episodes": dg.In(dg.Nothing), "publisher_transcripts": dg.In(dg.Nothing)},
    out={
        "pending": dg.DynamicOut(FeedDownloads),
        "settled": dg.Out(AudioTally),
        "episodes_count": dg.Out(int),
    },
)
def plan_downloads(context: dg.OpExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings):
    """Settle the day's episodes that need no download (a transcript is stored: the publisher's, checked
    first, or one made before from audio since pruned; or the audio is on disk); the others become one
    dynamic output per show."""
    day = date.fromisoformat(context.partition_key)
    audio_dir = ingest.audio_path()
    remove_stale_parts(audio_dir, older_than_s=ingest.download_deadline_s + 600)
    with warehouse.get_connection() as conn:
        tasks = store.audio_tasks(conn, day)
        by_url = store.downloaded_by_url(conn)
    tally = AudioTally()
    by_feed: dict[str, list[store.AudioTask]] = {}
    for task in pending_downloads(warehouse.get_connection, tasks, day, audio_dir, by_url, tally):
        by_feed.setdefault(task.feed_url, []).append(task)
    for key, (feed_url, group) in zip(mapping_keys(list(by_feed)), by_feed.items(), strict=True):
        yield dg.DynamicOutput(FeedDownloads(feed_url, tuple(group)), mapping_key=key, output_name="pending")
    yield dg.Output(tally, output_name="settled")
    yield dg.Output(len(tasks), output_name="episodes_count")


@dg.op(retry_policy=EPISODE_RETRY)
def download_feed_episodes(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings, work: FeedDownloads
) -> tuple[AudioTally, int]:
    """Re-read the show's feed (signed enclosure URLs expire), then download each episode and record it at once.

    Returns the tally and how many current enclosure URLs the feed gave.
    """
    day = date.fromisoformat(context.partition_key)
    fresh, unread = fresh_enclosures({work.feed_url}, **_feed_options(ingest))
    if unread:
        context.log.warning(
            f"could not re-read {display_url(work.feed_url)}; using the enclosure URLs stored at the last poll"
        )
    limits = ingest.download_limits()
    by_url: dict[str, store.AudioTask] = {}
    tally = AudioTally()
    for index, task in enumerate(work.tasks, start=1):
        url = fresh.get(task.episode_id) or task.enclosure_url or ""
        if url not in by_url:
            with warehouse.read_connection() as conn:
                found = store.downloaded_with_url(conn, url)
            if found is not None:
                by_url[url] = found
        outcome = fetch(warehouse.get_connection, task, day, url, limits, by_url)
        tally.add(task, outcome)
        context.log.info(
            f"audio {index}/{len(work.tasks)} {task.title!r}: {outcome.status} {outcome.error or ''}".rstrip()
        )
    return tally, len(fresh)


@dg.op
def collect_downloads(settled: AudioTally, results: list, episodes_count: int) -> dg.Output:
    """The day's audio counts as the materialization's metadata."""
    for tally, _ in results:
        settled.merge(tally)
    re_read = sum(fresh for _, fresh in results)
    return dg.Output(None, metadata=_audio_metadata(settled, episodes_count, re_read))


@dg.graph_asset(
    partitions_def=daily_partitions,
    group_name="ingest",
    ins={
        "episodes": dg.AssetIn(dagster_type=dg.Nothing),
        "publisher_transcripts": dg.AssetIn(dagster_type=dg.Nothing),
    },
    kinds={"duckdb"},
)
def episode_audio(episodes, publisher_transcripts):
    """The enclosures the day's transcription needs, as content-addressed audio files: none for an episode
    whose transcript is stored (the publisher's usable one is fetched first), and audio already on disk is
    never fetched again.

    One step per show with audio still to download (nearly always one episode), so executors spread the
    downloads over workers.
    """
    pending, settled, episodes_count = plan_downloads(episodes=episodes, publisher_transcripts=publisher_transcripts)
    return collect_downloads(settled, pending.map(download_feed_episodes).collect(), episodes_count)


def _record(
    warehouse: WarehouseResource, poll: FeedPoll, old_etag: str | None, old_modified: str | None
) -> FeedPoll:
    """Commit one feed's poll; if its entries cannot be stored, record the feed as failed and go on.

    The failure keeps the old validators so the next poll fetches the body again.
    """
    try:
        with warehouse.get_connection() as conn:
            store.record_poll(conn, poll, datetime.now(UTC))
        return poll
    except duckdb.Error as exc:
        reason = f"could not store entries: {' '.join(str(exc).split())[:300]}"
        failed = replace(
            poll, status="error", episodes=[], etag=old_etag, last_modified=old_modified, error=reason
        )
        with warehouse.get_connection() as conn:
            store.record_poll(conn, failed, datetime.now(UTC))
        return failed


def _feed_options(ingest: IngestSettings) -> dict[str, Any]:
    return {
        "max_bytes": ingest.max_feed_bytes,
        "connect_timeout_s": ingest.connect_timeout_s,
        "read_timeout_s": ingest.read_timeout_s,
        "deadline_s": ingest.feed_deadline_s,
        "allow_private": ingest.allow_private(),
        "retries": ingest.retries,
        "backoff_s": ingest.backoff_s,
    }


def _poll_summary(poll: FeedPoll) -> str:
    if poll.status == "ok":
        skipped = "".join(f", {count} skipped ({reason})" for reason, count in poll.skipped.items())
        note = f" (warning: {poll.error})" if poll.error else ""
        return f"ok, {len(poll.episodes)} entries{skipped}{note}"
    if poll.status == "not_modified":
        return "not modified"
    return f"failed: {poll.error}"


def _episodes_metadata(polls: list[FeedPoll], in_partition: int) -> dict[str, Any]:
    statuses = Counter(p.status for p in polls)
    undated = sum(1 for p in polls for e in p.episodes if e.date_status != "ok")
    failed = {display_url(p.feed_url): p.error or "error" for p in polls if p.status == "error"}
    skipped = {display_url(p.feed_url): p.skipped for p in polls if p.skipped}
    return {
        "feeds_ok": statuses["ok"],
        "feeds_not_modified": statuses["not_modified"],
        "feeds_failed": statuses["error"],
        "failed_feeds": dg.MetadataValue.json(failed),
        "entries_seen": sum(len(p.episodes) for p in polls),
        "entries_skipped": sum(n for p in polls for n in p.skipped.values()),
        "skipped_entries": dg.MetadataValue.json(skipped),
        "episodes_in_partition": in_partition,
        "undated_entries_seen": undated,
        "feeds": dg.MetadataValue.md(_feeds_table(polls)),
    }


def _feeds_table(polls: list[FeedPoll]) -> str:
    lines = ["| feed | status | HTTP | entries | error |", "|---|---|---|---|---|"]
    for p in polls:
        cells = [
            p.name or p.title or display_url(p.feed_url),
            p.status,
            str(p.http_status or ""),
            str(len(p.episodes)),
            p.error or "",
        ]
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def _audio_metadata(tally: AudioTally, episodes_count: int, fresh: int) -> dict[str, Any]:
    return {
        "episodes_in_partition": episodes_count,
        "downloaded": tally.downloaded,
        "already_present": tally.already_present,
        "failed": tally.failed,
        "no_enclosure": tally.no_enclosure,
        "not_needed_publisher": tally.not_needed_publisher,
        "not_needed_transcribed": tally.not_needed_transcribed,
        "bytes_downloaded": tally.bytes_downloaded,
        "enclosures_re_read": fresh,
        "errors": dg.MetadataValue.json(tally.errors),
    }
