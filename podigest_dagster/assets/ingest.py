"""The ingest stage: poll every feed into `episodes`, then download the day's audio (`episode_audio`)."""

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from podigest_dagster.core import ingest_store as store
from podigest_dagster.core.download import (
    DownloadError,
    DownloadResult,
    download_audio,
    find_audio,
    remove_stale_parts,
)
from podigest_dagster.core.feeds import FeedPoll, current_enclosures, poll_feed
from podigest_dagster.core.feeds_config import FeedsConfigError, display_url, load_feeds
from podigest_dagster.core.render import md_cell
from podigest_dagster.partitions import daily_partitions
from podigest_dagster.resources.ingest import IngestSettings
from podigest_dagster.resources.warehouse import WarehouseResource


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


@dg.asset(partitions_def=daily_partitions, group_name="ingest", deps=[episodes], kinds={"duckdb"})
def episode_audio(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingest: IngestSettings
) -> dg.MaterializeResult:
    """The day's enclosures as content-addressed audio files; audio already on disk is never fetched again."""
    day = date.fromisoformat(context.partition_key)
    audio_dir = ingest.audio_path()
    remove_stale_parts(audio_dir, older_than_s=ingest.download_deadline_s + 600)
    with warehouse.get_connection() as conn:
        tasks = store.audio_tasks(conn, day)
        by_url = store.downloaded_by_url(conn)
    counts: Counter[str] = Counter()
    errors: dict[str, str] = {}
    pending = [t for t in tasks if not _already_present(warehouse, t, day, audio_dir, by_url, counts)]
    fresh = _fresh_enclosures(context, {t.feed_url for t in pending if t.enclosure_url}, ingest)
    for index, task in enumerate(pending, start=1):
        url = fresh.get(task.episode_id) or task.enclosure_url
        outcome = _download(warehouse, task, day, url, ingest, by_url)
        counts[outcome[0]] += 1
        counts["bytes"] += outcome[1]
        if outcome[2]:
            errors[task.title or task.episode_id] = outcome[2]
        context.log.info(
            f"audio {index}/{len(pending)} {task.title!r}: {outcome[0]} {outcome[2] or ''}".rstrip()
        )
    return dg.MaterializeResult(metadata=_audio_metadata(counts, errors, len(tasks), len(fresh)))


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


def _already_present(
    warehouse: WarehouseResource,
    task: store.AudioTask,
    day: date,
    audio_dir: Path,
    by_url: dict[str, store.AudioTask],
    counts: Counter[str],
) -> bool:
    """True when the episode needs no download: no enclosure, its file is there, or the same audio is."""
    if not task.enclosure_url:
        if task.status != "no_enclosure":
            with warehouse.get_connection() as conn:
                store.record_audio_failed(conn, task.episode_id, day, None, "entry has no enclosure", 0)
        counts["no_enclosure"] += 1
        return True
    if task.status == "ok" and task.path and _exists(task.path):
        counts["already_present"] += 1
        return True
    source = _reusable(task, audio_dir, by_url)
    if source is None:
        return False
    with warehouse.get_connection() as conn:
        store.record_audio_ok(conn, task.episode_id, day, task.enclosure_url, source, datetime.now(UTC))
    counts["already_present"] += 1
    return True


def _reusable(
    task: store.AudioTask, audio_dir: Path, by_url: dict[str, store.AudioTask]
) -> DownloadResult | None:
    """Audio already on disk for this episode: its own file under another name, or the same URL's file."""
    if task.status == "ok" and task.sha256:
        existing = find_audio(audio_dir, task.sha256)
        if existing is not None:
            return _as_result(task, existing)
    same_url = by_url.get(task.enclosure_url or "")
    return _as_result(same_url, None) if same_url else None


def _download(
    warehouse: WarehouseResource,
    task: store.AudioTask,
    day: date,
    url: str,
    ingest: IngestSettings,
    by_url: dict[str, store.AudioTask],
) -> tuple[str, int, str | None]:
    """Download one episode and commit its row at once; (outcome, bytes downloaded, error)."""
    reuse = by_url.get(url)
    if reuse is not None:
        with warehouse.get_connection() as conn:
            store.record_audio_ok(conn, task.episode_id, day, url, _as_result(reuse, None), datetime.now(UTC))
        return "already_present", 0, None
    try:
        result = download_audio(
            url,
            ingest.audio_path(),
            max_bytes=ingest.max_audio_bytes,
            connect_timeout_s=ingest.connect_timeout_s,
            read_timeout_s=ingest.read_timeout_s,
            deadline_s=ingest.download_deadline_s,
            retries=ingest.retries,
            allow_private=ingest.allow_private(),
            backoff_s=ingest.backoff_s,
        )
    except DownloadError as exc:
        with warehouse.get_connection() as conn:
            store.record_audio_failed(conn, task.episode_id, day, url, str(exc), exc.attempts)
        return "failed", 0, str(exc)
    with warehouse.get_connection() as conn:
        store.record_audio_ok(conn, task.episode_id, day, url, result, datetime.now(UTC))
    by_url[url] = store.AudioTask(
        task.episode_id, task.feed_url, task.title, url, "ok", result.sha256, str(result.path), result.bytes,
        result.content_type,
    )  # fmt: skip
    return "downloaded", result.bytes, None


def _fresh_enclosures(
    context: dg.AssetExecutionContext, feed_urls: set[str], ingest: IngestSettings
) -> dict[str, str]:
    """Re-read each feed with pending downloads for its current enclosure URLs (signed URLs expire)."""
    fresh: dict[str, str] = {}
    for url in sorted(feed_urls):
        found = current_enclosures(url, **_feed_options(ingest))
        if not found:
            context.log.warning(
                f"could not re-read {display_url(url)}; using the enclosure URLs stored at the last poll"
            )
        fresh.update(found)
    return fresh


def _as_result(task: store.AudioTask, path: Path | None) -> DownloadResult:
    return DownloadResult(
        task.sha256 or "", path or Path(task.path or ""), task.bytes or 0, task.content_type, 0
    )


def _exists(path: str) -> bool:
    return Path(path).is_file()


def _poll_summary(poll: FeedPoll) -> str:
    if poll.status == "ok":
        note = f" (warning: {poll.error})" if poll.error else ""
        return f"ok, {len(poll.episodes)} entries{note}"
    if poll.status == "not_modified":
        return "not modified"
    return f"failed: {poll.error}"


def _episodes_metadata(polls: list[FeedPoll], in_partition: int) -> dict[str, Any]:
    statuses = Counter(p.status for p in polls)
    undated = sum(1 for p in polls for e in p.episodes if e.date_status != "ok")
    failed = {display_url(p.feed_url): p.error or "error" for p in polls if p.status == "error"}
    return {
        "feeds_ok": statuses["ok"],
        "feeds_not_modified": statuses["not_modified"],
        "feeds_failed": statuses["error"],
        "failed_feeds": dg.MetadataValue.json(failed),
        "entries_seen": sum(len(p.episodes) for p in polls),
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


def _audio_metadata(
    counts: Counter[str], errors: dict[str, str], episodes_count: int, fresh: int
) -> dict[str, Any]:
    return {
        "episodes_in_partition": episodes_count,
        "downloaded": counts["downloaded"],
        "already_present": counts["already_present"],
        "failed": counts["failed"],
        "no_enclosure": counts["no_enclosure"],
        "bytes_downloaded": counts["bytes"],
        "enclosures_re_read": fresh,
        "errors": dg.MetadataValue.json(errors),
    }
