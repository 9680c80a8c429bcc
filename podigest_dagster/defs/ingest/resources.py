"""Settings of feed polling and audio downloading, as a Dagster resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from podigest_dagster import settings
from podigest_dagster.core.ingest.audio_fetch import DownloadLimits
from podigest_dagster.core.net.limits import MAX_AUDIO_BYTES, MAX_FEED_BYTES, MAX_TRANSCRIPT_BYTES


class IngestSettings(dg.ConfigurableResource):
    """Where feeds.yaml and the audio cache are, and the limits every fetch of untrusted URLs (feeds, audio,
    publisher transcripts) obeys.

    Empty paths and an unset `allow_private_network` are read from the environment when used
    (PODIGEST_FEEDS, PODIGEST_HOME, PODIGEST_ALLOW_PRIVATE_NETWORK).
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

    @classmethod
    def from_env(cls) -> IngestSettings:
        """Settings with every path and the private-network switch taken from the environment now."""
        return cls(
            feeds_file=str(settings.feeds_file()),
            audio_dir=str(settings.audio_dir()),
            allow_private_network=settings.allow_private_network(),
        )

    def feeds_path(self) -> Path:
        return Path(self.feeds_file) if self.feeds_file else settings.feeds_file()

    def audio_path(self) -> Path:
        return Path(self.audio_dir) if self.audio_dir else settings.audio_dir()

    def allow_private(self) -> bool:
        if self.allow_private_network is None:
            return settings.allow_private_network()
        return self.allow_private_network

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

