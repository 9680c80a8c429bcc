"""The extractive editor: the attainable target the judge compares podigest with (../shared/reader_rubric.md,
"The extractive editor"). Editors read each episode whole and may only copy: per episode, the two best
verbatim extracts (whole sentences, 20-90 words, a topic line of at most 8 words, at most one bracketed
name); then a chief editor takes the day's five from them, one per story, at most two per show.

    .venv/bin/python bench/editor.py packets --days D ... --out DIR     # episode packets for editors
    .venv/bin/python bench/editor.py collect --out DIR                   # their picks -> references
    .venv/bin/python bench/editor.py chief-packets --days D ... --out DIR
    .venv/bin/python bench/editor.py chief-collect --out DIR

Packets quote transcripts (written outside the repository). What is kept in bench/judgements/editor/ is
references only: picks/<episode_id>.json (sentence range in the pipeline's sentences, times, a hash of the
text, the topic line, the bracketed name and the word it follows) and <day>.json (the chief's five)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from real_corpus import REPO, load_manifest, select_days  # noqa: E402

EDITOR = REPO / "bench" / "judgements" / "editor"
PICKS = EDITOR / "picks"
WORDS_PER_PACKET = 45_000
WORD_LIMITS = (15, 100)  # the rubric's 20-90, with a little room for how words are counted
CONTEXT_WORDS = 70


def _graded():
    from training import graded

    return graded


def episode_block(episode_id: str) -> tuple[str, int]:
    graded = _graded()
    episode = graded.transcript(episode_id)
    notes = graded.show_notes().get(episode_id, "")
    lines = [f"## Episode {episode_id}", f"Show: {episode.show}", f"Title: {episode.title}"]
    if notes:
        lines.append("Show notes: " + " ".join(notes.split()))
    lines.append("Transcript (one numbered sentence per line):")
    speaker, words = None, 0
    for i, s in enumerate(episode.sentences):
        who = f"{s.speaker}: " if s.speaker and s.speaker != speaker else ""
        speaker = s.speaker or speaker
        lines.append(f"[{i}] {who}{s.text}")
        words += len(s.text.split())
    lines.append("")
    return "\n".join(lines), words


def packets(args: argparse.Namespace) -> int:
    manifest = load_manifest()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    episodes = list(dict.fromkeys(e for d in select_days(manifest, days=args.days) for e in manifest["days"][d]["episode_ids"]))
    done = {p.stem for p in PICKS.glob("*.json")}
    episodes = [e for e in episodes if e not in done]
    groups: list[list[tuple[str, str, int]]] = [[]]
    for eid in episodes:
        block, words = episode_block(eid)
        if groups[-1] and sum(w for _, _, w in groups[-1]) + words > args.words:
            groups.append([])
        groups[-1].append((eid, block, words))
    existing = len(list(out.glob("E*.md")))
    for k, group in enumerate(g for g in groups if g):
        name = f"E{existing + k + 1:02d}"
        head = [f"# Editor packet {name}: {len(group)} episodes", ""]
        (out / f"{name}.md").write_text("\n".join(head) + "\n".join(b for _, b, _ in group), encoding="utf-8")
        print(f"{name}: {len(group)} episodes, {sum(w for _, _, w in group)} words: {' '.join(e for e, _, _ in group)}")
    return 0


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def bracket_position(shown: str, after: str) -> int | None:
    """The number of words of `shown` after which the bracketed name goes: right after the words `after`."""
    words, anchor = _words(shown), _words(after)
    if not anchor:
        return 0
    for i in range(len(words) - len(anchor) + 1):
        if words[i : i + len(anchor)] == anchor:
            return i + len(anchor)
    return None


def collect(args: argparse.Namespace) -> int:
    graded = _graded()
    PICKS.mkdir(parents=True, exist_ok=True)
    kept = dropped = 0
    for path in sorted(Path(args.out).glob("E*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for ep in data["episodes"]:
            eid = ep["episode_id"]
            episode = graded.transcript(eid)
            refs = []
            for n, pick in enumerate(ep.get("picks") or [], start=1):
                first, last = int(pick["first"]), int(pick["last"])
                if not 0 <= first <= last < len(episode.sentences):
                    print(f"{path.stem} {eid} pick {n}: sentences {first}-{last} out of range: dropped")
                    dropped += 1
                    continue
                ref = graded.reference(episode, first, last, "editor")
                shown = graded.shown_text(list(episode.sentences[first : last + 1]))
                count = len(shown.split())
                if not WORD_LIMITS[0] <= count <= WORD_LIMITS[1]:
                    print(f"{path.stem} {eid} pick {n}: {count} words: dropped")
                    dropped += 1
                    continue
                bracket = pick.get("bracket") or None
                if bracket:
                    where = bracket_position(shown, bracket.get("after") or "")
                    if where is None:
                        print(f"{path.stem} {eid} pick {n}: bracket anchor not found: bracket left out")
                        bracket = None
                    else:
                        bracket = {"name": str(bracket["name"]).strip(), "after_words": where}
                refs.append({**ref, "pick_id": f"{eid}#{n}", "topic": str(pick.get("topic") or "").strip(),
                             "bracket": bracket, "editor": path.stem})
                kept += 1
            graded.write_json(PICKS / f"{eid}.json", {"episode_id": eid, "picks": refs})
    print(f"{kept} picks kept, {dropped} dropped")
    return 0


def load_picks(episode_id: str) -> list[dict]:
    path = PICKS / f"{episode_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))["picks"] if path.is_file() else []


def pick_text(pick: dict) -> str:
    """The extract as the reader would see it: the cleaned span, the bracketed name in place."""
    graded = _graded()
    _, window = graded.rebuild(pick)
    words = graded.shown_text(window).split()
    bracket = pick.get("bracket")
    if bracket:
        cut = bracket["after_words"]
        words = [*words[:cut], f"[{bracket['name']}]", *words[cut:]]
    return " ".join(words)


def chief_packets(args: argparse.Namespace) -> int:
    graded = _graded()
    manifest = load_manifest()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for day in select_days(manifest, days=args.days):
        lines = [f"# Chief editor packet {day}", ""]
        count = 0
        for eid in manifest["days"][day]["episode_ids"]:
            episode = graded.transcript(eid)
            for pick in load_picks(eid):
                before = []
                for s in reversed(episode.sentences[: pick["first_sentence"]]):
                    before.insert(0, s.text)
                    if sum(len(b.split()) for b in before) >= CONTEXT_WORDS:
                        break
                lines += [f"## Extract {pick['pick_id']}", f"Show: {episode.show}. Episode: {episode.title}",
                          f"Before: {' '.join(before)}", f">>> {pick['topic']}: {pick_text(pick)}", ""]
                count += 1
        (out / f"chief-{day}.md").write_text("\n".join(lines), encoding="utf-8")
        print(f"{day}: {count} extracts")
    return 0


def chief_collect(args: argparse.Namespace) -> int:
    for path in sorted(Path(args.out).glob("chief-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        day = data["day"]
        chosen = [str(p) for p in data["chosen"]][:5]
        known = {p["pick_id"] for eid in load_manifest()["days"][day]["episode_ids"] for p in load_picks(eid)}
        unknown = [p for p in chosen if p not in known]
        if unknown:
            raise SystemExit(f"{path}: unknown extracts {unknown}")
        _graded().write_json(EDITOR / f"{day}.json", {"day": day, "chosen": chosen})
        print(f"{day}: {len(chosen)} chosen")
    return 0


def chosen_items(day: str) -> list[dict]:
    """The editor's five of a day as judge items (bench/judge.py)."""
    graded = _graded()
    path = EDITOR / f"{day}.json"
    if not path.is_file():
        raise SystemExit(f"no extractive editor picks for {day} (bench/editor.py)")
    picks = {p["pick_id"]: p for eid in load_manifest()["days"][day]["episode_ids"] for p in load_picks(eid)}
    items = []
    for rank, pick_id in enumerate(json.loads(path.read_text())["chosen"], start=1):
        pick = picks[pick_id]
        episode = graded.transcript(pick["episode_id"])
        items.append({
            "system": "extractive_editor", "rank": rank, "topic": pick["topic"], "text": pick_text(pick),
            "speaker": "",
            "sources": [{"episode_id": pick["episode_id"], "podcast": episode.show, "episode": episode.title,
                         "start_s": pick["start_s"]}],
            "coverage": [],
        })
    return items


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("packets", "chief-packets"):
        p = sub.add_parser(name)
        p.add_argument("--days", nargs="+", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--words", type=int, default=WORDS_PER_PACKET)
    for name in ("collect", "chief-collect"):
        p = sub.add_parser(name)
        p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    commands = {"packets": packets, "collect": collect, "chief-packets": chief_packets, "chief-collect": chief_collect}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
