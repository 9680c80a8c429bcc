"""Search benchmark: query latency over 1,000 episode-hours of transcript, and what a new day costs the index.

    .venv/bin/python bench/search.py                     # 1,000 one-hour episodes over 100 days
    .venv/bin/python bench/search.py --hours 100         # a quicker run

The text is synthesised by repeating the benchmark corpus (every line of the synthetic podcast days of
bench/synthetic_days.py and the demo shows): each episode is a random draw of its lines, one transcript
segment per line (about 600 an hour, the rate of real speech in Whisper segments), one insight passage per
4 segments with the line's MiniLM embedding. The index is built by podigest's own code: the first 99 days
as a rebuild would (one create_fts_index), then the last day added as the search_index asset adds a day,
then that day re-run. Queries run through `search()` on a read-only connection, as `podigest search` and
`podigest site serve` do; the query's embedding (MiniLM on CPU) is timed on its own.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from podigest_dagster import settings  # noqa: E402

settings.use_offline_environment()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from podigest_dagster.core.insights.embedding import Embedder  # noqa: E402
from podigest_dagster.core.search import store  # noqa: E402
from podigest_dagster.core.search.query import open_index, search  # noqa: E402
from podigest_dagster.warehouse.db import derived_write_connection  # noqa: E402

QUERIES = [
    "heat pumps",
    "index funds fees",
    "parking",
    "sleep and heart disease",
    "why do restaurants make money on drinks",
    "judges sentencing",
    "battery prices electric cars",
    "mortgage interest rates inflation",
    "compressor",
    "what replaces gas boilers in cold weather",
    "octopus",
    "zzyzx",
]
SEGMENTS_PER_HOUR = 600
SEGMENTS_PER_PASSAGE = 4
FIRST_DAY = date(2025, 1, 1)


def corpus() -> list[str]:
    """Every spoken line of the benchmark's synthetic podcast days and of the demo shows."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synthetic_days import scenarios

    from podigest_dagster.demo.scripts import DEMO_DAYS

    days = [d for s in scenarios("all") for d in (s.previous, s.day)] + list(DEMO_DAYS)
    lines = {line.text for day in days for episode in day.episodes for line in episode.lines}
    return sorted(line for line in lines if len(line.split()) >= 4)


def synthetic_day(day_index: int, episodes: int, lines: list[str], vectors: np.ndarray, rng: random.Random) -> store.DayRows:
    """One day of `episodes` one-hour episodes, each a random draw of corpus lines."""
    day = FIRST_DAY + timedelta(days=day_index)
    episode_rows, segment_rows, passage_rows = [], [], []
    for number in range(episodes):
        episode_id = f"d{day_index:03d}-e{number:02d}"
        show = f"Show {(day_index * episodes + number) % 40:02d}"
        episode_rows.append([episode_id, day, show, f"{show}, episode {episode_id}",
                             f"https://cdn.example.org/{episode_id}.mp3", f"https://example.org/{episode_id}"])  # fmt: skip
        picks = [rng.randrange(len(lines)) for _ in range(SEGMENTS_PER_HOUR)]
        for seq, pick in enumerate(picks):
            segment_rows.append([episode_id, day, seq, seq * 6.0, seq * 6.0 + 6.0, lines[pick]])
            if seq % SEGMENTS_PER_PASSAGE == 0:
                passage_rows.append([f"{episode_id}-{seq}", day, episode_id, seq * 6.0, seq * 6.0 + 12.0,
                                     lines[pick], vectors[pick]])  # fmt: skip
    return store.DayRows(
        day,
        pd.DataFrame(episode_rows, columns=["episode_id", "partition_date", "podcast", "title", "audio_url", "link"]),
        pd.DataFrame(segment_rows, columns=["episode_id", "partition_date", "seq", "start_s", "end_s", "text"]),
        pd.DataFrame(passage_rows, columns=["candidate_id", "partition_date", "episode_id", "start_s", "end_s", "text", "embedding"]),
    )  # fmt: skip


CPU_TIMES: list[float] = []


def timed(run, repeats: int) -> tuple[float, object]:
    """Median wall time of `repeats` runs (after one warm-up), and the last result; the median CPU time
    (all threads of this process) goes to CPU_TIMES, a figure a machine busy with other work inflates less."""
    result = run()
    times, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = run()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    CPU_TIMES.append(statistics.median(cpu))
    return statistics.median(times), result


