"""Cross-show passage pairs of real days, labelled same story / not, for the story model (stories.py).

    .venv/bin/python bench/story_pairs.py mine --days D ... [--per-day 45]   # candidate pairs -> references
    .venv/bin/python bench/story_pairs.py packets --out DIR [--size 120]       # labelling packets (outside the repo)
    .venv/bin/python bench/story_pairs.py collect --out DIR                    # labellers' answers -> labels
    .venv/bin/python bench/story_pairs.py features                             # refresh the pairs' features
    .venv/bin/python bench/story_pairs.py score                                # the same-story rule on the labels

Mining runs the product's own candidate step on each day (the passages stories are made of), then keeps the
cross-show pairs of passages at or above the pool floor, in strata so that both kinds occur: the pairs most
alike by the story model's own signals (a shared name few passages say, and close embeddings), pairs close
in meaning that share no name, pairs sharing a name but far apart, and a few at random. References only are
kept (bench/story_pairs.json: episode, sentence range, times, a hash of each passage's text, and the story
model's features of the pair as the product computed them on its day); labels say
`same_story` (the same named event, product, deal, person's move or study) or not, and `same_field` (only
the same subject area)."""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from real_corpus import REPO, corpus_dir, load_index, load_manifest, load_show_notes, select_days  # noqa: E402

PAIRS = REPO / "bench" / "story_pairs.json"
STRATA = {"alike": 0.5, "close_unnamed": 0.2, "named_far": 0.2, "random": 0.1}
CONTEXT_WORDS = 70


def work_dir() -> Path:
    import os

    return Path(os.environ.get("PODIGEST_HOME") or Path.home() / ".podigest") / "story-pairs"


def day_candidates(day: str, manifest: dict):
    """The day's candidates and their embeddings as the product makes them (cached outside the repo)."""
    from podigest_dagster.core.insights.candidates import EpisodeTranscript, extract_candidates
    from podigest_dagster.core.insights.embedding import Embedder, embed_passages
    from podigest_dagster.core.transcribe.publisher import parse_transcript

    cache = work_dir() / f"candidates-{day}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    index, notes = load_index(corpus_dir()), load_show_notes(corpus_dir())
    episodes = []
    for eid in manifest["days"][day]["episode_ids"]:
        e = index[eid]
        segments = parse_transcript((corpus_dir() / e.file).read_bytes(), e.mime, e.file)
        episodes.append(EpisodeTranscript(eid, e.show, e.title, f"feed:{e.show_slug}", segments, None,
                                          f"http://corpus/audio/{eid}.wav", None, notes.get(eid)))
    found = extract_candidates(episodes, {}, embed=Embedder().embed)
    vectors, sentence_vectors = embed_passages([c.text for c in found.kept], Embedder().embed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps((found.kept, vectors, sentence_vectors)))
    return found.kept, vectors, sentence_vectors


def passage_ref(candidate) -> dict:
    from training.graded import passage_id, text_hash, transcript

    episode = transcript(candidate.episode_id)
    first, last = candidate.sent_start, candidate.sent_end
    raw = " ".join(s.text for s in episode.sentences[first : last + 1])
    return {"id": passage_id(candidate.episode_id, first, last), "episode_id": candidate.episode_id,
            "first_sentence": first, "last_sentence": last, "sentences": len(episode.sentences),
            "start_s": round(candidate.start_s, 2), "end_s": round(candidate.end_s, 2), "text_sha1": text_hash(raw),
            "value": round(candidate.score, 3)}


def day_features(day: str, manifest: dict, pairs: list[dict]) -> dict[str, list[float]]:
    """The story model's features of the day's pairs, computed as the product computes them on that day (its
    candidates at or above the pool floor are the day's passages)."""
    import numpy as np

    from podigest_dagster.core.insights import stories
    from podigest_dagster.core.insights.value import shipped_floors
    from training.graded import transcript

    kept, vectors, sentence_vectors = day_candidates(day, manifest)
    floor = shipped_floors().pool
    pool = [i for i, c in enumerate(kept) if c.score >= floor]
    found, shares = stories.name_passages([kept[i] for i in pool])
    named = dict(zip(pool, found, strict=True))
    cosine = np.asarray(vectors) @ np.asarray(vectors).T
    best = stories.best_sentence_cosine(sentence_vectors)
    at = {(c.episode_id, c.sent_start, c.sent_end): i for i, c in enumerate(kept)}
    texts = {eid: " ".join(s.text for s in transcript(eid).sentences).lower() for eid in manifest["days"][day]["episode_ids"]}
    out = {}
    for pair in pairs:
        a = at.get((pair["a"]["episode_id"], pair["a"]["first_sentence"], pair["a"]["last_sentence"]))
        b = at.get((pair["b"]["episode_id"], pair["b"]["first_sentence"], pair["b"]["last_sentence"]))
        if a not in named or b not in named:
            continue
        subject = named[a].subject
        same = subject and stories.entity_key(subject) == stories.entity_key(named[b].subject)
        said = min(stories.times_said(texts[kept[i].episode_id], subject) for i in (a, b)) if same else 0
        out[pair["pair_id"]] = [round(float(v), 4) for v in
                                stories.pair_features(named[a], named[b], shares, cosine[a, b], best[a, b], said)]
    return out


