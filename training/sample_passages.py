"""Sample the passages graders grade on the reader's rubric, and build their packets.

    .venv/bin/python -m training.sample_passages sample            # -> training/grading/passages.json
    .venv/bin/python -m training.sample_passages packets --out DIR  # grader packets (transcript text: never commit)
    .venv/bin/python -m training.sample_passages check             # counts of grades, agreement of double grades

Episodes: every corpus episode that no held-out day of bench/real_days.json uses. Per episode, passages of
every kind the pipeline yields (core/insights/passages.py), in strata, no two sharing a sentence:
- random: any whole-thought passage, drawn uniformly (most are ordinary talk);
- top_current: the best by the insight score that shipped before the value model (what the product sent);
- key_point: the closest to each of the episode's LLM key points (labels.json highlights), where it has them;
- flagged: passages the earlier hand-written rules dropped (questions, dangling references, intros and
  outros, calls to subscribe, tables of contents, small talk);
- ad: passages inside a sponsor read (labelled, or found by the product).
The extractive editor's picks of training episodes are added by `add-editor` (bench/judgements/editor/picks/).

Deterministic: every draw is seeded by the episode id."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from podigest_dagster import settings

settings.use_offline_environment()

import numpy as np  # noqa: E402

from training.corpus import REPO, VectorCache, corpus_dir, read_json  # noqa: E402
from training.graded import (  # noqa: E402
    GRADES,
    PASSAGES,
    CorpusTranscript,
    corpus_index,
    load_grades,
    load_passages,
    rebuild,
    reference,
    shown_text,
    transcript,
    write_json,
)

BASE_QUOTA = {"random": 9, "top_current": 7, "key_point": 4, "flagged": 3, "ad": 2}
STRUCTURAL = frozenset({"mid_thought_start", "abandoned_phrase", "trails_off", "too_short", "too_long", "ad"})
CONTEXT_BEFORE_WORDS = 130
CONTEXT_AFTER_WORDS = 90


def seeded(key: str) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha256(key.encode()).hexdigest()[:12], 16))


def heldout_ids() -> set[str]:
    days = read_json(REPO / "bench" / "real_days.json")["days"]
    return {eid for d in days.values() if d["split"] == "heldout" for eid in d["episode_ids"]}


def labelled_ad_sentences(episode: CorpusTranscript) -> set[int]:
    """Sentences inside labels.json's sponsor spans (by time)."""
    labels = read_json(corpus_dir() / "labels.json").get(episode.episode_id, {})
    spans = [tuple(map(float, s)) for s in labels.get("ad_spans", [])]
    return {
        i for i, s in enumerate(episode.sentences)
        if any(a <= (s.start_s + s.end_s) / 2 <= b for a, b in spans)
    }


def quota(duration_s: float | None, has_key_points: bool) -> dict[str, int]:
    scale = min(max((duration_s or 3000) / 3000, 0.5), 1.6)
    q = dict(BASE_QUOTA)
    if not has_key_points:
        q["random"] += 2
        q["top_current"] += 2
        q["key_point"] = 0
    return {k: max(1, round(v * scale)) if v else 0 for k, v in q.items()}


def _overlaps(span: tuple[int, int], used: set[int]) -> bool:
    return any(i in used for i in range(span[0], span[1] + 1))


def take(ranked: Sequence[tuple[int, int]], wanted: int, used: set[int]) -> list[tuple[int, int]]:
    """The first `wanted` spans of `ranked` that share no sentence with what is taken already."""
    out = []
    for span in ranked:
        if len(out) >= wanted:
            break
        if not _overlaps(span, used):
            out.append(span)
            used.update(range(span[0], span[1] + 1))
    return out


SAMPLED_AT = "a6adb11"


def _sampling_code():
    """The product code the sample was drawn with: its shipped insight scorer ("top_current") and its
    hand-written rules ("flagged") were removed when the value model replaced them, so `sample` runs only
    from a checkout of the commit that drew training/grading/passages.json."""
    try:
        from podigest_dagster.core.insights import features as scoring
        from podigest_dagster.core.insights.ads import ad_sentences
        from podigest_dagster.core.insights.candidates import sentence_reason, window_reason
        from podigest_dagster.core.insights.passages import passage_windows
        from podigest_dagster.core.text.sentences import split_sentences
    except ImportError as missing:
        raise SystemExit(
            f"sample draws with the scorer and rules of commit {SAMPLED_AT}, which are gone now ({missing}): "
            f"run it from `git worktree add ../podigest-{SAMPLED_AT} {SAMPLED_AT}`"
        ) from missing
    return scoring, ad_sentences, sentence_reason, window_reason, passage_windows, split_sentences


