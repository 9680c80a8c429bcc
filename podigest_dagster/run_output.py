"""What `podigest run` prints while the daily job runs in process: a Dagster logger that turns the event
stream into one line per step (with its counts), the transcription progress lines, warnings and errors;
or, with -v, the whole event stream. Lines are coloured only on a terminal and never under NO_COLOR.

Verbosity: QUIET prints warnings and errors only (the command prints its final result itself), NORMAL
adds the step lines and the transcription progress, VERBOSE prints every Dagster event and lets dbt's
own output through.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import dagster as dg

from podigest_dagster.core.text.display import byte_size

QUIET, NORMAL, VERBOSE = 0, 1, 2
LOGGER_KEY = "podigest"
PROGRESS_ASSETS = ("publisher_transcripts", "transcripts")  # their INFO lines: one per episode
DBT_STEP = "podigest_dbt_assets"
DBT_BUILD_NOTE = "dbt_build"
SKIPPED_STEP = "Dependencies for step"  # Dagster's error for a step skipped after a failure: the failure says it

_STYLES = {"step": "1", "ok": "32", "warning": "33", "error": "31", "dim": "2"}


def colour_wanted(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str, colour: bool) -> str:
    return f"\033[{_STYLES[style]}m{text}\033[0m" if colour else text


def _value(metadata: Mapping[str, Any], key: str) -> Any:
    value = metadata[key]
    return getattr(value, "value", value)


def _count(metadata: Mapping[str, Any], key: str, default: int = 0) -> Any:
    return _value(metadata, key) if key in metadata else default


def _episodes(m: Mapping[str, Any]) -> str:
    feeds = sum(_count(m, k) for k in ("feeds_ok", "feeds_not_modified", "feeds_failed"))
    line = f"{_value(m, 'episodes_in_partition')} on this day, {_count(m, 'entries_seen')} entries read from {feeds} feeds"
    if _count(m, "feeds_not_modified"):
        line += f" ({_count(m, 'feeds_not_modified')} not modified)"
    if _count(m, "feeds_failed"):
        line += f", {_count(m, 'feeds_failed')} failed"
    return line


def _publisher(m: Mapping[str, Any]) -> str:
    line = f"{_value(m, 'used')} used, {_count(m, 'unusable')} unusable (the audio instead)"
    if _count(m, "already_done"):
        line += f", {_count(m, 'already_done')} already transcribed"
    return line + f", {_count(m, 'not_linked')} not linked"


def _audio(m: Mapping[str, Any]) -> str:
    parts = [f"{_value(m, 'downloaded')} downloaded"]
    if _count(m, "not_needed_publisher"):
        parts.append(f"{_count(m, 'not_needed_publisher')} not needed (publisher transcript)")
    if _count(m, "not_needed_transcribed"):
        parts.append(f"{_count(m, 'not_needed_transcribed')} not needed (already transcribed)")
    parts += [f"{_count(m, 'already_present')} already here", f"{_count(m, 'failed')} failed"]
    return ", ".join(parts)


def _audio_cache(m: Mapping[str, Any]) -> str:
    line = f"{_value(m, 'files_pruned')} files pruned ({byte_size(_count(m, 'bytes_pruned'))}), "
    line += f"{_count(m, 'files_kept')} kept ({byte_size(_count(m, 'bytes_kept'))}"
    if _count(m, "pending_files"):
        line += f", {_count(m, 'pending_files')} still to transcribe"
    if _count(m, "archive_files"):
        line += f", {_count(m, 'archive_files')} for the web archive: no web URL"
    return line + ")"


def _transcripts(m: Mapping[str, Any]) -> str:
    return (
        f"{_value(m, 'transcribed')} by Whisper, {_count(m, 'from_publisher')} from the publisher, "
        f"{_count(m, 'skipped')} already done, {_count(m, 'failed')} failed"
    )


def _candidates(m: Mapping[str, Any]) -> str:
    skipped = _count(m, "episodes_skipped")
    return (
        f"{_value(m, 'candidates_kept')} kept, {_count(m, 'candidates_dropped')} dropped, "
        f"from {_count(m, 'episodes')} episodes"
        + (f", {skipped} skipped (a language the models do not read)" if skipped else "")
    )


def _embeddings(m: Mapping[str, Any]) -> str:
    return f"{_value(m, 'embedded_new')} new, {_count(m, 'already_embedded')} already embedded"


def _clusters(m: Mapping[str, Any]) -> str:
    return f"{_value(m, 'clusters')} ideas, {_count(m, 'multi_podcast_clusters')} said by several shows"


def _top(m: Mapping[str, Any]) -> str:
    return f"{_value(m, 'items')} chosen from {_count(m, 'clusters_considered')} ideas"


def _digest(m: Mapping[str, Any]) -> str:
    return f"{_value(m, 'item_count')} items"


def _delivery(m: Mapping[str, Any]) -> str:
    email = _count(m, "email", None)
    parts = [f"RSS {_value(m, 'rss_entries')} digests"]
    if isinstance(email, str):
        parts.append(f"email {email}")
    else:
        counts = [f"{key} {_value(m, key)}" for key in ("sent", "already_sent", "failed", "unknown") if key in m]
        parts.append("email " + (", ".join(counts) or "done"))
    return ", ".join(parts)


SUMMARIES: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {
    "episodes": ("episodes", _episodes),
    "publisher_transcripts": ("publisher transcripts", _publisher),
    "episode_audio": ("audio", _audio),
    "transcripts": ("transcripts", _transcripts),
    "audio_cache": ("audio cache", _audio_cache),
    "insight_candidates": ("candidates", _candidates),
    "insight_embeddings": ("embeddings", _embeddings),
    "insight_clusters": ("clusters", _clusters),
    "top_insights": ("top insights", _top),
    "daily_digest": ("digest", _digest),
    "digest_delivery": ("delivery", _delivery),
}


def asset_line(asset: str, metadata: Mapping[str, Any]) -> str:
    """`transcripts: 3 by Whisper, 1 from the publisher, 0 already done, 0 failed`; an asset without a
    known summary (or whose metadata changed) shows its first few numbers."""
    label, describe = SUMMARIES.get(asset, (asset, None))
    if describe is not None:
        try:
            return f"{label}: {describe(metadata)}"
        except (KeyError, TypeError, ValueError):
            pass
    numbers = [
        f"{key} {_value(metadata, key)}"
        for key in metadata
        if isinstance(_value(metadata, key), int | float) and not isinstance(_value(metadata, key), bool)
    ]
    return f"{label}: " + (", ".join(numbers[:4]) or "done")


def step_asset(step_key: str | None) -> str:
    """The asset a step works for: `transcripts.transcribe_one_episode[ab12]` -> `transcripts`."""
    return (step_key or "").split(".")[0].split("[")[0]


WRAPPERS = ("DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError")
PREFIXES = ("dagster._core.definitions.events.", "dagster._core.errors.")


def failure_reason(event: Any) -> str:
    """One line for a failed step: the Failure's description, else the first line of the error that the
    step's code raised (not Dagster's wrapper around it)."""
    data = event.step_failure_data
    user = getattr(data, "user_failure_data", None)
    text = getattr(user, "description", None)
    if not text and data.error is not None:
        error = data.error
        while error.cause is not None and any(w in (error.message or "") for w in WRAPPERS):
            error = error.cause
        text = error.message
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return "no reason given"
    first = lines[0]
    for prefix in PREFIXES:
        if first.startswith(prefix):
            first = first[len(prefix) :]
    if first.endswith(":") and len(lines) > 1:
        first = f"{first} {lines[1]}"
    return first


@dataclass
class _Step:
    started: float | None = None
    assets: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    checks_passed: int = 0
    checks_failed: int = 0
    replayed: bool = False


class RunReporter:
    """Receives the run's log records (through `logger_definition`) and prints what the verbosity asks for."""

    def __init__(self, verbosity: int = NORMAL, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.verbosity = verbosity
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.colour = colour_wanted(self.out)
        self.err_colour = colour_wanted(self.err)
        self.failures: list[tuple[str, str]] = []
        self.warnings = 0
        self.materialized: dict[str, Mapping[str, Any]] = {}
        self._steps: dict[str, _Step] = defaultdict(_Step)
        self._asset_started: dict[str, float] = {}

    # --- printing ---------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        if self.verbosity >= NORMAL:
            print(line, file=self.out, flush=True)

    def warn(self, line: str) -> None:
        self.warnings += 1
        print(paint(f"podigest: warning: {line}", "warning", self.err_colour), file=self.err, flush=True)

    def error(self, line: str) -> None:
        print(paint(f"podigest: error: {line}", "error", self.err_colour), file=self.err, flush=True)

    def _step_line(self, label: str, text: str, seconds: float | None) -> None:
        took = f" ({seconds:.1f}s)" if seconds is not None else ""
        head, _, rest = text.partition(": ")
        self.say(f"{paint(head + ':', 'step', self.colour)} {rest}{paint(took, 'dim', self.colour)}")

    # --- records ----------------------------------------------------------------------------------

    def handle(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if self.verbosity >= VERBOSE:
            self._verbose(record)
        if event is None:
            self._message(record, meta)
        else:
            self._event(record, meta, event)

    def _verbose(self, record: logging.LogRecord) -> None:
        when = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        style = {"WARNING": "warning", "ERROR": "error", "CRITICAL": "error"}.get(record.levelname)
        line = f"{when} - dagster - {record.levelname} - {record.getMessage()}"
        print(paint(line, style, self.err_colour) if style else line, file=self.err, flush=True)

    def _message(self, record: logging.LogRecord, meta: Mapping[str, Any]) -> None:
        text = meta.get("orig_message") or record.getMessage()
        step = meta.get("step_key")
        if self.verbosity >= VERBOSE:
            if record.levelno >= logging.WARNING:
                self.warnings += 1
            return
        if record.levelno >= logging.ERROR:
            if not text.startswith(SKIPPED_STEP):
                self.error(f"{step_asset(step) or 'run'}: {text}")
        elif record.levelno >= logging.WARNING:
            self.warn(f"{step_asset(step) or 'run'}: {text}")
        elif record.levelno == logging.INFO and step_asset(step) in PROGRESS_ASSETS:
            self.say(f"  {text}")

    def _event(self, record: logging.LogRecord, meta: Mapping[str, Any], event: Any) -> None:
        step_key = meta.get("step_key") or event.step_key
        kind = event.event_type_value
        step = self._steps[step_key] if step_key else None
        if kind == "STEP_START" and step is not None:
            step.started = record.created
            self._asset_started.setdefault(step_asset(step_key), record.created)
        elif kind == "ASSET_MATERIALIZATION" and step is not None:
            materialization = event.event_specific_data.materialization
            name = "/".join(materialization.asset_key.path)
            step.assets[name] = materialization.metadata
            self.materialized[name] = materialization.metadata
            if DBT_BUILD_NOTE in materialization.metadata:
                step.replayed = True
        elif kind == "ASSET_CHECK_EVALUATION" and step is not None:
            evaluation = event.event_specific_data
            if evaluation.passed:
                step.checks_passed += 1
            else:
                step.checks_failed += 1
                if self.verbosity < VERBOSE:
                    severity = getattr(evaluation.severity, "value", evaluation.severity)
                    self.warn(
                        f"check {evaluation.check_name} on {'/'.join(evaluation.asset_key.path)} failed "
                        f"({severity})"
                    )
        elif kind == "STEP_SUCCESS" and step is not None:
            self._step_done(step_key, step, record.created)
        elif kind == "STEP_FAILURE":
            self.failures.append((step_key or "?", failure_reason(event)))

    def _step_done(self, step_key: str, step: _Step, finished: float) -> None:
        """The step's line: the time since the first step of its asset started (an asset made of several
        steps, such as one per episode, counts them all)."""
        started = self._asset_started.get(step_asset(step_key), step.started)
        seconds = finished - started if started is not None else None
        if step_key == DBT_STEP or len(step.assets) > 1:
            total = len(step.assets) + step.checks_passed + step.checks_failed
            if step.replayed:
                text = f"dbt: unchanged, skipped ({total} results from the last build)"
            else:
                text = f"dbt: {len(step.assets) + step.checks_passed} passed, {step.checks_failed} failed"
            self._step_line("dbt", text, seconds)
            return
        for asset, metadata in step.assets.items():
            self._step_line(asset, asset_line(asset, metadata), seconds)


def logger_definition(reporter: RunReporter) -> dg.LoggerDefinition:
    """A Dagster logger that hands every record of the run to `reporter`."""

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            reporter.handle(record)

    def build(_init_context: Any) -> logging.Logger:
        logger = logging.Logger("podigest.run", level=logging.DEBUG)
        logger.addHandler(_Handler(level=logging.DEBUG))
        return logger

    return dg.LoggerDefinition(build, description="podigest's own run output (see podigest_dagster/run_output.py)")


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)

    def writable(self) -> bool:
        return True


@contextmanager
def library_output(verbosity: int) -> Iterator[None]:
    """Below -v, what libraries print on stdout during the run (dbt's log lines, re-emitted by dagster-dbt)
    is dropped: the reporter prints the run's output itself, on the stdout it was given before."""
    if verbosity >= VERBOSE:
        yield
        return
    saved = sys.stdout
    sys.stdout = _Discard()
    try:
        yield
    finally:
        sys.stdout = saved
