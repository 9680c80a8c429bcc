"""Transcription benchmark: bare faster-whisper vs the podigest pipeline on the same audio, plus 3-hour peak memory.

    .venv/bin/python bench/transcribe.py                       # a few minutes of speech + a 3-hour file
    .venv/bin/python bench/transcribe.py --skip-long           # speed comparison only
    .venv/bin/python bench/transcribe.py --long-minutes 30     # a shorter long file

The audio is espeak-ng speech generated here, written as MP3 (decoding counts in both timings).
Targets (2 cores, bundled base, int8, batched): >= 20x real time, pipeline <= 1.15x bare, peak <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from podigest_dagster import settings  # noqa: E402

settings.use_offline_environment()

import av  # noqa: E402
import numpy as np  # noqa: E402

from podigest_dagster import settings  # noqa: E402
from podigest_dagster.core.transcribe.engine import Transcriber, load_model  # noqa: E402
from podigest_dagster.core.transcribe.whisper_model import resolve_model  # noqa: E402
from podigest_dagster_tests.support import speech  # noqa: E402

PARAGRAPHS = [
    "Podcasts are a great way to learn about science and history while you commute to work. "
    "Many listeners say the best episodes change how they think about their own habits.",
    "Researchers found that regular exercise makes people happier and more productive. "
    "Even a short walk after lunch improves attention for the rest of the afternoon.",
    "The best investors think in decades, not quarters, and they ignore the daily noise of the market. "
    "Compounding rewards patience far more than cleverness.",
    "Good software is written for the people who will read it next year, not for the compiler. "
    "Small functions with honest names are easier to change than clever ones.",
    "Cities that plant trees along their streets are cooler in summer and their residents walk more. "
    "The effect is largest in neighbourhoods that had the fewest trees to begin with.",
]
TARGET_SPEED = 20.0
TARGET_RATIO = 1.15
TARGET_PEAK_GB = 2.5


def speech_block() -> np.ndarray:
    """All paragraphs spoken once, with pauses like a conversation."""
    parts = []
    for text in PARAGRAPHS:
        parts += [speech.speech_samples(text), speech.silence(0.8)]
    return np.concatenate(parts)


class Mp3Writer:
    """Streams float32 16 kHz mono blocks into an MP3 file, so hours of audio never sit in memory."""

    def __init__(self, path: Path, bitrate: int = 32_000) -> None:
        self.container = av.open(str(path), mode="w", format="mp3")
        self.stream = self.container.add_stream("libmp3lame", rate=speech.RATE, layout="mono")
        self.stream.bit_rate = bitrate

    def write(self, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = speech.RATE
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


def make_audio(path: Path, minutes: float, gap_s: float = 0.0) -> float:
    """Repeat the speech block (with `gap_s` of silence between repeats) up to `minutes`; returns seconds."""
    block = speech_block()
    gap = speech.silence(gap_s)
    total = int(minutes * 60 * speech.RATE)
    written = 0
    writer = Mp3Writer(path)
    while written < total:
        for piece in (block, gap):
            piece = piece[: total - written]
            if len(piece):
                writer.write(piece)
                written += len(piece)
    writer.close()
    return written / speech.RATE


def bare_run(path: Path, transcriber: Transcriber) -> tuple[float, float, int]:
    """faster-whisper's BatchedInferencePipeline on the whole file, same model and options."""
    from faster_whisper import BatchedInferencePipeline

    model_path = resolve_model(transcriber.model, transcriber.models_dir or settings.models_dir())
    model = load_model(model_path, transcriber.device, transcriber.compute_type, transcriber.cpu_threads)
    pipeline = BatchedInferencePipeline(model=model)
    started, cpu = time.perf_counter(), time.process_time()
    segments, _ = pipeline.transcribe(
        str(path), language=transcriber.language, **transcriber.decode_options()
    )
    count = sum(1 for _ in segments)
    return time.perf_counter() - started, time.process_time() - cpu, count


def pipeline_run(path: Path, transcriber: Transcriber) -> tuple[float, float, int]:
    """The podigest Transcriber: windowed decoding, guards, sentence split."""
    started, cpu = time.perf_counter(), time.process_time()
    result = transcriber.transcribe(path)
    return time.perf_counter() - started, time.process_time() - cpu, len(result.segments)


def make_transcriber(args: argparse.Namespace) -> Transcriber:
    return Transcriber(
        "base",
        batch_size=args.batch_size,
        beam_size=args.beam_size,
        cpu_threads=args.cpu_threads,
        models_dir=Path(args.models_dir),
    )