def sample_episode(episode: CorpusTranscript, cache: VectorCache, duration_s: float | None,
                   highlights: list[str]) -> list[dict]:
    scoring, ad_sentences, sentence_reason, window_reason, passage_windows, split_sentences = _sampling_code()
    texts = [s.text for s in episode.sentences]
    if not texts:
        return []
    vectors = cache.vectors(episode.episode_id, texts)
    ads = ad_sentences(texts, vectors) | labelled_ad_sentences(episode)
    clear = [False] * len(texts)
    blocked = [i in ads for i in range(len(texts))]
    windows = passage_windows(episode.sentences, blocked)
    every = passage_windows(episode.sentences, clear)
    q = quota(duration_s, bool(highlights))
    rng = seeded(episode.episode_id)
    used: set[int] = set()
    chosen: list[tuple[tuple[int, int], str]] = []

    def pv(span: tuple[int, int]) -> np.ndarray:
        return scoring.passage_vector(vectors[span[0] : span[1] + 1])

    if highlights and windows:
        passage_vectors = np.stack([pv(w) for w in windows])
        hv = np.stack([scoring.passage_vector(cache.vectors("highlights", split_sentences(h) or [h])) for h in highlights])
        best = np.argsort(-(passage_vectors @ hv.T), axis=0)
        ranked, seen = [], set()
        for row in best[:20]:  # round-robin over key points: each one's closest passages first
            for i in row:
                if int(i) not in seen:
                    seen.add(int(i))
                    ranked.append(windows[int(i)])
        chosen += [(s, "key_point") for s in take(ranked, q["key_point"], used)]
    if windows:
        scores = scoring.insight_scores(
            [" ".join(texts[a : b + 1]) for a, b in windows], np.stack([pv(w) for w in windows])
        )
        order = np.argsort([-s for s, _ in scores], kind="stable")
        chosen += [(s, "top_current") for s in take([windows[i] for i in order], q["top_current"], used)]
        reasons = [sentence_reason(t) for t in texts]
        flagged = [
            w for w in windows
            if (r := window_reason(list(episode.sentences[w[0] : w[1] + 1]), reasons[w[0] : w[1] + 1]))
            and r not in STRUCTURAL
        ]
        chosen += [(s, "flagged") for s in take([flagged[i] for i in rng.permutation(len(flagged))], q["flagged"], used)]
        chosen += [(s, "random") for s in take([windows[i] for i in rng.permutation(len(windows))], q["random"], used)]
    in_ads = [w for w in every if any(i in ads for i in range(w[0], w[1] + 1))]
    chosen += [(s, "ad") for s in take([in_ads[i] for i in rng.permutation(len(in_ads))], q["ad"], used)]
    return [reference(episode, a, b, stratum) for (a, b), stratum in sorted(chosen)]


def sample(args: argparse.Namespace) -> int:
    from podigest_dagster.core.insights.embedding import Embedder

    _sampling_code()
    labels = read_json(corpus_dir() / "labels.json")
    excluded = heldout_ids()
    cache = VectorCache(Embedder().embed)
    out, counts = [], Counter()
    entries = [e for e in corpus_index().values() if e["episode_id"] not in excluded]
    for n, entry in enumerate(sorted(entries, key=lambda e: e["episode_id"]), start=1):
        episode = transcript(entry["episode_id"])
        refs = sample_episode(episode, cache, entry.get("duration_s"), labels.get(entry["episode_id"], {}).get("highlights", []))
        out += refs
        counts.update(r["stratum"] for r in refs)
        print(f"{n}/{len(entries)} {entry['episode_id']}: {len(refs)} passages", file=sys.stderr, flush=True)
    write_json(Path(args.out), {
        "about": "Passages sampled for grading on the reader's rubric (training/sample_passages.py): references "
        "to corpus episodes only (sentence range in the pipeline's sentences, times, a hash of the text).",
        "passages": out,
    })
    shows = {r["show"] for r in out}
    episodes = {r["episode_id"] for r in out}
    print(f"{len(out)} passages from {len(episodes)} episodes of {len(shows)} shows: {dict(counts)}")
    return 0


def add_editor(args: argparse.Namespace) -> int:
    """Add the extractive editor's picks of training episodes (bench/judgements/editor/picks/) as passages
    to grade (stratum "editor"): the strongest passages the pipeline can yield."""
    data = read_json(PASSAGES)
    known = {r["id"] for r in data["passages"]}
    excluded = heldout_ids()
    added = 0
    for path in sorted((REPO / "bench" / "judgements" / "editor" / "picks").glob("*.json")):
        for pick in read_json(path)["picks"]:
            if pick["episode_id"] in excluded or pick["id"] in known:
                continue
            keep = ("id", "episode_id", "show", "first_sentence", "last_sentence", "sentences", "start_s", "end_s",
                    "text_sha1")
            data["passages"].append({**{k: pick[k] for k in keep}, "stratum": "editor"})
            known.add(pick["id"])
            added += 1
    write_json(PASSAGES, data)
    print(f"added {added} editor picks; {len(data['passages'])} passages in all")
    return 0


