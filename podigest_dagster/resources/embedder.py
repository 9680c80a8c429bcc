"""The sentence embedder as a Dagster resource: the bundled all-MiniLM-L6-v2, offline."""

from __future__ import annotations

import dagster as dg
import numpy as np

from podigest_dagster.core.embedding import Embedder


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