def remembered(embed):
    """The embedder with each query's vector kept: the index's own work is timed apart from the model's."""
    cache: dict[str, np.ndarray] = {}

    def run(texts: list[str]) -> np.ndarray:
        key = "\n".join(texts)
        if key not in cache:
            cache[key] = embed(texts)
        return cache[key]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=1000, help="episode-hours of transcript (one-hour episodes)")
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", help="where to write search.duckdb (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="podigest-search-bench-"))
    path = folder / "search.duckdb"
    path.unlink(missing_ok=True)
    per_day = max(args.hours // args.days, 1)
    lines = corpus()
    embedder = Embedder()
    started = time.perf_counter()
    vectors = embedder.embed(lines)
    print(f"corpus: {len(lines)} distinct lines, embedded in {time.perf_counter() - started:.1f}s")
    rng = random.Random(7)

    started = time.perf_counter()
    days = (synthetic_day(i, per_day, lines, vectors, rng) for i in range(args.days - 1))
    with derived_write_connection(path) as conn:
        totals = store.rebuild(conn, days)
    build_s = time.perf_counter() - started
    last = synthetic_day(args.days - 1, per_day, lines, vectors, rng)
    with derived_write_connection(path) as conn:
        store.prepare(conn)
        started = time.perf_counter()
        store.replace_day(conn, last)
        add_s = time.perf_counter() - started
        started = time.perf_counter()
        store.replace_day(conn, last)
        rerun_s = time.perf_counter() - started
        summary = store.index_summary(conn)
    size_mb = path.stat().st_size / 1e6
    hours = summary["episodes"]
    print(f"index: {hours} episode-hours over {summary['days']} days: {summary['segments']:,} segments, "
          f"{summary['passages']:,} passages with embeddings; {size_mb:,.0f} MB")  # fmt: skip
    print(f"build of the first {totals['days']} days (insert + one create_fts_index): {build_s:.1f}s; "
          f"adding day {args.days} ({len(last.segments):,} segments): {add_s:.2f}s; re-running it: {rerun_s:.2f}s")  # fmt: skip

    embed_s, _ = timed(lambda: embedder.embed(["battery prices electric cars"]), args.repeats)
    print(f"query embedding (MiniLM, CPU): {embed_s * 1000:.0f} ms median, not included below\n")
    embed = remembered(embedder.embed)
    print(f"{'query':44} {'words':>8} {'meaning':>8} {'both':>8} {'open+both':>10}  hits  top hit")
    rows = {"words": [], "meaning": [], "both": [], "open": []}
    with open_index(path) as conn:
        for query in QUERIES:
            words_s, _ = timed(lambda q=query: search(conn, q, mode="words"), args.repeats)
            meaning_s, _ = timed(lambda q=query: search(conn, q, embed=embed, mode="meaning"), args.repeats)
            both_s, hits = timed(lambda q=query: search(conn, q, embed=embed), args.repeats)

            def reopen(q=query):
                with open_index(path) as fresh:
                    return search(fresh, q, embed=embed)

            open_s, _ = timed(reopen, max(args.repeats // 2, 1))
            for key, value in (("words", words_s), ("meaning", meaning_s), ("both", both_s), ("open", open_s)):
                rows[key].append(value)
            for key, value in zip(("words_cpu", "meaning_cpu", "both_cpu", "open_cpu"), CPU_TIMES[-4:], strict=True):
                rows.setdefault(key, []).append(value)
            top = "".join(f.text for f in hits[0].snippet)[:40] if hits else "-"
            print(f"{query[:44]:44} {words_s * 1000:7.0f}ms {meaning_s * 1000:7.0f}ms {both_s * 1000:7.0f}ms "
                  f"{open_s * 1000:9.0f}ms  {len(hits):4}  {top}")  # fmt: skip
    print()
    for key, label in (("words", "words (BM25)"), ("meaning", "meaning (cosine scan)"), ("both", "words + meaning"),
                       ("open", "open index + words + meaning")):  # fmt: skip
        values = sorted(rows[key])
        p90 = values[min(int(len(values) * 0.9), len(values) - 1)]
        print(f"{label:30} median {statistics.median(values) * 1000:6.0f} ms   p90 {p90 * 1000:6.0f} ms   "
              f"max {values[-1] * 1000:6.0f} ms   (CPU, both threads: median "
              f"{statistics.median(rows[key + '_cpu']) * 1000:.0f} ms)")  # fmt: skip
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.dir:
        print(f"\n(index left in {folder}; delete it when done)")


if __name__ == "__main__":
    main()
