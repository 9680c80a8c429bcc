"""The unit every stage shares: one stretch of transcript text with its time span (a `transcript_segments` row)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """Position, time span in seconds, text, Whisper's confidence (None for publisher transcripts), and who
    spoke it when the transcript names a real speaker (None when unknown)."""

    seq: int
    start_s: float
    end_s: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    speaker: str | None = None
