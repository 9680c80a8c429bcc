"""The blind judge: items of several systems for real days, shuffled into packets that graders grade on the
reader's rubric (../shared/reader_rubric.md) without knowing which system made what; then the scores.

    .venv/bin/python bench/judge.py digests --round R --days D ... [--commit C]   # run podigest on the days
    .venv/bin/python bench/judge.py packet  --round R --days D ...                # packets + the key
    .venv/bin/python bench/judge.py score   --round R                             # per system and day

Systems in a packet:
- podigest: the day's digest (`podigest run` on the day served as feeds, then `podigest digest --format json`);
- naive: the five sentences closest to the day's mean MiniLM embedding (8-60 words each);
- editor_reference: the first LLM key point of each episode that labels.json has key points for (cited at the
  passage closest to it, so the grader sees the moment it summarises);
- extractive_editor: the attainable target: per episode the two best verbatim extracts an editor picked
  (bench/editor.py), then the day's five, one per story, at most two per show.

Each item is shown as the reader sees it (topic line before a colon, text, speaker, sources and coverage)
with, for every cited source, the transcript from 45 s before to 90 s after the cited moment (untimed
transcripts: the sentences around the passage). Packets quote the shows' transcripts, so they are written
outside the repository ($PODIGEST_HOME/judge/<round>/); the key (which system made which item, where it
cites, a hash of its text) and the grades are kept in bench/judgements/<round>/ with the commit judged.
Graders see the packet and the rubric only: never the key, the code or the system names."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from real_corpus import REPO, CorpusServer, corpus_dir, load_labels, load_manifest, select_days  # noqa: E402

JUDGEMENTS = REPO / "bench" / "judgements"
EDITOR = JUDGEMENTS / "editor"
SYSTEMS = ("podigest", "naive", "editor_reference", "extractive_editor")
FIELDS = ("value", "standalone", "substance", "clean", "faithful", "support_ok")
BEFORE_S, AFTER_S = 45.0, 90.0
UNTIMED_BEFORE, UNTIMED_AFTER = 6, 14
NAIVE_WORDS = (8, 60)
NAIVE_MAX_SENTENCES = 3000
TOP_N = 5


def work_root() -> Path:
    return Path(os.environ.get("PODIGEST_HOME") or Path.home() / ".podigest") / "judge"


def text_sha1(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def commit_of_repo() -> str:
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


# --- the corpus, as the judge shows it -------------------------------------------------------------


def episode_sentences(episode_id: str):
    from training.graded import transcript

    return transcript(episode_id)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def locate_untimed(episode, text: str) -> int:
    """The sentence of an untimed transcript where a passage starts: the best word overlap with its head."""
    head = set(w.lower() for w in text.split()[:25])
    best, where = -1.0, 0
    for i in range(len(episode.sentences)):
        words = set(w.lower() for w in " ".join(s.text for s in episode.sentences[i : i + 3]).split())
        score = len(head & words) / (len(head) or 1)
        if score > best:
            best, where = score, i
    return where


def excerpt(episode_id: str, start_s: float | None, text: str) -> str:
    """The transcript around a cited moment, the moment marked, with speakers where known."""
    episode = episode_sentences(episode_id)
    sentences = episode.sentences
    if not sentences:
        return "(no transcript)"
    if episode.has_times and start_s is not None:
        at = next((i for i, s in enumerate(sentences) if s.end_s > start_s + 0.5), len(sentences) - 1)
        chosen = [i for i, s in enumerate(sentences) if s.end_s >= start_s - BEFORE_S and s.start_s <= start_s + AFTER_S]
    else:
        at = locate_untimed(episode, text)
        chosen = list(range(max(0, at - UNTIMED_BEFORE), min(len(sentences), at + UNTIMED_AFTER)))
    parts, speaker = [], None
    for i in chosen:
        s = sentences[i]
        mark = "[CITED MOMENT] " if i == at else ""
        who = f"{s.speaker}: " if s.speaker and s.speaker != speaker else ""
        speaker = s.speaker or speaker
        parts.append(f"{mark}{who}{s.text}")
    return " ".join(parts)


# --- the systems ----------------------------------------------------------------------------------


def episode_ids_of(day_entry: dict) -> list[str]:
    return list(day_entry["episode_ids"])


def podigest_items(day: str, digest: dict, day_entry: dict) -> list[dict]:
    """The digest's items, each source resolved to its corpus episode (the bench serves guid = episode id)."""
    titles = {e["title"]: e["episode_id"] for e in day_entry["episodes"]}

    def resolve(src: dict) -> dict:
        url = src.get("url") or ""
        eid = next((e for e in day_entry["episode_ids"] if f"/{e}." in url or f"/{e}#" in url), None)
        eid = eid or titles.get(src.get("episode") or "")
        return {"episode_id": eid, "podcast": src.get("podcast"), "episode": src.get("episode"),
                "start_s": src.get("start_s")}

    items = []
    for entry in digest.get("items", []):
        items.append({
            "system": "podigest", "rank": entry.get("rank"), "topic": entry.get("topic") or "",
            "text": entry.get("insight") or "", "speaker": entry.get("speaker") or "",
            "sources": [resolve(s) for s in entry.get("sources") or []],
            "coverage": [resolve(s) for s in entry.get("coverage") or []],
        })
    return items


