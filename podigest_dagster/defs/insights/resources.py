"""The insight stage's resources: the sentence embedder (bundled all-MiniLM-L6-v2, offline) and the
optional LLM that polishes chosen insights (any litellm model string)."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
import numpy as np

from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.rewrite import InsightRewriter, LLMSettings


class EmbedderResource(dg.ConfigurableResource):
    """Embeds texts with a local sentence-transformers model; an empty `model_dir` means the bundled one."""

    model_dir: str = ""
    batch_size: int = 64

    def embedder(self) -> Embedder:
        return Embedder(self.model_dir or None, self.batch_size)

    @property
    def model_name(self) -> str:
        return self.embedder().model_name

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors; the model loads once per process."""
        return self.embedder().embed(texts)


class LLMResource(dg.ConfigurableResource):
    """Model (e.g. `dg.EnvVar("PODIGEST_LLM_MODEL")`; empty disables rewriting), timeout, retries and the
    per-day token budget. Provider keys stay in the provider's own environment variables, never here."""

    model: str | None = None
    timeout_s: float = 30.0
    retries: int = 2
    daily_token_budget: int = 20_000
    retry_backoff_s: float = 1.0
    completion_kwargs: dict[str, Any] = {}

    @classmethod
    def from_env(cls) -> LLMResource:
        """A resource whose model is PODIGEST_LLM_MODEL when set, else disabled."""
        return cls(model=os.environ.get("PODIGEST_LLM_MODEL") or None)

    def rewriter(self) -> InsightRewriter:
        """A fresh rewriter for one day's run, with its own token budget."""
        return InsightRewriter(
            LLMSettings(
                model=self.model or None,
                timeout_s=self.timeout_s,
                retries=self.retries,
                daily_token_budget=self.daily_token_budget,
                retry_backoff_s=self.retry_backoff_s,
                completion_kwargs=dict(self.completion_kwargs),
            )
        )
