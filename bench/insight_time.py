"""The insight stage on a ten-hour real day, the product against an earlier commit, side by side in one run.

    .venv/bin/python bench/insight_time.py [--day 2026-09-09] [--baseline d6a828d] [--runs 2]

Each run is a fresh process that reads the day's transcripts from the real-podcast corpus (the product's own
parser) and times `core/insights/pipeline.run_day` on them: candidates, embeddings, stories (clusters before
the value model) and the five, no LLM. Runs of the two trees alternate, so a machine busy with other work
slows both alike. Reported per tree: wall time with the models already in memory (the stage's own work), the
same with the models' loading, and for the product the share spent in spaCy (loading its pipeline and every
parse). The earlier commit is extracted with `git archive` (read-only for the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_corpus import REPO, corpus_dir, load_manifest  # noqa: E402

CHILD = r"""
import json, sys, time
from dataclasses import fields
day_ids, corpus = json.loads(sys.argv[1]), sys.argv[2]
from podigest_dagster import settings
settings.use_offline_environment()
started = time.perf_counter()
from podigest_dagster.core.insights import candidates as c
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.pipeline import run_day
from podigest_dagster.core.transcribe.publisher import parse_transcript
spacy_s = [0.0]
try:
    from podigest_dagster.core.insights import names
    parse = names.parse  # its first call loads the pipeline
    def timed_parse(texts):
        t = time.perf_counter(); out = parse(texts); spacy_s[0] += time.perf_counter() - t; return out
    names.parse = timed_parse
    import podigest_dagster.core.insights.stories as stories, podigest_dagster.core.insights.selection as selection
    stories.parse = timed_parse
except ImportError:
    pass
index = {e["episode_id"]: e for e in json.load(open(corpus + "/index.json"))}
notes = {}
try:
    notes = json.load(open(corpus + "/show_notes.json"))["notes"]
except OSError:
    pass
known = {f.name for f in fields(c.EpisodeTranscript)}
episodes = []
for eid in day_ids:
    e = index[eid]
    segments = parse_transcript(open(corpus + "/" + e["file"], "rb").read(), e["mime"], e["file"])
    extra = {"show_notes": notes.get(eid)} if "show_notes" in known else {}
    episodes.append(c.EpisodeTranscript(eid, e["show"], e["title"], "feed:" + e["show_slug"], segments, None,
                                        "http://corpus/audio/" + eid + ".wav", None, **extra))
embedder = Embedder()
cold_started = time.perf_counter()
embedder.embed(["warm up"])
loaded = time.perf_counter() - cold_started
t = time.perf_counter()
result = run_day(episodes, None, {}, embedder)
stage = time.perf_counter() - t
print(json.dumps({"stage_s": stage, "model_load_s": loaded, "spacy_s": spacy_s[0], "items": len(result.top),
                  "candidates": len(result.candidates)}))
"""


def extract(commit: str, root: Path) -> Path:
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    target = root / f"src-{sha[:12]}"
    if not (target / "podigest_dagster").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_once(tree: Path, ids: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(ids), str(corpus_dir())], env=env, cwd=tree,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the run in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", default="2026-09-09", help="a dev day of bench/real_days.json (2026-09-09: 9.9 h)")
    parser.add_argument("--baseline", default="d6a828d", help="the earlier commit to compare with")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    manifest = load_manifest()
    entry = manifest["days"][args.day]
    if entry["split"] != "dev":
        raise SystemExit(f"{args.day} is held out: time a dev day")
    index = {e["episode_id"]: e for e in json.loads((corpus_dir() / "index.json").read_text())}
    hours = sum(index[e]["duration_s"] or 0 for e in entry["episode_ids"]) / 3600
    with tempfile.TemporaryDirectory(prefix="insight-time-") as scratch:
        trees = {"baseline": extract(args.baseline, Path(scratch)), "product": REPO}
        found: dict[str, list[dict]] = {"baseline": [], "product": []}
        for k in range(args.runs):
            for name in ("baseline", "product") if k % 2 == 0 else ("product", "baseline"):
                found[name].append(run_once(trees[name], entry["episode_ids"]))
                print(f"run {k + 1} {name}: {found[name][-1]}", flush=True)
    print(f"\n{args.day}: {len(entry['episode_ids'])} episodes, {hours:.1f} h of audio; median of {args.runs} runs")
    print(f"{'tree':9} {'stage s':>8} {'with models s':>14} {'spaCy s':>8} {'items':>6}")
    medians = {}
    for name, runs in found.items():
        stage = statistics.median(r["stage_s"] for r in runs)
        cold = statistics.median(r["stage_s"] + r["model_load_s"] for r in runs)
        spacy_s = statistics.median(r["spacy_s"] for r in runs)
        medians[name] = (stage, cold, spacy_s)
        print(f"{name:9} {stage:8.1f} {cold:14.1f} {spacy_s:8.1f} {runs[0]['items']:6d}")
    base, prod = medians["baseline"], medians["product"]
    print(f"\nproduct / baseline: {prod[0] / base[0]:.2f} (stage), {prod[1] / base[1]:.2f} (with models); "
          f"spaCy is {prod[2] / prod[0]:.0%} of the product's stage "
          f"({prod[2] / max(prod[0] - prod[2], 1e-9):.0%} on top of the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
