"""`podigest run` on a day that is already done, without starting Dagster: a seal written after a clean run
of the day, checked before the next one. Plain Python (no Dagster import: the check costs a fraction of
a second, not the import of Dagster and dbt).

A day is up to date, and its run skipped, only when all of these hold; anything else starts the run:

- the last `podigest run` of the day succeeded with no failed step, no failed check, no warning and no
  asset reporting a failure (an audio download, a transcript, a feed, an LLM rewrite: a re-run retries
  those), and no other run of the same Dagster instance overlapped it;
- the code (the package and the dbt project) and the configuration (every PODIGEST_* variable, the
  offline and API key variables, the feeds file and the YAML files in PODIGEST_HOME) are the same;
- the warehouse holds exactly the same rows (every table of main, marts and staging, counted and hashed;
  the columns that only say when a step last ran are left out, as for the dbt fingerprint);
- the files the runs keep beside the warehouse (digests, digests.xml, the audio cache, derived files)
  are the same (name, size, modification time);
- every feed is unchanged: an http(s) feed answers 304 Not Modified to the validators (ETag,
  Last-Modified) stored by the run; a feed with no validator counts as changed; a `file://` feed is
  bundled demo data, covered by the code digest.

The seal holds digests only, never a secret's value. `podigest run --force` always runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from podigest_dagster import settings

SEAL_DIR = "run-seals"
PACKAGE_DIR = Path(__file__).resolve().parent
DBT_DIR = PACKAGE_DIR.parent / "dbt"
SKIPPED_DIRS = {"__pycache__", "target", "logs", "dbt_packages", ".pytest_cache"}
HOME_SKIPPED = {"dagster", "models", SEAL_DIR, "bench-cache"}
CONFIG_VARIABLES = {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LITELLM_LOCAL_MODEL_COST_MAP"}
VERSIONED = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "faster-whisper", "sentence-transformers")
SKIPPED_SUFFIXES = {".lock", ".wal", ".tmp", ".part", ".yaml", ".yml"}  # YAML: compared by content, as configuration
FAILURE_WORDS = ("fail", "error", "unknown", "timeout")


@dataclass(frozen=True)
class Seal:
    """What was true right after a clean run of the day."""

    day: str
    run_id: str
    sealed_at: str
    code: str
    config: str
    state: str
    files: str


def _sha(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def _tree(root: Path, skipped: set[str]) -> Iterable[Path]:
    if not root.exists():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not skipped.intersection(path.relative_to(root).parts):
            yield path


def code_digest() -> str:
    """The package's files (code, SQL, templates, demo data), the dbt project and the key libraries."""
    lines = []
    for root in (PACKAGE_DIR, DBT_DIR):
        for path in _tree(root, SKIPPED_DIRS):
            lines.append(f"{path.relative_to(root.parent)} {hashlib.sha256(path.read_bytes()).hexdigest()}")
    for package in VERSIONED:
        try:
            lines.append(f"{package} {package_metadata.version(package)}")
        except package_metadata.PackageNotFoundError:
            lines.append(f"{package} -")
    lines.append(sys.version)
    return _sha(lines)


def _configuration_variable(name: str) -> bool:
    return name.startswith("PODIGEST_") or name in CONFIG_VARIABLES or name.endswith(("_API_KEY", "_API_BASE"))


def config_digest(environ: Mapping[str, str] | None = None) -> str:
    """Every configuration variable (values hashed, never stored), the feeds file, the YAML files in
    PODIGEST_HOME and where the warehouse is."""
    environ = os.environ if environ is None else environ
    lines = [
        f"{name}={hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"
        for name, value in sorted(environ.items())
        if _configuration_variable(name)
    ]
    lines.append(f"warehouse {settings.warehouse_path().resolve()}")
    home = settings.podigest_home()
    files = {settings.feeds_file()} | {p for p in home.glob("*") if p.suffix in {".yaml", ".yml"}}
    for path in sorted(files):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"
        lines.append(f"{path} {digest}")
    return _sha(lines)


def state_digest(db_path: Path) -> str:
    """Every table of the warehouse, counted and hashed (bookkeeping columns left out)."""
    from podigest_dagster.core.marts import store as marts_store
    from podigest_dagster.warehouse.db import read_connection

    with read_connection(db_path) as conn:
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
        return marts_store.fingerprint(conn, [(schema, table) for schema, table in tables])