def compare(args: argparse.Namespace, workdir: Path) -> dict:
    """Interleaved runs of bare and pipeline on the same file; the best of each counts."""
    path = workdir / "speech.mp3"
    duration = make_audio(path, args.minutes)
    transcriber = make_transcriber(args)
    transcriber.transcribe(speech.clip(PARAGRAPHS[0]))
    bare, ours = [], []
    for _ in range(args.repeats):
        bare.append(bare_run(path, transcriber))
        ours.append(pipeline_run(path, transcriber))
    bare_s, ours_s = min(r[0] for r in bare), min(r[0] for r in ours)
    bare_cpu, ours_cpu = min(r[1] for r in bare), min(r[1] for r in ours)
    return {
        "audio_s": round(duration, 1),
        "bare_s": round(bare_s, 2),
        "pipeline_s": round(ours_s, 2),
        "ratio": round(ours_s / bare_s, 3),
        "bare_speed_x": round(duration / bare_s, 1),
        "pipeline_speed_x": round(duration / ours_s, 1),
        "bare_cpu_s": round(bare_cpu, 2),
        "pipeline_cpu_s": round(ours_cpu, 2),
        "cpu_ratio": round(ours_cpu / bare_cpu, 3),
        "bare_segments": bare[-1][2],
        "pipeline_segments": ours[-1][2],
        "runs": {"bare_s": [round(r[0], 2) for r in bare], "pipeline_s": [round(r[0], 2) for r in ours]},
    }


def child_long(args: argparse.Namespace) -> None:
    """In a child process: transcribe the long file one way and print a JSON line."""
    transcriber = make_transcriber(args)
    path = Path(args.child_long)
    run = bare_run if args.child_mode == "bare" else pipeline_run
    elapsed, _, count = run(path, transcriber)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"elapsed_s": elapsed, "segments": count, "peak_kb": peak_kb}))


def long_run(args: argparse.Namespace, workdir: Path, mode: str, path: Path, duration: float) -> dict:
    """Peak RSS (the child's own getrusage) of a child process that transcribes the long file (`mode`: pipeline or bare)."""
    command = [sys.executable, __file__, "--child-long", str(path), "--child-mode", mode]
    command += ["--batch-size", str(args.batch_size), "--beam-size", str(args.beam_size)]
    command += ["--cpu-threads", str(args.cpu_threads), "--models-dir", args.models_dir]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "mode": mode,
        "audio_s": round(duration, 1),
        "elapsed_s": round(report["elapsed_s"], 1),
        "speed_x": round(duration / report["elapsed_s"], 1),
        "segments": report["segments"],
        "peak_rss_gb": round(report["peak_kb"] / 1024**2, 3),
    }


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the speed-comparison audio")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--long-minutes", type=float, default=180.0)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--long-bare", action="store_true", help="also measure bare faster-whisper's peak")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument("--models-dir", default=str(settings.models_dir()))
    parser.add_argument("--child-long", help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", default="pipeline", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_long:
        child_long(args)
        return

    with tempfile.TemporaryDirectory(prefix="podigest-bench-") as tmp:
        workdir = Path(tmp)
        speed = compare(args, workdir)
        print(
            f"audio            {speed['audio_s']:.0f} s of speech (MP3), beam {args.beam_size}, batch {args.batch_size}"
        )
        print(f"bare whisper     {speed['bare_s']:.2f} s  ({speed['bare_speed_x']}x real time)")
        print(f"podigest         {speed['pipeline_s']:.2f} s  ({speed['pipeline_speed_x']}x real time)")
        print(
            f"CPU time         bare {speed['bare_cpu_s']:.2f} s, podigest {speed['pipeline_cpu_s']:.2f} s, "
            f"ratio {speed['cpu_ratio']:.3f} (steadier than wall time on a shared machine)"
        )
        print(
            f"ratio            {speed['ratio']:.3f}  (target <= {TARGET_RATIO}: {verdict(speed['ratio'] <= TARGET_RATIO)})"
        )
        fast = speed["pipeline_speed_x"] >= TARGET_SPEED
        print(f"real-time factor {speed['pipeline_speed_x']}x  (target >= {TARGET_SPEED}x: {verdict(fast)})")
        print(json.dumps(speed))
        if args.skip_long:
            return
        long_path = workdir / "long.mp3"
        started = time.perf_counter()
        duration = make_audio(long_path, args.long_minutes, gap_s=20.0)
        print(
            f"long audio       {duration / 3600:.2f} h written in {time.perf_counter() - started:.0f} s "
            f"({long_path.stat().st_size / 1e6:.0f} MB MP3)"
        )
        modes = ["pipeline", "bare"] if args.long_bare else ["pipeline"]
        for mode in modes:
            report = long_run(args, workdir, mode, long_path, duration)
            ok = report["peak_rss_gb"] <= TARGET_PEAK_GB
            print(
                f"long {mode:<11} peak RSS {report['peak_rss_gb']:.2f} GB (target <= {TARGET_PEAK_GB}: "
                f"{verdict(ok)}), {report['elapsed_s']:.0f} s, {report['speed_x']}x real time"
            )
            print(json.dumps(report))


if __name__ == "__main__":
    main()
