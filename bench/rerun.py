"""Nothing to do costs little: the demo day run for the first time, then again, in a fresh PODIGEST_HOME.

Each run is the whole `podigest -q run` command in its own process, as cron would start it, timed from
start to exit. The re-run finds the day up to date (run_seal.py) and starts no Dagster run; the forced
re-run (`--force`) is a full Dagster run with nothing to do: no model loaded, dbt skipped. Target: the
re-run takes at most 10% of the first run.

    .venv/bin/python bench/rerun.py [--repeat 3] [--home DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.10


def podigest(home: Path, *args: str) -> tuple[float, str]:
    """Run the CLI in a fresh process; its wall time and its output (raises when it fails)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIGEST_", "DAGSTER_"))}
    env["PODIGEST_HOME"] = str(home)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "podigest_dagster.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"podigest {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, (done.stdout + done.stderr).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="re-runs of each kind (the median is shown)")
    parser.add_argument("--home", help="PODIGEST_HOME to use (must not exist yet; default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the PODIGEST_HOME afterwards")
    args = parser.parse_args()

    from podigest_dagster import demo

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="podigest-rerun-"))
    if args.home:
        home.mkdir(parents=True, exist_ok=False)
    try:
        feeds = demo.write_demo_feeds_yaml(home / "demo-feeds.yaml")
        command = ("-q", "run", "--date", demo.DEMO_DATE, "--feeds", str(feeds))
        first, said = podigest(home, *command)
        print(f"first run:  {first:7.1f} s   {said}", flush=True)
        reruns, forced = [], []
        for _ in range(args.repeat):
            seconds, said = podigest(home, *command)
            reruns.append(seconds)
            print(f"re-run:     {seconds:7.1f} s   {said}", flush=True)
        for _ in range(args.repeat):
            seconds, said = podigest(home, *command, "--force")
            forced.append(seconds)
            print(f"--force:    {seconds:7.1f} s   {said}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    rerun, forced_run = statistics.median(reruns), statistics.median(forced)
    print()
    print(f"demo day {demo.DEMO_DATE}, fresh PODIGEST_HOME, median of {args.repeat} re-runs")
    print("| run | wall time | share of the first run |")
    print("| --- | --- | --- |")
    print(f"| first run | {first:.1f} s | 100% |")
    print(f"| re-run (nothing changed: no Dagster run) | {rerun:.1f} s | {rerun / first:.1%} |")
    print(f"| re-run --force (Dagster run, no model, dbt skipped) | {forced_run:.1f} s | {forced_run / first:.1%} |")
    verdict = "met" if rerun <= TARGET * first else "NOT met"
    print(f"target: re-run <= {TARGET:.0%} of the first run: {verdict} (ratio {rerun / first:.3f})")


if __name__ == "__main__":
    main()