def features(args: argparse.Namespace) -> int:
    """Recompute every pair's features with the current code (after a change to what the story model reads)."""
    from podigest_dagster.core.insights import stories

    manifest = load_manifest()
    data = json.loads(PAIRS.read_text())
    for day in sorted({p["day"] for p in data["pairs"]}):
        found = day_features(day, manifest, [p for p in data["pairs"] if p["day"] == day])
        for pair in data["pairs"]:
            if pair["day"] == day:
                pair["features"] = found.get(pair["pair_id"])
        print(f"{day}: {len(found)} pairs")
    data["feature_names"] = list(stories.PAIR_FEATURES)
    PAIRS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


def mine(args: argparse.Namespace) -> int:
    import numpy as np

    from podigest_dagster.core.insights import stories
    from podigest_dagster.core.insights.value import shipped_floors

    manifest = load_manifest()
    data = json.loads(PAIRS.read_text()) if PAIRS.is_file() else {"about": __doc__.split("\n\n")[0], "pairs": []}
    known = {p["pair_id"] for p in data["pairs"]}
    floor = shipped_floors().pool
    for day in select_days(manifest, days=args.days):
        if manifest["days"][day]["split"] != "dev" and not args.allow_heldout:
            raise SystemExit(f"{day} is held out: label its pairs only for the final measurement (--allow-heldout)")
        kept, vectors, _ = day_candidates(day, manifest)
        pairs = stories.cross_show_pairs(kept, floor)
        if not pairs:
            print(f"{day}: no cross-show pairs")
            continue
        candidates = [{"pair_id": "", "a": passage_ref(kept[a]), "b": passage_ref(kept[b]), "ab": (a, b)} for a, b in pairs]
        for c in candidates:
            c["pair_id"] = "-".join(sorted([c["a"]["id"], c["b"]["id"]]))
        scored = day_features(day, manifest, candidates)
        names_i = stories.PAIR_FEATURES
        rows = [(c, scored[c["pair_id"]]) for c in candidates if c["pair_id"] in scored]
        rng = np.random.default_rng(int(hashlib.sha256(day.encode()).hexdigest()[:8], 16))
        taken: set[str] = set()
        out: list[tuple[dict, str]] = []

        def pick(ranked: list, count: int, stratum: str, taken: set = taken, out: list = out) -> None:
            for c, _ in ranked:
                if sum(1 for _, s in out if s == stratum) >= count:
                    break
                if c["pair_id"] not in taken:
                    taken.add(c["pair_id"])
                    out.append((c, stratum))

        same, cos = names_i.index("same_subject"), names_i.index("cosine")
        alike = sorted((r for r in rows if r[1][same]), key=lambda r: -(r[1][cos] + 0.1 * r[1][names_i.index("episode_mentions")]))
        pick(alike, round(args.per_day * STRATA["alike"]), "alike")
        close = sorted((r for r in rows if not r[1][same]), key=lambda r: -r[1][cos])
        pick(close, round(args.per_day * STRATA["close_unnamed"]), "close_unnamed")
        named = [r for r in rows if r[1][names_i.index("shared_central")] > 0]
        pick([named[i] for i in rng.permutation(len(named))], round(args.per_day * STRATA["named_far"]), "named_far")
        pick([rows[i] for i in rng.permutation(len(rows))], round(args.per_day * STRATA["random"]), "random")
        added = 0
        for c, stratum in out:
            if c["pair_id"] in known:
                continue
            known.add(c["pair_id"])
            data["pairs"].append({"pair_id": c["pair_id"], "day": day, "stratum": stratum, "a": c["a"], "b": c["b"],
                                  "features": scored[c["pair_id"]]})
            added += 1
        print(f"{day}: {len(kept)} candidates, {len(pairs)} cross-show pairs, {added} added")
    data["feature_names"] = list(stories.PAIR_FEATURES)
    PAIRS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{len(data['pairs'])} pairs in {PAIRS}")
    return 0


