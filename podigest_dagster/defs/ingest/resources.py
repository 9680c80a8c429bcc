"""Settings of feed polling, audio downloading and the audio cache, as a Dagster resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.ingest.audio_fetch import DownloadLimits
from podigest_dagster.core.net.limits import MAX_AUDIO_BYTES, MAX_FEED_BYTES, MAX_TRANSCRIPT_BYTES


class IngestSettings(dg.ConfigurableResource):
    """Where feeds.yaml and the audio cache are, the limits every fetch of untrusted URLs obeys, and how long
    transcribed audio is kept.

    Empty paths and unset values are read from the environment when used (PODIGEST_FEEDS, PODIGEST_HOME,
    PODIGEST_ALLOW_PRIVATE_NETWORK, PODIGEST_AUDIO_RETENTION_DAYS, PODIGEST_AUDIO_MAX_GB).
    """

    feeds_file: str = ""
    audio_dir: str = ""
    max_audio_bytes: int = MAX_AUDIO_BYTES
    max_feed_bytes: int = MAX_FEED_BYTES
    max_transcript_bytes: int = MAX_TRANSCRIPT_BYTES
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    feed_deadline_s: float = 120.0
    download_deadline_s: float = 1800.0
    retries: int = 3
    backoff_s: float = 2.0
    allow_private_network: bool | None = None
    audio_retention_days: float | None = None
    audio_max_gb: float | None = None

    @classmethod
    def from_env(cls) -> IngestSettings:
        """Settings with every path and the private-network switch taken from the environment now."""
        return cls(
            feeds_file=str(settings.feeds_file()),
            audio_dir=str(settings.audio_dir()),
            allow_private_network=settings.allow_private_network(),
            audio_retention_days=settings.audio_retention_days(),
            audio_max_gb=_gigabytes(settings.audio_max_bytes()),
        )

    def feeds_path(self) -> Path:
        return Path(self.feeds_file) if self.feeds_file else settings.feeds_file()

    def audio_path(self) -> Path:
        return Path(self.audio_dir) if self.audio_dir else settings.audio_dir()

    def allow_private(self) -> bool:
        if self.allow_private_network is None:
            return settings.allow_private_network()
        return self.allow_private_network

    def retention_days(self) -> float:
        """How long audio is kept once its transcript is stored (0: deleted at once)."""
        if self.audio_retention_days is None:
            return settings.audio_retention_days()
        return max(self.audio_retention_days, 0.0)

    def max_cache_bytes(self) -> int | None:
        """The audio cache's size cap in bytes, or None for none."""
        if self.audio_max_gb is None:
            return settings.audio_max_bytes()
        return int(max(self.audio_max_gb, 0.0) * 1e9)

    def download_limits(self) -> DownloadLimits:
        """Where audio goes and the limits each download obeys."""
        return DownloadLimits(
            audio_dir=self.audio_path(),
            max_bytes=self.max_audio_bytes,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            deadline_s=self.download_deadline_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
            allow_private=self.allow_private(),
        )


def _gigabytes(size: int | None) -> float | None:
    return None if size is None else size / 1e9
