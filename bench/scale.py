"""Scale benchmark: the same day of podcasts through the Celery executor on 1 and on 2 workers, each worker
limited to one CPU thread (Whisper, ONNX/torch), so the comparison is fair on this 2-core machine.

    .venv/bin/python bench/scale.py                 # six episodes, 1 then 2 workers
    .venv/bin/python bench/scale.py --repeat 2      # each episode's speech said twice (longer audio)

Each measurement starts its own PostgreSQL (Dagster instance + DuckLake catalog) and Redis, so the second
does not profit from the first's warehouse; the audio is the same espeak-ng speech (cached for the session).
Prints wall time per worker count, the transcription steps each worker ran, and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from podigest_dagster import settings  # noqa: E402

settings.use_offline_environment()

import dagster as dg  # noqa: E402

from podigest_dagster_tests.scale.cluster import (  # noqa: E402
    DAY_EPISODES,
    TRANSCRIBE_STEP,
    celery_hosts,
    cluster,
    environment,
    run_day,
    serve_day,
)
from podigest_dagster_tests.support.http_server import serve  # noqa: E402

DAY = "2026-11-27"


def measure(workers: int, repeat: int, root: Path) -> tuple[float, dict[str, int], float]:
    """(wall seconds of the run, transcription steps per worker, seconds of audio) for one worker count."""
    server_gen = serve()
    http = next(server_gen)
    try:
        with cluster(root, threads=1) as c:
            serve_day(http, Path(c.env["PODIGEST_HOME"]), DAY, DAY_EPISODES, repeat=repeat)
            for n in range(1, workers + 1):
                c.start_worker(f"w{n}")
            c.wait_ready()
            with environment(c.env), dg.DagsterInstance.get() as instance:
                started = time.perf_counter()
                run_id, ok = run_day(DAY, instance)
                wall = time.perf_counter() - started
                if not ok:
                    raise SystemExit(f"the run with {workers} worker(s) failed:\n" + c.log_tail("w1"))
                hosts = celery_hosts(instance, run_id)
                from podigest_dagster.warehouse.db import read_connection

                with read_connection(c.env["PODIGEST_WAREHOUSE"]) as conn:
                    [(audio_s,)] = conn.execute(
                        "SELECT coalesce(sum(audio_duration_s), 0) FROM transcripts WHERE partition_date = ?",
                        [DAY],
                    ).fetchall()
        steps = Counter(h[0].split("@")[0] for k, h in hosts.items() if k.startswith(TRANSCRIBE_STEP))
        return wall, dict(sorted(steps.items())), float(audio_s)
    finally:
        server_gen.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1, help="say each episode's text this many times")
    parser.add_argument(
        "--only", type=int, help=argparse.SUPPRESS
    )  # one measurement, in a process of its own
    args = parser.parse_args()
    if args.only:
        with tempfile.TemporaryDirectory(prefix="podigest-bench-scale-") as tmp:
            print("RESULT " + json.dumps(measure(args.only, args.repeat, Path(tmp))), flush=True)
        return
    results = {}
    for workers in (1, 2):
        # A process per measurement: Celery keeps its app (and its result-store connection) per process.
        done = subprocess.run(
            [sys.executable, __file__, "--only", str(workers), "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            raise SystemExit(f"the run with {workers} worker(s) failed:\n{done.stderr[-3000:]}")
        results[workers] = json.loads(lines[-1][len("RESULT ") :])
        print(f"bench-scale: {workers} worker(s) done in {results[workers][0]:.1f}s", flush=True)
    (one, steps1, audio), (two, steps2, _) = results[1], results[2]
    print()
    print(
        f"{len(DAY_EPISODES)} episodes, {audio:.0f} s of speech, Celery on Redis, DuckLake on PostgreSQL, "
        "1 CPU thread per worker"
    )
    print("| workers | wall time | transcription steps per worker |")
    print("| --- | --- | --- |")
    print(f"| 1 | {one:.1f} s | {steps1} |")
    print(f"| 2 | {two:.1f} s | {steps2} |")
    print(f"speed-up 1 -> 2 workers: {one / two:.2f}x (wall time ratio {two / one:.2f})")


if __name__ == "__main__":
    main()
