"""The reader-facing commands: `podigest search`, `podigest site build|serve`, `podigest readers
add|list|remove` and `podigest digest --reader` (registered on the parser by cli.build_parser)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from podigest_dagster import settings
from podigest_dagster.cli import CLIError, NothingToShow

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"


def _valid_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


# --- search ----------------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> None:
    from podigest_dagster.core.search.query import SearchError, clean_query, open_index, search

    try:
        clean_query(args.query)
        embed = _embedder() if args.mode != "words" else None
        with open_index(settings.search_index_path()) as conn:
            hits = search(
                conn,
                args.query,
                embed=embed,
                mode=args.mode,
                show=args.show,
                since=args.since,
                limit=args.limit,
            )
    except SearchError as exc:
        if "no search index" in str(exc):
            raise NothingToShow(str(exc)) from exc
        raise CLIError(str(exc)) from exc
    if args.format == "json":
        print(json.dumps([_hit_json(h) for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        raise NothingToShow(f"nothing said matches {args.query.strip()[:80]!r}" + _filters(args))
    print(
        f"podigest: {len(hits)} moment{'' if len(hits) == 1 else 's'} for {args.query.strip()!r}{_filters(args)}"
    )
    bold = sys.stdout.isatty()
    for number, hit in enumerate(hits, start=1):
        print(_hit_text(number, hit, bold))


def _embedder() -> Callable:
    """The MiniLM embedder, its libraries' progress bars off (they would clutter a one-line answer)."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from podigest_dagster.core.insights.embedding import Embedder

    return Embedder().embed


def _filters(args: argparse.Namespace) -> str:
    parts = [f"show ~ {args.show!r}" if args.show else "", f"since {args.since}" if args.since else ""]
    return f" ({', '.join(p for p in parts if p)})" if any(parts) else ""


def _hit_text(number: int, hit: Any, bold: bool) -> str:
    from podigest_dagster.core.digest.render import format_timestamp

    marked = "".join(
        (f"{BOLD}{f.text}{PLAIN}" if bold else f"**{f.text}**") if f.match else f.text for f in hit.snippet
    )
    where = " — ".join(part for part in (hit.podcast, hit.episode) if part) or "untitled episode"
    lines = [
        f"{number}. {where} @ {format_timestamp(hit.start_s)}  ({hit.day}; matched by {hit.how})",
        f"   {marked}",
    ]
    if hit.speaker:
        lines.append(f"   — {', '.join(part for part in (hit.speaker, hit.podcast) if part)}")
    url = hit.play_url()
    if url:
        lines.append(f"   play: {url}")
    return "\n".join(lines)


def _hit_json(hit: Any) -> dict:
    return {
        "podcast": hit.podcast,
        "episode": hit.episode,
        "speaker": hit.speaker,
        "date": hit.day,
        "start_s": hit.start_s,
        "end_s": hit.end_s,
        "url": hit.play_url(),
        "matched_by": hit.how,
        "score": round(hit.score, 6),
        "snippet": "".join(f.text for f in hit.snippet),
        "highlights": [f.text for f in hit.snippet if f.match],
    }


# --- readers ---------------------------------------------------------------------------------------


def _load_readers() -> Any:
    from podigest_dagster.core.digest.readers import ReadersConfigError, load_readers

    try:
        return load_readers(settings.readers_file())
    except ReadersConfigError as exc:
        raise CLIError(str(exc)) from exc