def files_digest(home: Path, db_path: Path) -> str:
    """Name, size and modification time of the files runs keep in PODIGEST_HOME (not the warehouse, whose
    rows are compared instead, nor Dagster's records, the models or lock files)."""
    lines = []
    own = {db_path.resolve(), Path(f"{db_path}.wal").resolve()}
    for path in _tree(home, HOME_SKIPPED):
        if path.resolve() in own or path.suffix in SKIPPED_SUFFIXES:
            continue
        stat = path.stat()
        lines.append(f"{path.relative_to(home)} {stat.st_size} {stat.st_mtime_ns}")
    return _sha(lines)


def failures_in(metadata: Mapping[str, Any]) -> list[str]:
    """Metadata entries that report a failure: a positive count or a non-empty collection under a name
    with fail, error, unknown or timeout in it (also inside JSON values)."""
    found = []
    for key, value in metadata.items():
        raw = getattr(value, "value", value)
        if isinstance(raw, Mapping):
            found += [f"{key}.{inner}" for inner in failures_in(raw)]
            if any(word in key.lower() for word in FAILURE_WORDS) and raw:
                found.append(key)
        elif any(word in str(key).lower() for word in FAILURE_WORDS):
            if (isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0) or (
                isinstance(raw, list | tuple | str) and raw and raw not in ("0", "[]", "{}")
            ):
                found.append(key)
    return found


def _seal_path(day: str) -> Path:
    return settings.podigest_home() / SEAL_DIR / f"{day}.json"


def forget(day: str) -> None:
    """Drop the day's seal (before a run: a run that fails halfway leaves none)."""
    _seal_path(day).unlink(missing_ok=True)


def write(day: str, run_id: str, config: str | None = None) -> Seal:
    """Seal the day after a clean run; `config` is the configuration digest taken before the run started
    (the run itself sets a few variables of its own, such as DAGSTER_HOME)."""
    seal = Seal(
        day=day,
        run_id=run_id,
        sealed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        code=code_digest(),
        config=config or config_digest(),
        state=state_digest(settings.warehouse_path()),
        files=files_digest(settings.podigest_home(), settings.warehouse_path()),
    )
    path = _seal_path(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(seal), indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return seal


def _read(day: str) -> Seal | None:
    try:
        return Seal(**json.loads(_seal_path(day).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _feeds_changed(db_path: Path) -> str | None:
    """Why the feeds may hold something new, or None when every one is unchanged."""
    from podigest_dagster.core.ingest import store as ingest_store
    from podigest_dagster.core.ingest.feeds import fetch_feed
    from podigest_dagster.core.ingest.feeds_config import display_url, load_feeds
    from podigest_dagster.warehouse.db import read_connection

    specs = load_feeds(settings.feeds_file())
    with read_connection(db_path) as conn:
        validators = ingest_store.feed_validators(conn)
    for spec in specs:
        if spec.url.startswith("file://"):
            continue
        etag, modified = validators.get(spec.url, (None, None))
        if not etag and not modified:
            return f"{display_url(spec.url)} gives no ETag or Last-Modified to ask whether it changed"
        fetched = fetch_feed(
            spec.url, etag, modified, allow_private=settings.allow_private_network(), deadline_s=30
        )
        if fetched.status != "not_modified":
            return f"{display_url(spec.url)} may have changed ({fetched.status})"
    return None


def up_to_date(day: str) -> tuple[Seal | None, str]:
    """The day's seal when nothing a run would read or write has changed since it, and why not otherwise."""
    seal = _read(day)
    if seal is None:
        return None, "no clean run of this day on record"
    db_path = settings.warehouse_path()
    if not db_path.exists():
        return None, "no warehouse"
    checks = (
        ("the code", lambda: code_digest() == seal.code),
        ("the configuration", lambda: config_digest() == seal.config),
        ("the warehouse", lambda: state_digest(db_path) == seal.state),
        ("the files beside the warehouse", lambda: files_digest(settings.podigest_home(), db_path) == seal.files),
    )
    for what, same in checks:
        try:
            if not same():
                return None, f"{what} changed since the last run"
        except Exception as exc:  # noqa: BLE001 - any doubt means: run
            return None, f"could not compare {what}: {type(exc).__name__}"
    try:
        reason = _feeds_changed(db_path)
    except Exception as exc:  # noqa: BLE001 - any doubt means: run
        reason = f"could not ask the feeds: {type(exc).__name__}"
    return (None, reason) if reason else (seal, "nothing changed")
