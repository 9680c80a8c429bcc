"""readers.yaml: who gets a digest, what they care about, and what they never want to hear about.

    readers:
      - email: ann@example.com
        name: Ann                                    # optional
        interests: GPU kernels, AI hiring, energy policy   # optional; a list works too
        muted_shows: [Crypto Hour]                   # optional
        muted_topics: [celebrity gossip]             # optional

A malformed entry (no or a bad email, an unknown key, a value of the wrong kind, an address listed twice)
is reported with its line and skipped; the other readers are unaffected. Only a file that is not YAML at
all stops everything, with its line. `add_reader` / `remove_reader` edit the file in place, under a lock,
atomically, keeping its comments and the other entries exactly as written.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from pathlib import Path

import yaml
from filelock import FileLock

from podigest_dagster.core.digest.email_message import InvalidAddressError, parse_address
from podigest_dagster.core.text.display import clean_text

KEYS = ("email", "name", "interests", "muted_shows", "muted_topics")
MAX_PHRASES = 20
MAX_PHRASE_CHARS = 100
LOCK_TIMEOUT_S = 30.0


class ReadersConfigError(ValueError):
    """readers.yaml cannot be read at all (not YAML, not a `readers:` list); names the file and line."""


@dataclass(frozen=True)
class Reader:
    """One reader: the address to send to, their interests and mutes (plain phrases), and where the entry is."""

    email: str
    name: str | None = None
    interests: tuple[str, ...] = ()
    muted_shows: tuple[str, ...] = ()
    muted_topics: tuple[str, ...] = ()
    line: int | None = None

    @property
    def key(self) -> str:
        """Who the reader is for the delivery ledger: the bare address, lower-cased."""
        return reader_key(self.email)

    @property
    def personal(self) -> bool:
        """Whether the reader's digest differs from the general one (interests or mutes set)."""
        return bool(self.interests or self.muted_shows or self.muted_topics)

    @property
    def address(self) -> str:
        """The address for the To: header, with the reader's name when the entry gives one."""
        return (
            formataddr((self.name, parseaddr(self.email)[1]))
            if self.name and "<" not in self.email
            else self.email
        )


@dataclass
class ReadersList:
    """The readers of a file and one line per entry that was skipped, naming its line and why."""

    readers: list[Reader] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def find(self, email: str) -> Reader | None:
        key = reader_key(email)
        return next((r for r in self.readers if r.key == key), None)


def reader_key(address: str) -> str:
    """The bare, lower-cased address of "Name <a@b.c>" or "a@b.c"."""
    return parseaddr(address)[1].strip().lower() or address.strip().lower()