def _context(episode: CorpusTranscript, first: int, last: int) -> tuple[str, str]:
    def label(i: int) -> str:
        s = episode.sentences[i]
        return f"{s.speaker}: " if s.speaker and (i == 0 or episode.sentences[i - 1].speaker != s.speaker) else ""

    before, words, i = [], 0, first - 1
    while i >= 0 and words < CONTEXT_BEFORE_WORDS:
        before.insert(0, label(i) + episode.sentences[i].text)
        words += len(episode.sentences[i].text.split())
        i -= 1
    after, words, i = [], 0, last + 1
    while i < len(episode.sentences) and words < CONTEXT_AFTER_WORDS:
        after.append(label(i) + episode.sentences[i].text)
        words += len(episode.sentences[i].text.split())
        i += 1
    return " ".join(before), " ".join(after)


def packet_text(name: str, refs: list[dict]) -> str:
    lines = [f"# Passage packet {name} ({len(refs)} passages)", ""]
    for ref in refs:
        episode, window = rebuild(ref)
        before, after = _context(episode, ref["first_sentence"], ref["last_sentence"])
        speaker = window[0].speaker
        lines += [
            f"## Passage {ref['id']}",
            f"Show: {episode.show}. Episode: {episode.title}",
            *( [f"Speaker: {speaker}"] if speaker else [] ),
            f"Before: {before or '(start of the episode)'}",
            f">>> PASSAGE: {shown_text(window)}",
            f"After: {after or '(end of the episode)'}",
            "",
        ]
    return "\n".join(lines)


def packets(args: argparse.Namespace) -> int:
    """Shuffle the passages not yet in a packet into packets of --size; with --double, a second packet set
    of --double passages drawn from the first packets, each for another grader."""
    refs = load_passages()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    assigned = json.loads((out / "assignment.json").read_text()) if (out / "assignment.json").is_file() else {}
    placed = {pid for ids in assigned.values() for pid in ids}
    rng = seeded(f"packets:{len(assigned)}")
    if args.double:
        first = [pid for name, ids in sorted(assigned.items()) if not name.startswith("D") for pid in ids]
        pool = [first[i] for i in sorted(rng.choice(len(first), size=min(args.double, len(first)), replace=False))]
        pool = [pool[i] for i in rng.permutation(len(pool))]
        prefix = "D"
    else:
        pool = [r["id"] for r in refs if r["id"] not in placed]
        pool = [pool[i] for i in rng.permutation(len(pool))]
        prefix = "P"
    by_id = {r["id"]: r for r in refs}
    start = sum(1 for k in assigned if k.startswith(prefix))
    for k in range(0, len(pool), args.size):
        name = f"{prefix}{start + k // args.size + 1:02d}"
        ids = pool[k : k + args.size]
        (out / f"{name}.md").write_text(packet_text(name, [by_id[i] for i in ids]), encoding="utf-8")
        assigned[name] = ids
        print(f"{name}: {len(ids)} passages")
    (out / "assignment.json").write_text(json.dumps(assigned, indent=1))
    return 0


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def check(args: argparse.Namespace) -> int:
    refs = {r["id"]: r for r in load_passages()}
    grades = load_grades(GRADES)
    by_id: dict[str, list[dict]] = {}
    for g in grades:
        by_id.setdefault(g["id"], []).append(g)
    graded = [refs[i] for i in by_id if i in refs]
    print(f"{len(grades)} grades of {len(by_id)} passages ({len(refs)} sampled) from "
          f"{len({r['episode_id'] for r in graded})} episodes of {len({r['show'] for r in graded})} shows")
    twice = [(v[0], v[1]) for v in by_id.values() if len(v) >= 2]
    if twice:
        value = spearman([a["value"] for a, _ in twice], [b["value"] for _, b in twice])
        clean = sum(a["clean"] == b["clean"] for a, b in twice) / len(twice)
        print(f"graded twice: {len(twice)}; Spearman on value {value:.3f}; agreement on clean {clean:.3f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--out", default=str(PASSAGES))
    p = sub.add_parser("packets")
    p.add_argument("--out", required=True, help="a folder outside the repository (packets quote transcripts)")
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--double", type=int, default=0, help="passages to grade a second time")
    sub.add_parser("check")
    sub.add_parser("add-editor")
    args = parser.parse_args(argv)
    return {"sample": sample, "packets": packets, "check": check, "add-editor": add_editor}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
