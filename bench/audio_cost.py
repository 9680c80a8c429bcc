"""What audio costs a day: bytes downloaded, the audio cache before and after, and the run time, for this tree
side by side with an earlier commit (default 241feef, before audio was fetched only when needed), in one run.

    .venv/bin/python bench/audio_cost.py [--baseline 241feef] [--day 2026-09-21] [--mbps 100] [--kbps 128] [--runs 3]

Two composed days, each served as RSS feeds on 127.0.0.1 and run with `podigest -q run` in a fresh
PODIGEST_HOME per tree, as cron would:

- with publisher transcripts: a composed day of the real-podcast corpus (bench/real_days.json; its real
  transcripts linked with `<podcast:transcript>`, their declared durations), each enclosure an MP3 of the
  size a real episode of that length has at `--kbps` (silent frames: nothing transcribes it);
- without: the demo's four speech episodes of 2026-11-27 (bundled), no transcript linked, so every one is
  downloaded and transcribed by Whisper.

Enclosures are served at `--mbps` (a home connection; 0: as fast as loopback goes), so a download costs
the time it would. This tree runs twice per day: with the default retention (7 days) and with
PODIGEST_AUDIO_RETENTION_DAYS=0. Each configuration runs `--runs` times, in alternating order (a machine
busy with other work slows all alike); the table gives the median run time and its range, and the median
CPU time (user + system) of the run's processes, which other work on the machine changes less. The audio
cache is measured before the run, every half second during it (peak) and after it. The earlier commit is
extracted with `git archive` (read-only for the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_corpus import REPO, corpus_dir, load_index, load_manifest  # noqa: E402

DEMO_DAY = "2026-11-27"
EXIT_RUN_FAILED = 3  # a step failed: its audio and run time still count (the failure is printed)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Episode:
    """One item of a served day: its feed, audio (file or size) and transcript (None: not linked)."""

    key: str
    show: str
    title: str
    published: datetime
    duration_s: float
    audio_bytes: int
    audio_file: Path | None = None
    transcript: Path | None = None
    transcript_type: str = ""


def silent_frame(kbps: int) -> bytes:
    """One MPEG-1 layer III frame of silence at `kbps`, 44.1 kHz (what a long enclosure is made of)."""
    index = {32: 1, 40: 2, 48: 3, 56: 4, 64: 5, 80: 6, 96: 7, 112: 8, 128: 9, 160: 10, 192: 11, 256: 13, 320: 14}
    size = 144 * kbps * 1000 // 44100
    header = bytes([0xFF, 0xFB, index[kbps] << 4, 0xC4])
    return header + bytes(size - len(header))


class DayServer:
    """The day's feeds, transcripts and enclosures on 127.0.0.1, enclosures at `mbps`; counts what it sends."""

    def __init__(self, episodes: list[Episode], kbps: int, mbps: float) -> None:
        self.episodes = {e.key: e for e in episodes}
        self.frame = silent_frame(kbps)
        self.rate = mbps * 1e6 / 8
        self.sent = {"audio": 0, "transcripts": 0}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def reset(self) -> None:
        self.sent = dict.fromkeys(self.sent, 0)

    def feeds_yaml(self) -> str:
        shows = sorted({e.show for e in self.episodes.values()})
        return "feeds:\n" + "".join(f"  - url: {json.dumps(self.base + '/feeds/' + quote(s) + '.xml')}\n" for s in shows)

    def feed(self, show: str) -> bytes:
        items = []
        for e in (e for e in self.episodes.values() if e.show == show):
            link = (f"<podcast:transcript url={quoteattr(self.base + '/transcripts/' + e.key)} "
                    f"type={quoteattr(e.transcript_type)}/>") if e.transcript else ""  # fmt: skip
            items.append(
                f"<item><title>{escape(e.title)}</title><guid isPermaLink=\"false\">{escape(e.key)}</guid>"
                f"<pubDate>{format_datetime(e.published)}</pubDate>"
                f"<enclosure url={quoteattr(self.base + '/audio/' + e.key + '.mp3')} length=\"{e.audio_bytes}\" "
                f"type=\"audio/mpeg\"/><itunes:duration>{int(e.duration_s)}</itunes:duration>{link}</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0">'
            f"<channel><title>{escape(show)}</title>{''.join(items)}</channel></rss>"
        ).encode()

    def audio_chunks(self, e: Episode):
        if e.audio_file is not None:
            body = e.audio_file.read_bytes()
            yield from (body[i : i + CHUNK] for i in range(0, len(body), CHUNK))
            return
        frames, left = CHUNK // len(self.frame), e.audio_bytes
        block = self.frame * frames
        while left > 0:
            yield block[:left]
            left -= len(block)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def send(self, status: int, kind: str, length: int) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                kind, _, name = unquote(urlsplit(self.path).path).lstrip("/").partition("/")
                if kind == "feeds":
                    body = server.feed(name.removesuffix(".xml"))
                    self.send(200, "application/rss+xml", len(body))
                    self.wfile.write(body)
                    return
                e = server.episodes.get(name.removesuffix(".mp3"))
                if kind == "transcripts" and e is not None and e.transcript is not None:
                    body = e.transcript.read_bytes()
                    self.send(200, e.transcript_type, len(body))
                    self.wfile.write(body)
                    server.count("transcripts", len(body))
                elif kind == "audio" and e is not None:
                    size = e.audio_file.stat().st_size if e.audio_file else e.audio_bytes
                    self.send(200, "audio/mpeg", size)
                    started, sent = time.monotonic(), 0
                    try:
                        for chunk in server.audio_chunks(e):
                            self.wfile.write(chunk)
                            sent += len(chunk)
                            server.count("audio", len(chunk))
                            if server.rate:
                                time.sleep(max(0.0, sent / server.rate - (time.monotonic() - started)))
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                else:
                    self.send(404, "text/plain", 0)

        return Handler

    def count(self, kind: str, size: int) -> None:
        with self.lock:
            self.sent[kind] += size

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def corpus_day(day: str, kbps: int) -> list[Episode]:
    corpus = corpus_dir()
    index = load_index(corpus)
    entry = load_manifest()["days"][day]
    out = []
    for item in entry["episodes"]:
        ep = index[item["episode_id"]]
        published = datetime.strptime(item["published_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        size = int((ep.duration_s or 3600) * kbps * 1000 / 8)
        out.append(Episode(ep.episode_id, ep.show, ep.title, published, ep.duration_s or 3600, size, None,
                           corpus / ep.file, ep.mime))  # fmt: skip
    return out


def demo_day() -> list[Episode]:
    sys.path.insert(0, str(REPO))
    from podigest_dagster.settings import demo_dir

    out = []
    for n, path in enumerate(sorted((demo_dir() / "audio").glob(f"*-{DEMO_DAY}*.mp3"))):
        show = path.name.split(f"-{DEMO_DAY}")[0].replace("-", " ").title()
        published = datetime.fromisoformat(f"{DEMO_DAY}T0{6 + n}:00:00+00:00")
        duration = _mp3_seconds(path)
        out.append(Episode(path.stem, show, path.stem, published, duration, path.stat().st_size, path))
    return out


def _mp3_seconds(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1e6


def extract(commit: str, root: Path) -> Path:
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    target = root / f"src-{sha[:12]}"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def environment(tree: Path, home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIGEST_", "DAGSTER_"))}
    env.update({"PYTHONPATH": str(tree), "PODIGEST_HOME": str(home), "PODIGEST_ALLOW_PRIVATE_NETWORK": "1",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True", **extra})  # fmt: skip
    return env


def prepare(tree: Path, scratch: Path, models: Path) -> None:
    """dbt's manifest and the Whisper model, before any timing."""
    home = scratch / f"prepare-{tree.name}"
    home.mkdir()
    (home / "models").symlink_to(models, target_is_directory=True)
    done = subprocess.run([sys.executable, "-m", "podigest_dagster.cli", "-q", "prepare"], cwd=tree,
                          env=environment(tree, home, {}), capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"`podigest prepare` failed in {tree}:\n{done.stderr[-2000:]}")


def disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


class Peak:
    """The largest size a folder reaches while the `with` block runs (sampled every half second)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self.done = folder, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.5):
            try:
                self.peak = max(self.peak, disk(self.folder))
            except OSError:  # a file deleted while it was summed
                continue

    def __enter__(self) -> Peak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, disk(self.folder))


def run(tree: Path, home: Path, server: DayServer, day: str, models: Path, extra: dict[str, str]) -> dict:
    home.mkdir(parents=True)
    (home / "models").symlink_to(models, target_is_directory=True)
    feeds = home / "feeds.yaml"
    feeds.write_text(server.feeds_yaml(), encoding="utf-8")
    before = disk(home / "audio")
    server.reset()
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    with Peak(home / "audio") as peak:
        done = subprocess.run([sys.executable, "-m", "podigest_dagster.cli", "-q", "run", "--date", day, "--feeds",
                               str(feeds), "--force"], cwd=tree, env=environment(tree, home, extra),
                              capture_output=True, text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    cpu_s = _children_cpu_s() - cpu_before
    if done.returncode not in (0, EXIT_RUN_FAILED):
        raise SystemExit(f"the run in {tree} failed:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}")
    failed = next((line for line in done.stderr.splitlines() if "failed at" in line), "")
    return {"audio_bytes": server.sent["audio"], "transcript_bytes": server.sent["transcripts"],
            "disk_before": before, "disk_peak": peak.peak, "disk_after": disk(home / "audio"), "seconds": seconds, "cpu_s": cpu_s,
            "failed": failed.split("failed at ", 1)[-1].split(":")[0] if failed else ""}  # fmt: skip


def _children_cpu_s() -> float:
    """User + system CPU seconds of the finished child processes (the run and every process it started)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="241feef", help="the earlier commit to compare with")
    parser.add_argument("--day", default="2026-09-21", help="the composed real day with publisher transcripts")
    parser.add_argument("--kbps", type=int, default=128, help="bit rate of the long enclosures")
    parser.add_argument("--mbps", type=float, default=100.0, help="download speed of enclosures (0: no limit)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each configuration (median run time)")
    args = parser.parse_args(argv)
    models = Path(os.environ.get("PODIGEST_HOME") or Path.home() / ".podigest") / "models"
    days = {"with publisher transcripts": (args.day, corpus_day(args.day, args.kbps)),
            "without (Whisper)": (DEMO_DAY, demo_day())}  # fmt: skip
    found: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="audio-cost-") as scratch_dir:
        scratch = Path(scratch_dir)
        trees = {f"{args.baseline} (before)": extract(args.baseline, scratch), "this tree": REPO}
        models.mkdir(parents=True, exist_ok=True)
        for tree in trees.values():
            prepare(tree, scratch, models)
        configs = [(name, tree, {}) for name, tree in trees.items()]
        configs.append(("this tree, retention 0", REPO, {"PODIGEST_AUDIO_RETENTION_DAYS": "0"}))
        for label, (day, episodes) in days.items():
            hours = sum(e.duration_s for e in episodes) / 3600
            title = f"{label}: {day}, {len(episodes)} episodes, {hours:.1f} h"
            server = DayServer(episodes, args.kbps, args.mbps)
            try:
                for k in range(args.runs):
                    for name, tree, extra in configs if k % 2 == 0 else configs[::-1]:
                        home = scratch / f"home-{len(found)}-{k}-{name.split()[0]}-{len(extra)}"
                        result = run(tree, home, server, day, models, extra)
                        found.setdefault((title, name), []).append(result)
                        print(f"{title} | {name} | run {k + 1}: {result}", flush=True)
                        shutil.rmtree(home, ignore_errors=True)
            finally:
                server.close()
    print(f"\nenclosures at {args.kbps} kbps, served at {args.mbps:g} Mbit/s; a fresh PODIGEST_HOME per run; "
          f"median run time of {args.runs} (range)\n")  # fmt: skip
    print("| day | tree | audio downloaded | transcripts downloaded | audio cache before | peak | after | run time "
          "| CPU time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (title, name), results in found.items():
        first, times, cpu = results[0], [r["seconds"] for r in results], [r["cpu_s"] for r in results]
        note = f", failed at {first['failed']}" if first["failed"] else ""
        print(f"| {title} | {name} | {megabytes(first['audio_bytes'])} | {megabytes(first['transcript_bytes'])} | "
              f"{megabytes(first['disk_before'])} | {megabytes(first['disk_peak'])} | {megabytes(first['disk_after'])} | "
              f"{statistics.median(times):.1f} s ({min(times):.0f}-{max(times):.0f}{note}) | "
              f"{statistics.median(cpu):.1f} s ({min(cpu):.0f}-{max(cpu):.0f}) |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
