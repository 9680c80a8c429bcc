"""The value model's second reader: the bundled all-MiniLM-L6-v2 with a small LoRA adapter (peft) and a linear
head, fine-tuned on the graded passages to read a passage's value from its words in order (option (b) of the
value model; training/value_adapter.py). It re-scores the candidates the ridge model (value.py) keeps: their
value is the mean of both, which ranked the validation episodes' passages best (Spearman 0.58 against 0.54
for the ridge model alone, NDCG@5 0.67 against 0.64).

The adapter ships in models/value_adapter/ (under 1 MB) and is loaded once per process, offline, onto the
bundled model; files that do not fit it (another base model, another head size) are refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from podigest_dagster.core.insights.embedding import bundled_model_dir
from podigest_dagster.core.insights.learned import MODELS_DIR

ADAPTER_DIR = MODELS_DIR / "value_adapter"
BATCH = 32
_lock = threading.Lock()


class AdapterError(RuntimeError):
    """The shipped adapter is missing or does not fit the bundled model: run `make train`."""


def adapter_files(directory: Path = ADAPTER_DIR) -> dict:
    """The adapter's head and settings (head.json), checked to be complete."""
    head = directory / "head.json"
    needed = [head, directory / "adapter_config.json", directory / "adapter_model.safetensors"]
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise AdapterError(f"the value adapter in {directory} lacks {', '.join(missing)}: run `make train`")
    return json.loads(head.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _load(directory: str = str(ADAPTER_DIR)):
    from podigest_dagster import settings

    settings.use_offline_environment()
    import torch
    from peft import PeftModel
    from transformers import AutoModel, AutoTokenizer

    spec = adapter_files(Path(directory))
    base_dir = str(bundled_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    base = AutoModel.from_pretrained(base_dir, local_files_only=True)
    weights = np.asarray(spec["weight"], dtype=np.float32)
    if weights.shape != (base.config.hidden_size,):
        raise AdapterError(f"the value adapter's head takes {weights.shape[0]} inputs, the bundled model gives "
                           f"{base.config.hidden_size}: run `make train`")
    try:
        model = PeftModel.from_pretrained(base, directory)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise AdapterError(f"the value adapter in {directory} does not fit the bundled model ({exc}): run `make train`") from exc
    model.eval()
    head = torch.nn.Linear(len(weights), 1)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weights).reshape(1, -1))
        head.bias.fill_(float(spec["bias"]))
    return tokenizer, model, head, int(spec.get("max_tokens", 160))


def adapter_values(texts: Sequence[str]) -> np.ndarray:
    """The adapter's predicted rubric value of each passage (about 0-3)."""
    if not texts:
        return np.zeros(0)
    import torch

    with _lock:
        tokenizer, model, head, max_tokens = _load()
        out = []
        with torch.no_grad():
            for k in range(0, len(texts), BATCH):
                batch = tokenizer(list(texts[k : k + BATCH]), padding=True, truncation=True, max_length=max_tokens,
                                  return_tensors="pt")
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                out.append(head(pooled).squeeze(-1).numpy())
    return np.concatenate(out).astype(np.float64)