def print_reader_digest(day: str, email: str, fmt: str) -> None:
    """`podigest digest --reader EMAIL`: the reader's digest of the day as stored for delivery, else
    chosen now from the day's clusters (a reader added since that day's run)."""
    from podigest_dagster.core.digest.for_reader import general_digest_for
    from podigest_dagster.core.digest.reader_digests import digest_for, from_stored, load_pool, render_reader
    from podigest_dagster.core.digest.store import load_reader_digests, load_stored_digest
    from podigest_dagster.warehouse.db import read_connection

    reader = _load_readers().find(email)
    if reader is None:
        raise CLIError(
            f"{email} is not a reader in {settings.readers_file()}: add them with `podigest readers add {email}`"
        )
    try:
        with read_connection(settings.warehouse_path()) as conn:
            general = load_stored_digest(conn, day)
            if general is None:
                from podigest_dagster.cli import no_digest_reason

                raise NothingToShow(no_digest_reason(conn, day))
            stored = load_reader_digests(conn, day).get(reader.key)
            if stored:
                chosen = from_stored(reader, day, *stored)
            elif not reader.personal:
                chosen = general_digest_for(reader, general)
            else:
                print(
                    f"podigest: {reader.key} had no digest stored for {day}: choosing it now", file=sys.stderr
                )
                chosen = digest_for(reader, general, load_pool(conn, day, [reader]), _embedder())
    except FileNotFoundError as exc:
        raise NothingToShow(str(exc)) from exc
    print(render_reader(chosen, fmt).rstrip("\n"))


def cmd_readers_list(args: argparse.Namespace) -> None:
    found = _load_readers()
    path = settings.readers_file()
    print(f"{len(found.readers)} reader(s) in {path}" + ("" if path.exists() else " (no such file yet)"))
    for reader in found.readers:
        print(f"- {reader.address}  {_describe_reader(reader)}")
    for problem in found.problems:
        print(f"podigest: {problem}", file=sys.stderr)


def cmd_readers_add(args: argparse.Namespace) -> None:
    from podigest_dagster.core.digest.readers import Reader, ReadersConfigError, add_reader, phrases

    before = _load_readers().find(args.email) or Reader(args.email)
    try:
        reader = Reader(
            email=args.email,
            name=args.name if args.name is not None else before.name,
            interests=phrases(args.interests) if args.interests is not None else before.interests,
            muted_shows=phrases(args.mute_show) if args.mute_show is not None else before.muted_shows,
            muted_topics=phrases(args.mute_topic) if args.mute_topic is not None else before.muted_topics,
        )
        added = add_reader(settings.readers_file(), reader)
    except (ValueError, ReadersConfigError) as exc:
        raise CLIError(f"readers add: {exc}") from exc
    if args.verbosity >= 1:
        print(
            f"podigest: {'added' if added else 'updated'} {reader.key} ({_describe_reader(reader)}) in "
            f"{settings.readers_file()}; it applies from the next run"
        )


def _describe_reader(reader: Any) -> str:
    parts = [
        f"{label}: {', '.join(values)}"
        for label, values in (
            ("interests", reader.interests),
            ("muted shows", reader.muted_shows),
            ("muted topics", reader.muted_topics),
        )
        if values
    ]
    return "; ".join(parts) or "gets the general digest"


def cmd_readers_remove(args: argparse.Namespace) -> None:
    from podigest_dagster.core.digest.readers import ReadersConfigError, remove_reader

    try:
        removed = remove_reader(settings.readers_file(), args.email)
    except ReadersConfigError as exc:
        raise CLIError(str(exc)) from exc
    if not removed:
        raise CLIError(f"{args.email} is not a reader in {settings.readers_file()}")
    if args.verbosity >= 1:
        print(f"podigest: removed {args.email} from {settings.readers_file()}")


# --- site ------------------------------------------------------------------------------------------


def cmd_site_build(args: argparse.Namespace) -> None:
    from pathlib import Path

    from podigest_dagster.core.digest.site import build_site, load_archive
    from podigest_dagster.warehouse.db import read_connection

    out = Path(args.out).expanduser() if args.out else settings.site_dir()
    try:
        public_url = settings.public_url()
    except ValueError as exc:
        raise CLIError(f"configuration: {exc}") from exc
    try:
        with read_connection(settings.warehouse_path()) as conn:
            archive = load_archive(conn, settings.audio_dir(), public_url)
    except FileNotFoundError as exc:
        raise NothingToShow(str(exc)) from exc
    report = build_site(archive, out)
    if args.verbosity >= 1:
        print(
            f"podigest: web archive of {report.days} day(s) and {report.shows} show(s) in {out}: "
            f"open {out / 'index.html'} or run `podigest site serve`"
        )