def naive_items(day_entry: dict, embed) -> list[dict]:
    """The five sentences closest to the day's mean embedding."""
    import numpy as np

    pool = []
    for eid in episode_ids_of(day_entry):
        episode = episode_sentences(eid)
        for s in episode.sentences:
            if NAIVE_WORDS[0] <= len(s.text.split()) <= NAIVE_WORDS[1]:
                pool.append((s, episode))
    if not pool:
        return []
    if len(pool) > NAIVE_MAX_SENTENCES:
        step = len(pool) / NAIVE_MAX_SENTENCES
        pool = [pool[int(i * step)] for i in range(NAIVE_MAX_SENTENCES)]
    vectors = embed([s.text for s, _ in pool])
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    items, seen = [], set()
    for i in np.argsort(-(vectors @ centre), kind="stable"):
        s, episode = pool[int(i)]
        if s.text.lower() in seen:
            continue
        seen.add(s.text.lower())
        items.append({
            "system": "naive", "rank": len(items) + 1, "topic": "", "text": s.text, "speaker": "",
            "sources": [{"episode_id": episode.episode_id, "podcast": episode.show, "episode": episode.title,
                         "start_s": s.start_s if episode.has_times else None}],
            "coverage": [],
        })
        if len(items) == TOP_N:
            break
    return items


def editor_reference_items(day_entry: dict, labels: dict, embed) -> list[dict]:
    """The first LLM key point of each episode with key points, cited where the episode says it."""
    import numpy as np

    items = []
    for eid in episode_ids_of(day_entry):
        points = labels.get(eid, {}).get("highlights") or []
        if not points:
            continue
        episode = episode_sentences(eid)
        texts = [" ".join(s.text for s in episode.sentences[i : i + 3]) for i in range(len(episode.sentences))]
        if not texts:
            continue
        vectors = embed([points[0], *texts])
        at = int(np.argmax(vectors[1:] @ vectors[0]))
        items.append({
            "system": "editor_reference", "rank": len(items) + 1, "topic": "", "text": points[0], "speaker": "",
            "sources": [{"episode_id": eid, "podcast": episode.show, "episode": episode.title,
                         "start_s": episode.sentences[at].start_s if episode.has_times else None}],
            "coverage": [],
        })
    return items


def extractive_editor_items(day: str) -> list[dict]:
    """The editor's five for the day (bench/editor.py), rebuilt from their references."""
    from editor import chosen_items

    return chosen_items(day)


# --- packets --------------------------------------------------------------------------------------


def reader_view(item: dict) -> str:
    """The item's text as the reader sees it: the topic line before a colon."""
    text = " ".join(item["text"].split())
    return f"{item['topic']}: {text}" if item.get("topic") else text


def render_item(number: int, item: dict) -> list[str]:
    lines = [f"## Item {number}", f"Text: {reader_view(item)}"]
    if item.get("speaker"):
        lines.append(f"Said by: {item['speaker']}")
    cites = "; ".join(f"{s['podcast']}, \"{s['episode']}\" @ {clock(s['start_s'])}" for s in item["sources"])
    lines.append(f"Source: {cites}")
    if item.get("coverage"):
        also = "; ".join(f"{s['podcast']}, \"{s['episode']}\" @ {clock(s['start_s'])}" for s in item["coverage"])
        lines.append(f"Also discussed on: {also}")
    for k, src in enumerate([*item["sources"], *item.get("coverage", [])], start=1):
        body = excerpt(src["episode_id"], src.get("start_s"), item["text"]) if src.get("episode_id") else "(unknown)"
        lines.append(f"Excerpt {k} ({src['podcast']}, \"{src['episode']}\"): {body}")
    lines.append("")
    return lines


def write_packet(path: Path, name: str, items: list[tuple[int, dict]]) -> None:
    lines = [f"# Packet {name}: {len(items)} items", "",
             "Items of one day's digests from several systems, in random order. Grade each on its own.", ""]
    for number, item in items:
        lines += render_item(number, item)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def key_row(number: int, day: str, item: dict) -> dict:
    def ref(s: dict) -> dict:
        return {"episode_id": s.get("episode_id"), "start_s": s.get("start_s")}

    return {"id": number, "day": day, "system": item["system"], "rank": item["rank"],
            "text_sha1": text_sha1(reader_view(item)), "sources": [ref(s) for s in item["sources"]],
            "coverage": [ref(s) for s in item.get("coverage", [])]}


