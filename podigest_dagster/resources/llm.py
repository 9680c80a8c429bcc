"""The optional LLM that polishes chosen insights, as a Dagster resource (any litellm model string)."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from podigest_dagster.core.llm_rewrite import InsightRewriter, LLMSettings


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
