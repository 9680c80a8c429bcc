"""Passage pairs worth a same-claim hand label, mined from the product's own candidates on the real days.

    .venv/bin/python bench/mine_support_pairs.py [--out DIR] [--dev 110] [--heldout 70]

bench/real_eval.py --dump-pairs takes the pairs one digest run produced (its support, its clusters, its
hard negatives). This takes the pairs support would meet on any day: for each split of bench/real_days.json,
every day's episodes go through the product's candidate extraction (`extract_candidates`, as `podigest
run` does, sponsor reads and banter removed), the candidates at or above the quality floor are pooled,
and the closest pairs of passages from two different shows (the clustering's hybrid similarity: cosine
plus shared words) are kept, at most three per passage, plus every further pair `claims.same_claim` says
yes to. Pairs already in bench/support_pairs.json are skipped.

Written outside the repository (the text belongs to the shows): `<out>/mined-pairs.json` (each pair's
spans, the rule's answer and both texts) and `<out>/mined-pairs.md` to read. A label goes into
bench/support_pairs.json as {"a": span, "b": span, "same_claim": ..., "note": ..., "kind": "mined",
"day": <day of A>}: spans only, never the text. Takes about six minutes (every day's sentences embedded).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_corpus import corpus_dir, load_index, load_manifest  # noqa: E402
from real_eval import DEFAULT_LABELS, default_root, load_pair_labels  # noqa: E402

PER_PASSAGE = 3
NEIGHBOURS = 15


def _key(ref: dict) -> tuple[str, float]:
    return ref["episode_id"], round(float(ref["start_s"]), 1)


def day_candidates(corpus: Path, index: dict, manifest: dict, embed) -> dict[str, list[dict]]:
    """Each composed day's kept candidates, as the product extracts them from the day's timed episodes."""
    from podigest_dagster.core.insights.candidates import EpisodeTranscript, extract_candidates
    from podigest_dagster.core.transcribe.publisher import parse_transcript

    out: dict[str, list[dict]] = {}
    for day, spec in manifest["days"].items():
        episodes = []
        for eid in spec["episode_ids"]:
            ep = index[eid]
            if not ep.timestamps:
                continue
            segments = parse_transcript((corpus / ep.file).read_bytes(), ep.mime, ep.file)
            episodes.append(EpisodeTranscript(
                episode_id=eid, podcast=ep.show, title=ep.title, feed_url=f"corpus:{ep.show_slug}",
                segments=segments, language="en",
            ))
        kept = extract_candidates(episodes, embed=embed).kept
        out[day] = [
            {"episode_id": c.episode_id, "show": c.podcast, "start_s": c.start_s, "end_s": c.end_s,
             "text": c.text, "score": c.score, "day": day}
            for c in kept
        ]
        print(f"{day}: {len(kept)} candidates", flush=True)
    return out


def mine(pool: list[dict], labelled: set, wanted: int, embed) -> list[dict]:
    """The closest cross-show pairs of one split's pool (see the module docstring)."""
    from podigest_dagster.core.insights.claims import same_claim
    from podigest_dagster.core.insights.clustering import LEXICAL_WEIGHT, embed_passages, lexical_matrix

    texts = [c["text"] for c in pool]
    vectors, sentence_vectors = embed_passages(texts, embed)
    cosine = vectors @ vectors.T
    hybrid = cosine + LEXICAL_WEIGHT * lexical_matrix(texts)
    closest = set()
    for i in range(len(pool)):
        for j in (int(j) for j in np.argsort(-hybrid[i])[:NEIGHBOURS]):
            if i != j and pool[i]["show"] != pool[j]["show"]:
                closest.add((float(hybrid[i, j]), min(i, j), max(i, j)))
    ranked = sorted(closest, reverse=True)
    picked, used = [], {}
    for similarity, i, j in ranked:
        if tuple(sorted([_key(pool[i]), _key(pool[j])])) in labelled:
            continue
        if used.get(i, 0) >= PER_PASSAGE or used.get(j, 0) >= PER_PASSAGE:
            continue
        best = max(float(cosine[i, j]), float(np.max(sentence_vectors[i] @ sentence_vectors[j].T)))
        rule = same_claim(texts[i], texts[j], best)
        if len(picked) < wanted or rule:
            used[i], used[j] = used.get(i, 0) + 1, used.get(j, 0) + 1
            picked.append({"hybrid": round(similarity, 3), "cosine": round(best, 3), "rule": rule,
                           "a": pool[i], "b": pool[j]})
    return picked


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="output folder (default $PODIGEST_HOME/real-eval/mined; outside the repo)")
    parser.add_argument("--dev", type=int, default=110, help="closest pairs to keep from the dev days")
    parser.add_argument("--heldout", type=int, default=70, help="closest pairs to keep from the held-out days")
    args = parser.parse_args(argv)
    from podigest_dagster.core.insights.claims import QUALITY_FLOOR
    from podigest_dagster.core.insights.embedding import Embedder

    corpus, manifest = corpus_dir(None), load_manifest(None)
    index = load_index(corpus)
    labelled = {tuple(sorted([_key(p["a"]), _key(p["b"])])) for p in load_pair_labels(DEFAULT_LABELS)}
    embed = Embedder().embed
    by_day = day_candidates(corpus, index, manifest, embed)
    pairs = []
    for split, wanted in (("dev", args.dev), ("heldout", args.heldout)):
        pool, seen = [], set()
        for day, candidates in by_day.items():
            if manifest["days"][day]["split"] != split:
                continue
            for c in candidates:
                if c["score"] >= QUALITY_FLOOR and _key(c) not in seen:
                    seen.add(_key(c))
                    pool.append(c)
        found = mine(pool, labelled, wanted, embed)
        print(f"{split}: {len(pool)} passages at or above the floor, {len(found)} pairs "
              f"({sum(p['rule'] for p in found)} the rule calls the same claim)")
        pairs += [{"split": split, **p} for p in found]
    out = Path(args.out) if args.out else default_root() / "real-eval" / "mined"
    out.mkdir(parents=True, exist_ok=True)
    (out / "mined-pairs.json").write_text(json.dumps(pairs, indent=1), encoding="utf-8")
    with (out / "mined-pairs.md").open("w", encoding="utf-8") as md:
        for n, p in enumerate(pairs):
            md.write(f"## pair {n} ({p['split']}, rule {'same' if p['rule'] else 'different'})\n")
            md.write(f"A ({p['a']['show']}): {p['a']['text']}\n\nB ({p['b']['show']}): {p['b']['text']}\n\n")
    print(f"written: {out / 'mined-pairs.json'}, {out / 'mined-pairs.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