def round_dir(name: str) -> Path:
    return JUDGEMENTS / name


def load_digest(name: str, day: str) -> dict:
    path = work_root() / name / "digests" / f"{day}.json"
    if not path.is_file():
        raise SystemExit(f"no digest of {day} for round {name}: run `judge.py digests --round {name} --days {day}`")
    return json.loads(path.read_text(encoding="utf-8"))


def packet(args: argparse.Namespace) -> int:
    import numpy as np

    from podigest_dagster.core.insights.embedding import Embedder

    manifest = load_manifest()
    labels = load_labels(corpus_dir())
    days = select_days(manifest, days=args.days)
    embed = Embedder().embed
    systems = args.systems or list(SYSTEMS)
    key_path = round_dir(args.round) / "key.json"
    key = json.loads(key_path.read_text()) if key_path.is_file() else {"round": args.round, "items": []}
    next_id = max((r["id"] for r in key["items"]), default=0) + 1
    rng = np.random.default_rng(int(hashlib.sha256(args.round.encode()).hexdigest()[:8], 16))
    for day in days:
        entry = manifest["days"][day]
        items: list[dict] = []
        if "podigest" in systems:
            items += podigest_items(day, load_digest(args.round, day), entry)
        for other in args.compare or []:
            items += [dict(it, system=f"podigest@{other}") for it in podigest_items(day, load_digest(other, day), entry)]
        if "naive" in systems:
            items += naive_items(entry, embed)
        if "editor_reference" in systems:
            items += editor_reference_items(entry, labels, embed)
        if "extractive_editor" in systems:
            items += extractive_editor_items(day)
        order = [items[i] for i in rng.permutation(len(items))]
        numbered = [(next_id + k, item) for k, item in enumerate(order)]
        next_id += len(numbered)
        name = f"{args.round}-{day}"
        write_packet(work_root() / args.round / "packets" / f"{name}.md", name, numbered)
        key["items"] = [r for r in key["items"] if r["day"] != day] + [key_row(n, day, it) for n, it in numbered]
        counts = ", ".join(f"{s} {n}" for s, n in sorted(Counter(it["system"] for _, it in numbered).items()))
        print(f"{day}: {len(numbered)} items ({counts})")
    key["commit"] = key.get("commit") or commit_of_repo()
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    print(f"packets in {work_root() / args.round / 'packets'}; key in {key_path}")
    return 0


# --- the product's digests ------------------------------------------------------------------------


def in_process_digest(day_entry: dict) -> dict:
    """The day's digest from the insight chain run in this process on the corpus transcripts (the steps the
    assets run, without feeds, Dagster or a warehouse): quicker, for development rounds on dev days."""
    from real_corpus import load_index, load_show_notes

    from podigest_dagster.core.insights.candidates import EpisodeTranscript
    from podigest_dagster.core.insights.embedding import Embedder
    from podigest_dagster.core.insights.pipeline import run_day
    from podigest_dagster.core.transcribe.publisher import parse_transcript

    index, notes = load_index(corpus_dir()), load_show_notes(corpus_dir())
    episodes = []
    for eid in day_entry["episode_ids"]:
        e = index[eid]
        segments = parse_transcript((corpus_dir() / e.file).read_bytes(), e.mime, e.file)
        episodes.append(EpisodeTranscript(eid, e.show, e.title, f"feed:{e.show_slug}", segments, None,
                                          f"http://corpus/audio/{eid}.wav", None, notes.get(eid)))
    result = run_day(episodes, None, {}, Embedder())

    def source(s) -> dict:
        return {"podcast": s.podcast, "episode": s.episode, "url": s.url, "start_s": s.start_s}

    return {"items": [
        {"rank": i.rank, "topic": i.topic, "insight": i.insight, "speaker": i.speaker, "support": i.support,
         "sources": [source(s) for s in i.sources], "coverage": [source(s) for s in i.coverage]}
        for i in result.top
    ]}


