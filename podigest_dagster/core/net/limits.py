"""The one place for the caps every fetch of untrusted URLs obeys (resources may lower them)."""

from __future__ import annotations

MAX_FEED_BYTES = 20_000_000
MAX_TRANSCRIPT_BYTES = 20 * 1024 * 1024
MAX_AUDIO_BYTES = 1_000_000_000
