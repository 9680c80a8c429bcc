"""`podigest`: run the daily chain, read digests, manage feeds, query the warehouse.

Exit codes: 0 done; 1 an unexpected error (a bug); 2 a configuration or input error (missing or bad
feeds file, bad environment value, bad date or query); 3 a run that failed (the failed step and its
reason in one line); 4 nothing to show (no digest for that day, no warehouse yet); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import date
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from podigest_dagster import settings

FORMATS = ("md", "html", "json", "text")
EXIT_OK, EXIT_UNEXPECTED, EXIT_CONFIG, EXIT_RUN_FAILED, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
QUIET, NORMAL, VERBOSE = 0, 1, 2  # the same levels as podigest_dagster.run_output


class CLIError(Exception):
    """A failure the user can act on (a configuration or input error); printed as one line."""

    exit_code = EXIT_CONFIG


class RunFailed(CLIError):
    """The run failed: names the failed step and its reason."""

    exit_code = EXIT_RUN_FAILED


class NothingToShow(CLIError):
    """What was asked for does not exist (yet)."""

    exit_code = EXIT_NOTHING


def package_version() -> str:
    try:
        return package_metadata.version("podigest")
    except package_metadata.PackageNotFoundError:
        return "unknown (not installed)"


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


@dataclass(frozen=True)
class RunSummary:
    """What a finished run tells the command: its id, how long it took, what it materialised."""

    run_id: str
    seconds: float
    materialized: dict[str, Any]


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def check_feeds_file() -> None:
    """The feeds file exists and reads (a configuration error otherwise, before any run starts)."""
    from podigest_dagster.core.ingest.feeds_config import FeedsConfigError, load_feeds

    path = settings.feeds_file()
    if not path.exists():
        raise CLIError(
            f"no feeds file at {path}: write one (feeds: [{{url: ...}}]), "
            "run `podigest feeds import FILE.opml`, or try `podigest demo`"
        )
    try:
        load_feeds(path)
    except (FeedsConfigError, OSError) as exc:
        raise CLIError(f"feeds file {path}: {_one_line(exc)}") from exc


def _build_job() -> Any:
    """The daily job bound to the environment; a bad environment value (schedule hour, public URL, SMTP
    settings, ...) is a configuration error, reported before any run starts."""
    try:
        from podigest_dagster.definitions import build_definitions
        from podigest_dagster.defs.daily import DAILY_JOB_NAME, schedule_hour
        from podigest_dagster.defs.digest.resources import MailerResource

        schedule_hour()
        settings.public_url()
        mailer = MailerResource.from_env()
        if mailer.is_configured():
            mailer.validate()
        return build_definitions().resolve_job_def(DAILY_JOB_NAME)
    except ValueError as exc:
        raise CLIError(f"configuration: {_one_line(exc)}") from exc


def _quiet_libraries(verbosity: int) -> None:
    """Below -v, no progress bars from the model libraries and no Dagster chatter on the console; and no
    colour from dbt unless this terminal takes it."""
    if verbosity < VERBOSE:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")
        import logging

        logging.getLogger("dagster").setLevel(logging.WARNING)
    from podigest_dagster.run_output import colour_wanted

    if not colour_wanted(sys.stdout):
        os.environ.setdefault("DBT_USE_COLORS", "false")


def _use_feeds(feeds_file: Path | None) -> None:
    if feeds_file is not None:
        os.environ["PODIGEST_FEEDS"] = str(feeds_file.resolve())
    check_feeds_file()


def run_partition(partition_key: str, feeds_file: Path | None = None, verbosity: int = NORMAL) -> RunSummary:
    """Materialise the whole chain for one day through the same job the schedule runs, printing what
    `verbosity` asks for (see podigest_dagster/run_output.py); a clean run seals the day
    (podigest_dagster/run_seal.py)."""
    from datetime import UTC, datetime

    from podigest_dagster import run_seal

    _use_feeds(feeds_file)
    configuration = run_seal.config_digest()
    _ensure_dagster_home()
    _quiet_libraries(verbosity)
    import dagster as dg

    from podigest_dagster import run_output
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    prepare_dbt_manifest()  # before the definitions load it: an edited dbt model must not meet a stale manifest
    job = _build_job()
    reporter = run_output.RunReporter(verbosity)
    job = job.with_logger_defs({run_output.LOGGER_KEY: run_output.logger_definition(reporter)})
    reporter.say(f"podigest: running {job.name} for {partition_key} (feeds: {settings.feeds_file()})")
    run_seal.forget(partition_key)
    started, started_at = time.perf_counter(), datetime.now(UTC)
    with dg.DagsterInstance.get() as instance:
        with run_output.library_output(verbosity):
            result = job.execute_in_process(
                instance=instance,
                partition_key=partition_key,
                raise_on_error=False,
                run_config={"loggers": {run_output.LOGGER_KEY: {}}},
            )
        others = [
            run.run_id
            for run in instance.get_runs(filters=dg.RunsFilter(updated_after=started_at))
            if run.run_id != result.run_id
        ]
    seconds = time.perf_counter() - started
    if not result.success:
        steps = ", ".join(dict.fromkeys(step for step, _ in reporter.failures)) or "?"
        reason = reporter.failures[0][1] if reporter.failures else "see the run's logs"
        raise RunFailed(
            f"run {result.run_id} for {partition_key} failed at {steps}: {reason} (details: `podigest ui`)"
        )
    reporter.say(f"podigest: run {result.run_id} succeeded for {partition_key} in {seconds:.1f}s")
    reported = [
        f"{asset}: {entry}"
        for asset, metadata in reporter.materialized.items()
        for entry in run_seal.failures_in(metadata)
    ]
    if not (reported or reporter.warnings or others):
        run_seal.write(partition_key, result.run_id, configuration)
    return RunSummary(result.run_id, seconds, dict(reporter.materialized))


def read_digest(partition_key: str, fmt: str) -> str:
    """The stored digest of a day in one format."""
    from podigest_dagster.core.digest.store import load_rendering
    from podigest_dagster.warehouse.db import read_connection

    column = {"md": "markdown", "html": "html", "json": "json", "text": "text"}[fmt]
    try:
        with read_connection(settings.warehouse_path()) as conn:
            text = load_rendering(conn, partition_key, column)
            if text is None:
                raise NothingToShow(no_digest_reason(conn, partition_key))
    except FileNotFoundError as exc:
        raise NothingToShow(_one_line(exc)) from exc
    return text


def no_digest_reason(conn, partition_key: str) -> str:
    """One line for a day with no stored digest: how to make it, and which day there is one for (without
    --date the commands show yesterday, which the demo's fixed days never are)."""
    from podigest_dagster.core.digest.store import load_archive_days

    reason = f"no digest stored for {partition_key}: run `podigest run --date {partition_key}` first"
    days = [day for day, _ in load_archive_days(conn)]
    if days:
        reason += f" (the latest stored is {days[0]}: add `--date {days[0]}`)"
    return reason


def _day(value: str | None) -> str:
    if value:
        return value
    try:
        from podigest_dagster.defs.daily import yesterday_utc
    except ValueError as exc:  # the schedule is built at import, from PODIGEST_SCHEDULE_HOUR
        raise CLIError(f"configuration: {_one_line(exc)}") from exc
    return yesterday_utc()


def run_day(day: str, feeds_file: Path | None, verbosity: int, force: bool = False) -> str:
    """Run the day, unless a clean run already did everything a run would do now (`force` runs anyway);
    how it went, in a few words."""
    from podigest_dagster import run_seal

    if not force:
        _use_feeds(feeds_file)
        started = time.perf_counter()
        seal, why = run_seal.up_to_date(day)
        if seal is not None:
            if verbosity >= NORMAL:
                print(
                    f"podigest: {day} is up to date: nothing changed since run {seal.run_id} ({seal.sealed_at}), "
                    "so it was not run again (--force runs it anyway)"
                )
            return f"up to date, checked in {time.perf_counter() - started:.1f}s"
        if verbosity >= VERBOSE:
            print(f"podigest: running {day}: {why}", file=sys.stderr)
    summary = run_partition(day, feeds_file, verbosity)
    return f"done in {summary.seconds:.1f}s"


def _digest_items(day: str) -> int | None:
    try:
        return len(json.loads(read_digest(day, "json")).get("items", []))
    except (NothingToShow, ValueError, AttributeError):
        return None


def cmd_run(args: argparse.Namespace) -> None:
    day = _day(args.date)
    how = run_day(day, Path(args.feeds) if args.feeds else None, args.verbosity, args.force)
    try:
        digest = read_digest(day, "md")
    except NothingToShow:
        print(f"podigest: {day} {how}; no digest stored")
        return
    if args.verbosity == QUIET:
        count = _digest_items(day)
        what = f"{count} insight{'' if count == 1 else 's'}" if count is not None else "the digest"
        print(f"podigest: {day} {how}: {what} in {settings.digests_dir() / day}.md")
        return
    print()
    print(digest)
    print(f"podigest: digest files in {settings.digests_dir()}")


def cmd_demo(args: argparse.Namespace) -> None:
    from podigest_dagster import demo

    feeds_file = demo.write_demo_feeds_yaml(settings.podigest_home() / "demo-feeds.yaml")
    for day in (demo.DEMO_PREVIOUS_DATE, demo.DEMO_DATE):
        run_day(day, feeds_file, args.verbosity, args.force)
    print()
    print(read_digest(demo.DEMO_DATE, "md"))
    if args.verbosity == QUIET:
        return
    home = settings.podigest_home()
    print(f"podigest: the demo digest is stored in {settings.digests_dir()}/{demo.DEMO_DATE}.(md|html|txt|json)")
    print(f"podigest: warehouse {settings.warehouse_path()}; query it with `podigest sql \"SELECT ...\"`")
    own = _own_command()
    print(
        f"podigest: web archive in {settings.site_dir()}: `{own} site serve` and open http://127.0.0.1:8000/; "
        f'search everything said with `{own} search "heat pumps"`'
    )
    print(
        f'podigest: a digest of your own: `{own} readers add you@example.com --interests "energy bills, sleep"`, '
        f"then `{own} digest --reader you@example.com --date {demo.DEMO_DATE}`"
    )
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
    if args.reader:
        from podigest_dagster.cli_readers import print_reader_digest

        print_reader_digest(_day(args.date), args.reader, args.format)
        return
    text = read_digest(_day(args.date), args.format)
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
    if args.verbosity >= NORMAL:
        print(f"podigest: imported {added} new feed(s) from {opml} into {target} ({len(merged)} in all)")
    for line in found.skipped:
        print(f"podigest: skipped {line}", file=sys.stderr if args.verbosity == QUIET else sys.stdout)


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


def read_query(args: argparse.Namespace) -> str:
    """The SQL from the argument, from `--file F`, or from stdin (`-` as the argument or as F)."""
    if args.file and args.query is not None:
        raise CLIError("give the query either as an argument or with --file, not both")
    source = args.file if args.file else args.query
    if source is None:
        raise CLIError('no query: give one ("SELECT ..."), --file FILE, or - to read it from stdin')
    if source == "-":
        return sys.stdin.read()
    if not args.file:
        return source
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read the query file {source}: {_one_line(exc)}") from exc


def cmd_sql(args: argparse.Namespace) -> None:
    from podigest_dagster.warehouse.sql_console import NoWarehouseError, QueryError, execute

    if args.max_rows < 0:
        raise CLIError(f"--max-rows must be 0 (no limit) or more, got {args.max_rows}")
    sql = read_query(args)
    try:
        output = execute(settings.warehouse_path(), sql, fmt=args.format, max_rows=args.max_rows or None)
    except NoWarehouseError as exc:
        raise NothingToShow(str(exc)) from exc
    except QueryError as exc:
        raise CLIError(str(exc)) from exc
    sys.stdout.write(output.text if output.text.endswith("\n") else output.text + "\n")
    if output.truncated:
        print(
            f"podigest: showing the first {output.rows} rows; more were left out (--max-rows N to change, 0 for all)",
            file=sys.stderr,
        )


def cmd_prepare(args: argparse.Namespace) -> None:
    from podigest_dagster.core.transcribe.whisper_model import ensure_bundled_whisper_base
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    manifest = prepare_dbt_manifest()
    model = ensure_bundled_whisper_base(settings.models_dir())
    if args.verbosity >= NORMAL:
        print(f"podigest: dbt manifest at {manifest}")
        print(f"podigest: bundled Whisper base model at {model}")


def cmd_ui(args: argparse.Namespace) -> None:
    home = _ensure_dagster_home()
    from podigest_dagster.defs.marts.assets import prepare_dbt_manifest

    prepare_dbt_manifest()
    if args.verbosity >= NORMAL:
        print(f"podigest: Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home})", flush=True)
    command = [sys.executable, "-m", "dagster", "dev", "-m", "podigest_dagster.definitions", "-p", str(args.port)]
    os.execv(sys.executable, command)


def _output_flags(parser: argparse.ArgumentParser, top: bool) -> None:
    """-q/-v, accepted before the command and after it (`podigest -q run` = `podigest run -q`)."""
    default = 0 if top else argparse.SUPPRESS
    parser.add_argument(
        "-q", "--quiet", action="count", default=default, help="print only warnings, errors and the result"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="print the whole Dagster event stream, dbt's own output included",
    )


EPILOG = """exit codes: 0 done; 1 unexpected error; 2 configuration or input error (feeds file, environment,
date, query); 3 the run failed (the step and its reason are printed); 4 nothing to show (no digest
for that day, no warehouse yet); 130 interrupted. NO_COLOR=1 turns colour off."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podigest",
        description="Daily top-5 insights from new podcast episodes. State lives in PODIGEST_HOME "
        f"(now {settings.podigest_home()}).",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"podigest {package_version()}")
    _output_flags(parser, top=True)
    common = argparse.ArgumentParser(add_help=False)
    _output_flags(common, top=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, parent: Any = sub, **kwargs: Any) -> argparse.ArgumentParser:
        return parent.add_parser(name, parents=[common], **kwargs)

    demo = command("demo", help="run the whole chain offline on the bundled demo podcasts and print the digest")
    demo.add_argument("--force", action="store_true", help="run the days even when they are up to date")
    demo.set_defaults(func=cmd_demo)

    run = command(
        "run",
        help="materialise the whole chain for one UTC day (default: yesterday)",
        description="Materialise the whole chain for one UTC day of publication. Publisher transcripts are "
        "fetched first: audio is downloaded only for episodes without a usable one, and kept "
        "PODIGEST_AUDIO_RETENTION_DAYS (default 7; 0: deleted once transcribed) after its transcript is "
        "stored; PODIGEST_AUDIO_MAX_GB caps the audio cache (oldest first).",
        epilog=EPILOG,
    )
    run.add_argument("--date", type=_valid_date, default=None, help="day of publication, YYYY-MM-DD (default: yesterday)")
    run.add_argument("--feeds", help="feeds.yaml to poll (default: PODIGEST_FEEDS or PODIGEST_HOME/feeds.yaml)")
    run.add_argument(
        "--force",
        action="store_true",
        help="run even when nothing changed since the last clean run of the day (see podigest_dagster/run_seal.py)",
    )
    run.set_defaults(func=cmd_run)

    digest = command("digest", help="print the stored digest of a day")
    digest.add_argument("--date", type=_valid_date, default=None, help="YYYY-MM-DD (default: yesterday)")
    digest.add_argument("--format", choices=FORMATS, default="md")
    digest.add_argument("--reader", metavar="EMAIL", help="that reader's own digest (readers.yaml), with why each item is there")
    digest.set_defaults(func=cmd_digest)

    feeds = command("feeds", help="manage the feeds to poll")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    imp = command("import", feeds_sub, help="add the feeds of an OPML export (podcast apps) to feeds.yaml")
    imp.add_argument("opml", help="the .opml file")
    imp.add_argument("--feeds", help="feeds.yaml to update (default: PODIGEST_FEEDS or PODIGEST_HOME/feeds.yaml)")
    imp.set_defaults(func=cmd_feeds_import)
    lst = command("list", feeds_sub, help="list the feeds with their last poll status and error")
    lst.add_argument("--feeds", help="feeds.yaml to read")
    lst.set_defaults(func=cmd_feeds_list)

    sql = command(
        "sql",
        help="run a read-only SQL query on the warehouse (works during a run)",
        description="Run a read-only query. Tables, marts and staging views are found without a schema "
        "prefix (SELECT * FROM dim_podcasts).",
    )
    sql.add_argument("query", nargs="?", help='the SQL, or - to read it from stdin')
    sql.add_argument("--file", "-f", help="read the SQL from this file (- for stdin)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument(
        "--max-rows",
        type=int,
        default=1000,
        help="print at most this many rows, with a note on stderr when more were left out (0: all; default 1000)",
    )
    sql.set_defaults(func=cmd_sql)

    prep = command("prepare", help="build the dbt manifest and assemble the bundled models (done by setup)")
    prep.set_defaults(func=cmd_prepare)

    ui = command("ui", help="open the Dagster UI (dagster dev) on this PODIGEST_HOME's runs")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    from podigest_dagster import cli_readers

    cli_readers.add_commands(sub, command)
    from podigest_dagster import cli_warehouse

    cli_warehouse.add_commands(sub, command)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Arguments with `verbosity` (QUIET, NORMAL or VERBOSE) from -q/-v wherever they were given."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quiet and args.verbose:
        parser.error("-q/--quiet and -v/--verbose cannot be used together")
    args.verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    return args


def main(argv: list[str] | None = None) -> int:
    settings.use_offline_environment()
    args = parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("podigest: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CLIError as exc:
        print(f"podigest: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the CLI contract: one line, a distinct exit code
        if args.verbosity >= VERBOSE:
            import traceback

            traceback.print_exc()
        print(f"podigest: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_UNEXPECTED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
