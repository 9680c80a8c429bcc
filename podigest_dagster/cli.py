"""`podigest`: run the daily chain, read digests, manage feeds, query the warehouse."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from podigest_dagster import settings

FORMATS = ("md", "html", "json", "text")


class CLIError(Exception):
    """A failure the user can act on; printed as one line."""


def _valid_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def _ensure_dagster_home() -> Path:
    """Runs are recorded in a persistent instance: DAGSTER_HOME, or PODIGEST_HOME/dagster (SQLite), or the
    PostgreSQL database PODIGEST_DAGSTER_PG_URL names (see dagster_instance.py)."""
    from podigest_dagster import dagster_instance

    return dagster_instance.ensure_home()


def run_partition(partition_key: str, feeds_file: Path | None = None) -> None:
    """Materialise the whole chain for one day through the same job the schedule runs."""
    import dagster as dg

    if feeds_file is not None:
        os.environ["PODIGEST_FEEDS"] = str(feeds_file.resolve())
    if not settings.feeds_file().exists():
        raise CLIError(
            f"no feeds file at {settings.feeds_file()}: write one (feeds: [{{url: ...}}]), "
            "run `podigest feeds import FILE.opml`, or try `podigest demo`"
        )
    _ensure_dagster_home()
    from podigest_dagster.definitions import build_definitions
    from podigest_dagster.defs.daily import DAILY_JOB_NAME
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    prepare_dbt_manifest()
    job = build_definitions().resolve_job_def(DAILY_JOB_NAME)
    print(f"podigest: running {DAILY_JOB_NAME} for {partition_key} (feeds: {settings.feeds_file()})", flush=True)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        steps = ", ".join(e.step_key or "?" for e in failures) or "?"
        reason = _first_line(failures[0].step_failure_data.error.message) if failures else "see the run's logs"
        raise CLIError(f"run {result.run_id} failed at {steps}: {reason} (details: `podigest ui`)")
    print(f"podigest: run {result.run_id} succeeded for {partition_key}", flush=True)


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"


def read_digest(partition_key: str, fmt: str) -> str:
    """The stored digest of a day in one format."""
    from podigest_dagster.core.digest.store import load_rendering
    from podigest_dagster.warehouse.db import read_connection

    column = {"md": "markdown", "html": "html", "json": "json", "text": "text"}[fmt]
    with read_connection(settings.warehouse_path()) as conn:
        text = load_rendering(conn, partition_key, column)
    if text is None:
        raise CLIError(f"no digest stored for {partition_key}: run `podigest run --date {partition_key}` first")
    return text


def cmd_run(args: argparse.Namespace) -> None:
    run_partition(args.date, Path(args.feeds) if args.feeds else None)
    try:
        digest = read_digest(args.date, "md")
    except CLIError:
        return
    print()
    print(digest)
    print(f"podigest: digest files in {settings.digests_dir()}")


def cmd_demo(args: argparse.Namespace) -> None:
    from podigest_dagster import demo

    feeds_file = demo.write_demo_feeds_yaml(settings.podigest_home() / "demo-feeds.yaml")
    for day in (demo.DEMO_PREVIOUS_DATE, demo.DEMO_DATE):
        run_partition(day, feeds_file)
    print()
    print(read_digest(demo.DEMO_DATE, "md"))
    home = settings.podigest_home()
    print(f"podigest: the demo digest is stored in {settings.digests_dir()}/{demo.DEMO_DATE}.(md|html|txt|json)")
    print(f"podigest: warehouse {settings.warehouse_path()}; query it with `podigest sql \"SELECT ...\"`")
    print(
        f"podigest: to see the runs, partitions and the digest preview in the Dagster UI, run `{_own_command()} ui` "
        f"(or `DAGSTER_HOME={home / 'dagster'} dagster dev -m podigest_dagster.definitions`) "
        "and open http://127.0.0.1:3000"
    )


def _own_command() -> str:
    """How to call podigest again: plain `podigest` when it is on PATH, else its path in this environment."""
    if shutil.which("podigest"):
        return "podigest"
    local = Path(sys.executable).parent / "podigest"
    return str(local) if local.exists() else f"{sys.executable} -m podigest_dagster.cli"


def cmd_digest(args: argparse.Namespace) -> None:
    text = read_digest(args.date, args.format)
    if args.format == "json":
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    print(text)


def cmd_feeds_import(args: argparse.Namespace) -> None:
    from podigest_dagster.core.ingest.feeds_config import load_feeds, merge_feeds, read_opml, save_feeds

    opml = Path(args.opml)
    if not opml.exists():
        raise CLIError(f"OPML file not found: {opml}")
    target = Path(args.feeds) if args.feeds else settings.feeds_file()
    existing = load_feeds(target) if target.exists() else []
    found = read_opml(opml.read_bytes())
    merged, added = merge_feeds(existing, found.specs)
    save_feeds(target, merged)
    print(f"podigest: imported {added} new feed(s) from {opml} into {target} ({len(merged)} in all)")
    for line in found.skipped:
        print(f"podigest: skipped {line}")


def cmd_feeds_list(args: argparse.Namespace) -> None:
    from podigest_dagster.core.ingest.feeds_config import load_feeds
    from podigest_dagster.warehouse.db import read_connection

    target = Path(args.feeds) if args.feeds else settings.feeds_file()
    if not target.exists():
        raise CLIError(f"no feeds file at {target}: create it or run `podigest feeds import FILE.opml`")
    specs = load_feeds(target)
    status: dict[str, tuple] = {}
    if settings.warehouse_path().exists():
        with read_connection(settings.warehouse_path()) as conn:
            for row in conn.execute(
                "SELECT feed_url, last_status, last_http_status, last_polled_at, last_error FROM feeds"
            ).fetchall():
                status[row[0]] = row[1:]
    print(f"{len(specs)} feed(s) in {target}")
    for spec in specs:
        state, http_status, polled, error = status.get(spec.url, ("never polled", None, None, None))
        when = polled.strftime("%Y-%m-%d %H:%M UTC") if polled else "-"
        line = f"- {spec.name or '(unnamed)'} <{spec.url}>  status: {state}"
        if http_status:
            line += f" (HTTP {http_status})"
        line += f"  last poll: {when}"
        if error:
            line += f"  error: {error}"
        print(line)


def cmd_sql(args: argparse.Namespace) -> None:
    from podigest_dagster.warehouse.sql_console import run_query

    print(run_query(settings.warehouse_path(), args.query, fmt=args.format))


def cmd_prepare(args: argparse.Namespace) -> None:
    from podigest_dagster.core.transcribe.whisper_model import ensure_bundled_whisper_base
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    print(f"podigest: dbt manifest at {prepare_dbt_manifest()}")
    print(f"podigest: bundled Whisper base model at {ensure_bundled_whisper_base(settings.models_dir())}")


def cmd_ui(args: argparse.Namespace) -> None:
    home = _ensure_dagster_home()
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    prepare_dbt_manifest()
    print(f"podigest: Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home})", flush=True)
    command = [sys.executable, "-m", "dagster", "dev", "-m", "podigest_dagster.definitions", "-p", str(args.port)]
    os.execv(sys.executable, command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podigest",
        description="Daily top-5 insights from new podcast episodes. State lives in PODIGEST_HOME "
        f"(now {settings.podigest_home()}).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole chain offline on the bundled demo podcasts and print the digest")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="materialise the whole chain for one UTC day (default: yesterday)")
    from podigest_dagster.defs.daily import yesterday_utc

    run.add_argument("--date", type=_valid_date, default=yesterday_utc(), help="day of publication, YYYY-MM-DD")
    run.add_argument("--feeds", help="feeds.yaml to poll (default: PODIGEST_FEEDS or PODIGEST_HOME/feeds.yaml)")
    run.set_defaults(func=cmd_run)

    digest = sub.add_parser("digest", help="print the stored digest of a day")
    digest.add_argument("--date", type=_valid_date, default=yesterday_utc(), help="YYYY-MM-DD (default: yesterday)")
    digest.add_argument("--format", choices=FORMATS, default="md")
    digest.set_defaults(func=cmd_digest)

    feeds = sub.add_parser("feeds", help="manage the feeds to poll")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    imp = feeds_sub.add_parser("import", help="add the feeds of an OPML export (podcast apps) to feeds.yaml")
    imp.add_argument("opml", help="the .opml file")
    imp.add_argument("--feeds", help="feeds.yaml to update (default: PODIGEST_FEEDS or PODIGEST_HOME/feeds.yaml)")
    imp.set_defaults(func=cmd_feeds_import)
    lst = feeds_sub.add_parser("list", help="list the feeds with their last poll status and error")
    lst.add_argument("--feeds", help="feeds.yaml to read")
    lst.set_defaults(func=cmd_feeds_list)

    sql = sub.add_parser("sql", help="run a read-only SQL query on the warehouse (works during a run)")
    sql.add_argument("query")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.set_defaults(func=cmd_sql)

    prep = sub.add_parser("prepare", help="build the dbt manifest and assemble the bundled models (done by setup)")
    prep.set_defaults(func=cmd_prepare)

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on this PODIGEST_HOME's runs")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    from podigest_dagster import cli_warehouse

    cli_warehouse.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.use_offline_environment()
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("podigest: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI contract: one line, non-zero exit
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"podigest: error: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