def cmd_site_serve(args: argparse.Namespace) -> None:
    from pathlib import Path

    from podigest_dagster.core.digest.site_server import SiteServer, index_search

    root = Path(args.dir).expanduser() if args.dir else settings.site_dir()
    if not (root / "index.html").is_file():
        raise NothingToShow(f"no web archive in {root}: run `podigest site build` first")
    search = index_search(settings.search_index_path(), None if args.words_only else _lazy_embed())
    try:
        server = SiteServer(root, "127.0.0.1", args.port, search=search)
    except OSError as exc:
        raise CLIError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from exc
    print(f"podigest: serving {root} on {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.stop()


def _lazy_embed() -> Callable:
    """An embed function that loads the model on the first search, not at start."""
    loaded: list[Callable] = []

    def embed(texts: list[str]):
        if not loaded:
            print(
                "podigest: loading the embedding model for the first search (--words-only skips it)",
                file=sys.stderr,
                flush=True,
            )
            loaded.append(_embedder())
        return loaded[0](texts)

    return embed


# --- registration ----------------------------------------------------------------------------------


def add_commands(sub: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add search, site and readers to the `podigest` sub-commands (`command` makes one with -q/-v)."""
    from podigest_dagster.core.search.query import MAX_LIMIT, MODES

    search = command(
        "search",
        help="search everything said in the transcripts: words (BM25) and meaning (embeddings)",
        description="Find the moments where something was said; each hit has a link that plays from there. "
        "--mode words skips loading the embedding model (instant); the default also finds other wordings.",
    )
    search.add_argument("query", help='what to look for, e.g. "heat pumps"')
    search.add_argument("--show", help="only shows whose name contains this (case-insensitive)")
    search.add_argument("--since", type=_valid_day, help="only episodes published on or after YYYY-MM-DD")
    search.add_argument(
        "--mode",
        choices=MODES,
        default="both",
        help="words: the words said (BM25, no model loaded); meaning: other wordings (embeddings); "
        "both (default): the two fused",
    )
    search.add_argument("--limit", type=int, default=10, help=f"at most this many moments (1-{MAX_LIMIT})")
    search.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: one object per moment, for scripts"
    )
    search.set_defaults(func=cmd_search)

    readers = command("readers", help="manage who gets a digest and what they care about (readers.yaml)")
    readers_sub = readers.add_subparsers(dest="readers_command", required=True, metavar="ACTION")
    lst = command("list", readers_sub, help="list the readers with their interests and mutes")
    lst.set_defaults(func=cmd_readers_list)
    add = command(
        "add",
        readers_sub,
        help='add a reader, or change one (options not given keep their values; "" clears)',
    )
    add.add_argument("email", help='the address to send to ("Ann Lee <ann@example.com>" works too)')
    add.add_argument("--name", help="shown in the To: header")
    add.add_argument(
        "--interests", help='plain words, comma-separated: "GPU kernels, AI hiring, energy policy"'
    )
    add.add_argument(
        "--mute-show", action="append", metavar="SHOW", help="never include this show (repeatable)"
    )
    add.add_argument(
        "--mute-topic", action="append", metavar="TOPIC", help="never include this topic (repeatable)"
    )
    add.set_defaults(func=cmd_readers_add)
    remove = command("remove", readers_sub, help="remove a reader")
    remove.add_argument("email", help="the reader's address (case does not matter)")
    remove.set_defaults(func=cmd_readers_remove)

    site = command("site", help="the web archive: every digest as pages with players, and search")
    site_sub = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    build = command("build", site_sub, help="write the static site (default: PODIGEST_HOME/site)")
    build.add_argument("--out", help="folder to write the site into")
    build.set_defaults(func=cmd_site_build)
    serve = command("serve", site_sub, help="serve the site and its search on http://127.0.0.1:PORT")
    serve.add_argument("--dir", help="the site folder (default: PODIGEST_HOME/site)")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0: any free one)")
    serve.add_argument("--words-only", action="store_true", help="search by words only (no model is loaded)")
    serve.set_defaults(func=cmd_site_serve)
