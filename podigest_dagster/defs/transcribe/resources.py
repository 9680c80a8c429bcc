"""Transcription settings as a Dagster resource; the model itself is loaded once per process."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from podigest_dagster import settings
from podigest_dagster.core.transcribe.engine import Transcriber, model_label, shared_transcriber

MODEL_ENV = "PODIGEST_WHISPER_MODEL"


class TranscriberResource(dg.ConfigurableResource):
    """Which Whisper model runs where, and how; plus the failure share the transcripts check tolerates."""

    model: str = Field(
        default="",
        description="'base' (bundled, offline), a faster-whisper name (small, large-v3) or a model directory; "
        f"empty reads {MODEL_ENV}, else 'base'.",
    )
    device: str = Field(default="cpu", description="cpu | cuda | auto")
    compute_type: str = Field(default="", description="empty: int8 on CPU, float16 on CUDA")
    batch_size: int = 8
    cpu_threads: int = Field(default=0, description="0: one per CPU core")
    beam_size: int = 5
    language: str = Field(default="auto", description="'auto' detects it; else an ISO code such as 'en'")
    vad: bool = True
    models_dir: str = Field(
        default="", description="where the bundled model is assembled; empty: PODIGEST_HOME/models"
    )
    max_failed_share: float = Field(
        default=0.5, description="transcripts check fails above this share of failures"
    )

    def model_name(self) -> str:
        return self.model or os.environ.get(MODEL_ENV) or "base"

    def source_label(self) -> str:
        """How this model's transcripts are recorded (`whisper:base`), known without creating a Transcriber:
        what tells a day's done episodes from the pending ones, so a finished day loads no model."""
        return model_label(self.model_name())

    def get_transcriber(self) -> Transcriber:
        """The process-wide Transcriber for this configuration (its model is loaded on first use, once)."""
        return shared_transcriber(
            model=self.model_name(),
            device=self.device,
            compute_type=self.compute_type or None,
            batch_size=self.batch_size,
            cpu_threads=self.cpu_threads,
            beam_size=self.beam_size,
            language=self.language,
            vad=self.vad,
            models_dir=Path(self.models_dir) if self.models_dir else settings.models_dir(),
        )
