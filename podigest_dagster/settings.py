"""Where podigest keeps its state, read from the environment with sensible defaults."""

from __future__ import annotations

import os
from pathlib import Path


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


def allow_private_network() -> bool:
    return os.environ.get("PODIGEST_ALLOW_PRIVATE_NETWORK", "").strip().lower() in {"1", "true", "yes"}


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
