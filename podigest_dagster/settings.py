"""Where podigest keeps its state, read from the environment with sensible defaults."""

from __future__ import annotations

import math
import os
from pathlib import Path
from urllib.parse import urlsplit


def podigest_home() -> Path:
    """PODIGEST_HOME, or ~/.podigest: the warehouse, audio cache, models and digests live here."""
    return Path(os.environ.get("PODIGEST_HOME") or Path.home() / ".podigest").expanduser().resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("PODIGEST_WAREHOUSE") or podigest_home() / "warehouse.duckdb")


def audio_dir() -> Path:
    return podigest_home() / "audio"


def models_dir() -> Path:
    return podigest_home() / "models"


def digests_dir() -> Path:
    return podigest_home() / "digests"


def feeds_file() -> Path:
    """PODIGEST_FEEDS, or feeds.yaml under PODIGEST_HOME."""
    return Path(os.environ.get("PODIGEST_FEEDS") or podigest_home() / "feeds.yaml").expanduser()


def readers_file() -> Path:
    """PODIGEST_READERS, or readers.yaml beside the feeds file: who gets a digest, and what they care about."""
    default = feeds_file().parent / "readers.yaml"
    return Path(os.environ.get("PODIGEST_READERS") or default).expanduser()


def site_dir() -> Path:
    """The static web archive (`podigest site build` and the digest_site asset write it here)."""
    return podigest_home() / "site"


def search_index_path() -> Path:
    """The search index: a DuckDB file derived from the warehouse (deleting it only means a rebuild)."""
    return podigest_home() / "search.duckdb"


DEFAULT_AUDIO_RETENTION_DAYS = 7.0


def audio_retention_days() -> float:
    """PODIGEST_AUDIO_RETENTION_DAYS (default 7): how long audio is kept once its transcript is stored (0 =
    deleted as soon as it is). Raises ValueError (one line naming the variable) for anything but a number >= 0."""
    value = os.environ.get("PODIGEST_AUDIO_RETENTION_DAYS", "").strip()
    if not value:
        return DEFAULT_AUDIO_RETENTION_DAYS
    days = _number(value)
    if days is None or days < 0:
        raise ValueError(
            "PODIGEST_AUDIO_RETENTION_DAYS must be a number of days, 0 or more (0 deletes audio as soon as its "
            f"transcript is stored), got {value[:40]!r}"
        )
    return days


def audio_max_bytes() -> int | None:
    """PODIGEST_AUDIO_MAX_GB (GB of 10^9 bytes) as bytes: the audio cache's size cap, reached by deleting the
    oldest transcribed audio first; None when unset (no cap). Raises ValueError for anything but a number >= 0."""
    value = os.environ.get("PODIGEST_AUDIO_MAX_GB", "").strip()
    if not value:
        return None
    gigabytes = _number(value)
    if gigabytes is None or gigabytes < 0:
        raise ValueError(f"PODIGEST_AUDIO_MAX_GB must be a size in GB, 0 or more (e.g. 20 or 0.5), got {value[:40]!r}")
    return int(gigabytes * 1e9)


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def allow_private_network() -> bool:
    return os.environ.get("PODIGEST_ALLOW_PRIVATE_NETWORK", "").strip().lower() in {"1", "true", "yes"}


def public_url() -> str | None:
    """PODIGEST_PUBLIC_URL: the http(s) base URL where the digests folder is published (the links of
    digests.xml), always ending in "/"; None when unset. Raises ValueError (one line naming the variable)
    for anything else."""
    value = os.environ.get("PODIGEST_PUBLIC_URL", "").strip()
    if not value:
        return None
    problem = _public_url_problem(value)
    if problem:
        shown = "" if problem == _CREDENTIALS else f" (got {value[:200]!r})"
        raise ValueError(
            f"PODIGEST_PUBLIC_URL {problem}: it must be the http(s) URL where the digests are published, "
            f"e.g. https://digest.example.com/{shown}"
        )
    return value if value.endswith("/") else value + "/"


_CREDENTIALS = "carries a user name or password (it is published in digests.xml)"


def _public_url_problem(value: str) -> str | None:
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in {"http", "https"}:
        return f"has the scheme {parts.scheme!r}, not http or https" if parts.scheme else "has no scheme"
    if not parts.hostname:
        return "has no host"
    if "@" in parts.netloc:
        return _CREDENTIALS
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return "has a query or fragment (file names are appended to it)"
    return None


def demo_dir() -> Path:
    """The bundled demo podcasts (feeds/, audio/, transcripts/): the only place `file://` URLs may point into."""
    return (Path(__file__).resolve().parent / "demo").resolve()


OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # weights come from packages, never from a model hub
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm must not download its price map at import
}


def use_offline_environment() -> None:
    """Set the offline defaults (a variable the user set wins): called once by every entry point."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