def _passage_block(ref: dict, label: str) -> list[str]:
    from training.graded import rebuild, shown_text

    episode, window = rebuild(ref)
    before = []
    for s in reversed(episode.sentences[: ref["first_sentence"]]):
        before.insert(0, s.text)
        if sum(len(b.split()) for b in before) >= CONTEXT_WORDS:
            break
    return [f"{label}: {episode.show}, \"{episode.title}\"", f"  before: {' '.join(before)}",
            f"  >>> {shown_text(window)}"]


def packets(args: argparse.Namespace) -> int:
    data = json.loads(PAIRS.read_text())
    labelled = {p["pair_id"] for p in data["pairs"] if "same_story" in p}
    todo = [p for p in data["pairs"] if p["pair_id"] not in labelled and (args.days is None or p["day"] in args.days)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(todo), args.size):
        name = f"S{len(list(out.glob('S*.md'))) + 1:02d}"
        lines = [f"# Story pairs {name}", ""]
        for pair in todo[k : k + args.size]:
            lines += [f"## Pair {pair['pair_id']}", *_passage_block(pair["a"], "A"), *_passage_block(pair["b"], "B"), ""]
        (out / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
        print(f"{name}: {len(todo[k : k + args.size])} pairs")
    return 0


def collect(args: argparse.Namespace) -> int:
    data = json.loads(PAIRS.read_text())
    by_id = {p["pair_id"]: p for p in data["pairs"]}
    count = 0
    for path in sorted(Path(args.out).glob("S*.json")):
        for row in json.loads(path.read_text())["labels"]:
            pair = by_id.get(row["pair_id"])
            if pair is None:
                continue
            pair["same_story"] = bool(row["same_story"])
            pair["same_field"] = bool(row.get("same_field", row["same_story"]))
            pair["why"] = str(row.get("why", ""))[:160]
            pair["labeller"] = path.stem
            count += 1
    PAIRS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{count} labels collected")
    return 0


def score(args: argparse.Namespace) -> int:
    """The product's same-story rule on every labelled pair: precision and recall, by split and by day."""
    from podigest_dagster.core.insights import stories

    data = json.loads(PAIRS.read_text())
    if tuple(data.get("feature_names") or ()) != stories.PAIR_FEATURES:
        raise SystemExit("the pairs hold features of other names: python bench/story_pairs.py features")
    manifest = load_manifest()
    rows = [p for p in data["pairs"] if "same_story" in p and p.get("features")]
    groups: dict[str, list[tuple[bool, bool]]] = {}
    for p in rows:
        said = stories.same_story(p["features"])
        split = manifest["days"][p["day"]]["split"]
        for group in ("all", split, p["day"]):
            groups.setdefault(group, []).append((said, bool(p["same_story"])))
    print(f"{'pairs':12} {'labelled':>8} {'same':>5} {'claimed':>8} {'right':>6} {'precision':>9} {'recall':>7}")
    for group, found in groups.items():
        claimed = sum(s for s, _ in found)
        right = sum(s and t for s, t in found)
        same = sum(t for _, t in found)
        precision = f"{right / claimed:.2f}" if claimed else "-"
        recall = f"{right / same:.2f}" if same else "-"
        print(f"{group:12} {len(found):8d} {same:5d} {claimed:8d} {right:6d} {precision:>9} {recall:>7}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("mine")
    m.add_argument("--days", nargs="+", required=True)
    m.add_argument("--per-day", type=int, default=45)
    m.add_argument("--allow-heldout", action="store_true")
    p = sub.add_parser("packets")
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=120)
    p.add_argument("--days", nargs="*")
    c = sub.add_parser("collect")
    c.add_argument("--out", required=True)
    sub.add_parser("features", help="recompute every labelled pair's features with the current code")
    sub.add_parser("score", help="the same-story rule on the labelled pairs")
    args = parser.parse_args(argv)
    commands = {"mine": mine, "packets": packets, "collect": collect, "features": features, "score": score}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