def digests(args: argparse.Namespace) -> int:
    """Run podigest on each day in its own home (the way real_eval.py does) and keep its digest JSON; with
    --in-process, run the insight chain here on dev days instead."""
    import real_eval

    manifest = load_manifest()
    days = select_days(manifest, days=args.days)
    out = work_root() / args.round
    out.mkdir(parents=True, exist_ok=True)
    if args.in_process:
        if any(manifest["days"][d]["split"] != "dev" for d in days):
            raise SystemExit("--in-process is for dev days: held-out days are measured with `podigest run`")
        (out / "digests").mkdir(exist_ok=True)
        for day in days:
            digest = in_process_digest(manifest["days"][day])
            (out / "digests" / f"{day}.json").write_text(json.dumps(digest, ensure_ascii=False, indent=1), encoding="utf-8")
            print(f"{day}: {len(digest['items'])} items (in process)")
        return 0
    real_eval.use_product(None, args.commit, out)
    meta_path = round_dir(args.round) / "runs.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {"runs": {}}
    with CorpusServer(corpus_dir(), manifest) as server:
        for day in days:
            home = out / "homes" / day
            real_eval.prepare_home(home, wipe=True)
            status, seconds, error = real_eval.run_product(server, day, home, out / f"run-{day}.log")
            digest = real_eval.read_digest_json(day, home)
            (out / "digests").mkdir(exist_ok=True)
            (out / "digests" / f"{day}.json").write_text(json.dumps(digest, ensure_ascii=False, indent=1), encoding="utf-8")
            meta["runs"][day] = {"status": status, "seconds": round(seconds, 1), "error": error,
                                 "items": len(digest.get("items", [])), "product": real_eval.PRODUCT["label"]}
            print(f"{day}: {status} in {seconds:.0f}s, {len(digest.get('items', []))} items" + (f" ({error})" if error else ""))
    meta["commit"] = args.commit or commit_of_repo()
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return 0


# --- scores ---------------------------------------------------------------------------------------


def load_round_grades(name: str) -> list[dict]:
    rows = []
    for path in sorted(round_dir(name).glob("grades-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        rows += [{**g, "grader": data.get("grader", path.stem)} for g in data["grades"]]
    return rows


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def aggregate(rows: list[tuple[dict, dict]]) -> dict:
    out = {"items": len(rows)}
    for f in FIELDS:
        values = [float(g[f]) for _, g in rows if g.get(f) is not None]
        out[f] = mean(values)
    return out


def scores(name: str) -> dict:
    key = json.loads((round_dir(name) / "key.json").read_text())
    by_id = {r["id"]: r for r in key["items"]}
    graded = [(by_id[g["id"]], g) for g in load_round_grades(name) if g["id"] in by_id]
    by_system: dict[str, list] = defaultdict(list)
    by_day: dict[tuple[str, str], list] = defaultdict(list)
    for k, g in graded:
        by_system[k["system"]].append((k, g))
        by_day[(k["day"], k["system"])].append((k, g))
    return {
        "round": name, "commit": key.get("commit"), "graded": len(graded), "keyed": len(by_id),
        "systems": {s: aggregate(v) for s, v in sorted(by_system.items())},
        "days": {f"{d} {s}": aggregate(v) for (d, s), v in sorted(by_day.items())},
    }


def score(args: argparse.Namespace) -> int:
    result = scores(args.round)
    print(f"round {result['round']} (commit {result['commit']}): {result['graded']} of {result['keyed']} items graded")
    header = "| system | items | " + " | ".join(FIELDS) + " |"
    print(header)
    print("|" + " --- |" * (len(FIELDS) + 2))
    for system, m in result["systems"].items():
        print(f"| {system} | {m['items']} | " + " | ".join("-" if m[f] is None else f"{m[f]:.2f}" for f in FIELDS) + " |")
    if args.days:
        print()
        print("| day | system | items | value | standalone | substance |")
        print("| --- | --- | --- | --- | --- | --- |")
        for k, m in result["days"].items():
            day, system = k.split(" ", 1)
            print(f"| {day} | {system} | {m['items']} | {m['value']} | {m['standalone']} | {m['substance']} |")
    pod, ed = result["systems"].get("podigest"), result["systems"].get("extractive_editor")
    if pod and ed and pod["value"] is not None and ed["value"]:
        print(f"\npodigest value / extractive editor value = {pod['value'] / ed['value']:.2f}")
    (round_dir(args.round) / "scores.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("digests", help="run podigest on the days and keep each digest")
    d.add_argument("--round", required=True)
    d.add_argument("--days", nargs="+", required=True)
    d.add_argument("--commit", help="judge this commit (git archive), not the working tree")
    d.add_argument("--in-process", action="store_true", help="dev days: run the insight chain here, not `podigest run`")
    p = sub.add_parser("packet", help="build the packets and the key")
    p.add_argument("--round", required=True)
    p.add_argument("--days", nargs="+", required=True)
    p.add_argument("--systems", nargs="*", choices=SYSTEMS)
    p.add_argument("--compare", nargs="*", help="also mix in the digests of these earlier rounds (podigest@ROUND)")
    s = sub.add_parser("score", help="aggregate the grades by system (and day)")
    s.add_argument("--round", required=True)
    s.add_argument("--days", action="store_true", help="also print each day")
    args = parser.parse_args(argv)
    return {"digests": digests, "packet": packet, "score": score}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