def load_readers(path: str | Path) -> ReadersList:
    """The readers of `path` (none when the file does not exist); ReadersConfigError when it is not YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ReadersList()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadersConfigError(f"{path}: cannot read readers file: {exc}") from exc
    return parse_readers(text, str(path))


def parse_readers(text: str, where: str = "readers.yaml") -> ReadersList:
    """Parse readers.yaml text; each entry is checked on its own (see the module docstring)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        entries = _entry_nodes(root, where)
        found = ReadersList()
        for node in entries:
            line = node.start_mark.line + 1
            try:
                reader = _reader(loader.construct_object(node, deep=True), line)
            except (ValueError, yaml.YAMLError) as exc:
                found.problems.append(f"{where} line {line}: {_one_line(exc)}; entry skipped")
                continue
            if found.find(reader.email):
                found.problems.append(f"{where} line {line}: {reader.key} is listed twice; entry skipped")
                continue
            found.readers.append(reader)
        return found
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" line {mark.line + 1}" if mark else ""
        raise ReadersConfigError(f"{where}{at}: not valid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ReadersConfigError(f"{where}: not valid YAML: {_one_line(exc)}") from exc
    finally:
        loader.dispose()


def _entry_nodes(root: yaml.Node | None, where: str) -> list[yaml.Node]:
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise ReadersConfigError(
            f"{where} line {root.start_mark.line + 1}: expected a mapping with a `readers:` list"
        )
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "readers":
            if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
                return []
            if not isinstance(value, yaml.SequenceNode):
                raise ReadersConfigError(
                    f"{where} line {value.start_mark.line + 1}: `readers:` must be a list"
                )
            return list(value.value)
    return []


def _reader(value: object, line: int) -> Reader:
    if isinstance(value, str):
        value = {"email": value}
    if not isinstance(value, dict):
        raise ValueError(
            "expected a mapping with `email` (and optional interests, muted_shows, muted_topics)"
        )
    unknown = [str(k) for k in value if k not in KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    email = value.get("email")
    if not isinstance(email, str) or not email.strip():
        raise ValueError("no `email`")
    try:
        email = parse_address(email.strip())
    except InvalidAddressError as exc:
        raise ValueError(str(exc)) from None
    name = value.get("name")
    if name is not None and not isinstance(name, str | int | float):
        raise ValueError("`name` must be text")
    return Reader(
        email=email,
        name=clean_text(str(name)) or None if name is not None else None,
        interests=phrases(value.get("interests"), "interests"),
        muted_shows=phrases(value.get("muted_shows"), "muted_shows"),
        muted_topics=phrases(value.get("muted_topics"), "muted_topics"),
        line=line,
    )


def phrases(value: object, key: str = "interests") -> tuple[str, ...]:
    """Plain phrases from "a, b" or ["a", "b"]: cleaned, empty ones dropped, duplicates kept once."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        parts = [str(v) for v in value]
    else:
        raise ValueError(f"`{key}` must be text (comma-separated) or a list of texts")
    found = list(dict.fromkeys(p for p in (clean_text(part) for part in parts) if p))
    if len(found) > MAX_PHRASES:
        raise ValueError(f"`{key}` has {len(found)} entries; at most {MAX_PHRASES}")
    long = next((p for p in found if len(p) > MAX_PHRASE_CHARS), None)
    if long:
        raise ValueError(f"`{key}` entry longer than {MAX_PHRASE_CHARS} characters: {long[:40]!r}…")
    return tuple(found)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- editing ---------------------------------------------------------------------------------------


def entry(reader: Reader) -> dict:
    """The reader as a readers.yaml mapping (only the keys that are set)."""
    data: dict = {"email": reader.email}
    if reader.name:
        data["name"] = reader.name
    if reader.interests:
        data["interests"] = ", ".join(reader.interests)
    if reader.muted_shows:
        data["muted_shows"] = list(reader.muted_shows)
    if reader.muted_topics:
        data["muted_topics"] = list(reader.muted_topics)
    return data


def add_reader(path: str | Path, reader: Reader) -> bool:
    """Add the reader to the file, or replace the entry with the same address where it is; True when it
    was new. The reader is checked first (a bad address or phrase changes nothing)."""
    checked = _reader(entry(reader), 0)
    path = Path(path)
    with _locked(path):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        existed = parse_readers(text, str(path)).find(checked.email) is not None
        updated = _replaced(text, checked.key, checked) if existed else _with(text, checked)
        _expect(updated, path, lambda r: True, checked.key)
        _write_atomic(path, updated)
    return not existed


def remove_reader(path: str | Path, email: str) -> bool:
    """Take the reader with this address out of the file; False when there was none."""
    path = Path(path)
    key = reader_key(email)
    with _locked(path):
        if not path.exists():
            return False
        text = path.read_text(encoding="utf-8")
        if parse_readers(text, str(path)).find(key) is None:
            return False
        updated = _replaced(text, key, None)
        _expect(updated, path, lambda r: r.key != key, None)
        _write_atomic(path, updated)
    return True


def _locked(path: Path) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)


def _sequence(text: str) -> tuple[yaml.SafeLoader, yaml.SequenceNode | None]:
    loader = yaml.SafeLoader(text)
    root = loader.get_single_node()
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "readers"
                and isinstance(value, yaml.SequenceNode)
            ):
                return loader, value
    return loader, None


def _block(reader: Reader, indent: str) -> str:
    dumped = yaml.safe_dump([entry(reader)], sort_keys=False, allow_unicode=True, width=1000)
    return "".join(indent + line if line.strip() else line for line in dumped.splitlines(keepends=True))


def _with(text: str, reader: Reader) -> str:
    """The text with the reader's entry appended to the `readers:` list (the file's own indentation)."""
    if not text.strip():
        return "readers:\n" + _block(reader, "  ")
    loader, sequence = _sequence(text)
    try:
        if sequence is None or sequence.flow_style or not sequence.value:
            return _rewritten(text, [*_entries(text), entry(reader)])
        lines = text.splitlines(keepends=True)
        indent = _indent_of(lines[_dash_line(lines, sequence.value[0].start_mark.line)])
        last = _last_content_line(lines, sequence)
        head = "".join(lines[: last + 1])
        return (
            (head if head.endswith("\n") else head + "\n")
            + _block(reader, indent)
            + "".join(lines[last + 1 :])
        )
    finally:
        loader.dispose()


def _replaced(text: str, key: str, reader: Reader | None) -> str:
    """The text with the entry for `key` replaced by the reader's (removed when None), in place: the lines
    from its dash up to the next entry, comments above the next entry kept."""
    loader, sequence = _sequence(text)
    try:
        if sequence is None or sequence.flow_style:
            kept = [e for e in _entries(text) if reader_key(str(_email_of(e))) != key]
            return _rewritten(text, kept + ([entry(reader)] if reader else []))
        lines = text.splitlines(keepends=True)
        items = sequence.value
        for index, node in enumerate(items):
            if reader_key(str(_email_of(loader.construct_object(node, deep=True)))) != key:
                continue
            start = _dash_line(lines, node.start_mark.line)
            if index + 1 < len(items):
                end = _dash_line(lines, items[index + 1].start_mark.line)
                while end - 1 > start and (
                    not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
                ):
                    end -= 1
            else:
                end = _last_content_line(lines, sequence) + 1
            middle = _block(reader, _indent_of(lines[start])) if reader else ""
            return "".join(lines[:start]) + middle + "".join(lines[end:])
        return text
    finally:
        loader.dispose()


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _email_of(value: object) -> object:
    return value.get("email") if isinstance(value, dict) else value


def _dash_line(lines: list[str], line: int) -> int:
    """The line holding the `-` that starts the sequence item whose content begins on `line`."""
    for index in range(min(line, len(lines) - 1), -1, -1):
        if lines[index].lstrip().startswith("-"):
            return index
    return line


def _last_content_line(lines: list[str], sequence: yaml.SequenceNode) -> int:
    """The last line of the sequence's last item that holds something (not blank, not a comment)."""
    end = sequence.end_mark.line if sequence.end_mark.column else sequence.end_mark.line - 1
    end = min(end, len(lines) - 1)
    while end > sequence.value[-1].start_mark.line and not lines[end].strip():
        end -= 1
    return end


def _entries(text: str) -> list:
    data = yaml.safe_load(text) or {}
    return list(data.get("readers") or []) if isinstance(data, dict) else []


def _rewritten(text: str, entries: list) -> str:
    """The whole file dumped again (only for a flow-style or empty `readers:` list: comments are lost)."""
    data = yaml.safe_load(text) or {}
    data = data if isinstance(data, dict) else {}
    data["readers"] = entries
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _expect(text: str, path: Path, keep, added: str | None) -> None:
    """Refuse an edit whose result does not read back as intended (the file is then left as it was)."""
    before = parse_readers(path.read_text(encoding="utf-8"), str(path)) if path.exists() else ReadersList()
    after = parse_readers(text, str(path))
    wanted = {r.key for r in before.readers if keep(r)} | ({added} if added else set())
    if {r.key for r in after.readers} != wanted:
        raise ReadersConfigError(
            f"{path}: the edit would not read back as intended; the file was left unchanged"
        )


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
