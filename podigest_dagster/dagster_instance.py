"""The Dagster instance podigest runs record to: SQLite files in DAGSTER_HOME by default, or PostgreSQL
(dagster-postgres) when PODIGEST_DAGSTER_PG_URL is set, so several machines (webserver, daemon, run and
Celery workers) share one record of runs, events and schedules.

DAGSTER_HOME/dagster.yaml is written by podigest while it carries MANAGED_MARK on its first line; a file
without the mark is the user's own and is left as it is. deploy/dagster.yaml is the same Postgres config
for machines that start Dagster processes themselves (workers, containers).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from podigest_dagster import settings

PG_URL_ENV = "PODIGEST_DAGSTER_PG_URL"
MANAGED_MARK = "# Dagster instance for podigest (written by podigest; remove this line to keep your own)."
SQLITE_YAML = f"""{MANAGED_MARK}
# Runs, events and schedules are stored in this folder (SQLite). Set {PG_URL_ENV} to share them on PostgreSQL.
telemetry:
  enabled: false  # podigest runs offline
"""
POSTGRES_YAML = f"""{MANAGED_MARK}
# Runs, events and schedules are stored in the PostgreSQL database named by {PG_URL_ENV}.
storage:
  postgres:
    postgres_url:
      env: {PG_URL_ENV}
telemetry:
  enabled: false  # podigest runs offline
"""


class InstanceUnavailable(RuntimeError):
    """The Dagster instance database cannot be used; one line naming the setting."""


def pg_url() -> str | None:
    return (os.environ.get(PG_URL_ENV) or "").strip() or None


def sqlalchemy_url(url: str) -> str:
    """postgresql:// (or postgres://) as SQLAlchemy must be told to use psycopg2, the driver installed."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg2://" + url[len(plain) :]
    return url


def describe(url: str) -> str:
    """host:port/db of a URL, without user or password."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 5432}{parts.path or ''}"


def check_reachable(url: str, timeout_s: int = 5) -> None:
    """Connect once, so a wrong or unreachable database is one clear line before Dagster starts."""
    import psycopg2

    plain = url.replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        psycopg2.connect(plain, connect_timeout=timeout_s).close()
    except psycopg2.Error as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InstanceUnavailable(
            f"cannot reach the Dagster instance database named by {PG_URL_ENV} ({describe(url)}): {reason}"
        ) from None


def ensure_home() -> Path:
    """DAGSTER_HOME (default PODIGEST_HOME/dagster) with a dagster.yaml for SQLite or, when
    PODIGEST_DAGSTER_PG_URL is set, PostgreSQL (checked reachable); DAGSTER_HOME is set for this process."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.podigest_home() / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    url = pg_url()
    if url:
        os.environ[PG_URL_ENV] = sqlalchemy_url(url)
        check_reachable(url)
    wanted = POSTGRES_YAML if url else SQLITE_YAML
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if current is None or (current.startswith(MANAGED_MARK) and current != wanted) or _legacy(current):
        config.write_text(wanted, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _legacy(text: str | None) -> bool:
    """The file earlier podigest versions wrote (SQLite, telemetry off), which they never marked."""
    return bool(text) and text.startswith("# Dagster instance for podigest: runs, events and schedules")
