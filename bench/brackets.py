"""Bracketed referents checked by graders: how often the name podigest puts in brackets is the one meant.

    .venv/bin/python bench/brackets.py cases   [--out DIR] [--heldout] [--second]   # brackets placed -> packet
    .venv/bin/python bench/brackets.py collect --out DIR      # the graders' verdicts -> bench/bracket_checks.json
    .venv/bin/python bench/brackets.py score                  # precision

A case is a sentence of a transcript that leans on an unnamed referent ('He said ...', 'So then she
...', 'The company ...') in an episode of the training corpus (or, to measure, of the held-out days), with the two sentences
before it: what `names.bracket_referent` reads. Every case where it places a bracket goes to the packet (written outside the
repository: it quotes transcripts); bench/bracket_checks.json keeps references (episode, sentence, the name)
and the verdicts."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from real_corpus import REPO, load_manifest  # noqa: E402

CHECKS = REPO / "bench" / "bracket_checks.json"
LEANING = re.compile(
    r"^(?:[\w'’,]+\s+){0,3}?(?:he|she|the (?:company|firm|startup|bank|model|product|app|device|phone|chip|"
    r"book|film|movie|novel|bill|law|act|regulation|country|city))\b",
    re.I,
)


def cases(heldout: bool = False) -> list[dict]:
    """Every bracket the current rule places in the training corpus, or (heldout) in the held-out days' episodes:
    those are read only by graders, and only to measure, never to set the rule."""
    from podigest_dagster.core.insights import names
    from training.graded import corpus_index, transcript

    manifest = load_manifest()
    held = {e for d in manifest["days"].values() if d["split"] == "heldout" for e in d["episode_ids"]}
    found = []
    for eid in sorted(corpus_index()):
        if (eid in held) != heldout:
            continue
        episode = transcript(eid)
        at = [i for i, s in enumerate(episode.sentences) if i > 0 and LEANING.match(s.text)]
        if not at:
            continue
        befores = [" ".join(s.text for s in episode.sentences[max(0, i - 2) : i]) for i in at]
        docs = names.parse([episode.sentences[i].text for i in at] + befores)
        for k, i in enumerate(at):
            bracket = names.bracket_referent(docs[k], docs[len(at) + k])
            if bracket:
                found.append({"case": f"{eid}#{i}", "episode_id": eid, "sentence": i, "name": bracket.name,
                              "after_chars": bracket.after_chars, "split": "heldout" if heldout else "dev"})
    return found


def packet(args: argparse.Namespace) -> int:
    from training.graded import transcript

    data = json.loads(CHECKS.read_text()) if CHECKS.is_file() else {"about": __doc__.split("\n\n")[0], "cases": []}
    checked = {c["case"]: c for c in data["cases"] if "right" in c}
    found = [c for c in cases(args.heldout)
             if args.second or c["case"] not in checked or checked[c["case"]]["name"] != c["name"]]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# Bracket checks: {len(found)} cases", ""]
    for case in found:
        episode = transcript(case["episode_id"])
        sentence = episode.sentences[case["sentence"]].text
        before = " ".join(s.text for s in episode.sentences[max(0, case["sentence"] - 3) : case["sentence"]])
        cut = case["after_chars"]
        lines += [f"## Case {case['case']}", f"Before: {before}",
                  f">>> {sentence[:cut]} [{case['name']}]{sentence[cut:]}", ""]
    (out / "brackets.md").write_text("\n".join(lines), encoding="utf-8")
    if args.second:  # every case again, for a second grader: the verdicts so far stay
        print(f"{len(found)} cases for a second grader; packet {out / 'brackets.md'}")
        return 0
    data["cases"] = [c for c in data["cases"] if c["case"] not in {f["case"] for f in found}] + found
    CHECKS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{len(found)} cases not yet checked; packet {out / 'brackets.md'}")
    return 0


def collect(args: argparse.Namespace) -> int:
    data = json.loads(CHECKS.read_text())
    verdicts = {}
    for path in sorted(Path(args.out).glob("brackets*.json")):
        for row in json.loads(path.read_text())["verdicts"]:
            verdicts[row["case"]] = row
    field = "second_right" if args.second else "right"
    for case in data["cases"]:
        if case["case"] in verdicts:
            case[field] = verdicts[case["case"]]["right"]
            if not args.second:
                case["why"] = str(verdicts[case["case"]].get("why", ""))[:120]
    CHECKS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{sum('right' in c for c in data['cases'])} verdicts")
    return 0


def score(args: argparse.Namespace) -> int:
    """Precision of the brackets the current rule places (a case checked under an earlier, looser rule counts
    only when the current rule places the same name there)."""
    data = json.loads(CHECKS.read_text())
    total = [0, 0]
    for split in ("dev", "heldout"):
        current = {(c["case"], c["name"]) for c in cases(split == "heldout")}
        placed = [c for c in data["cases"] if (c["case"], c["name"]) in current]
        checked = [c for c in placed if c.get("right") in (True, False)]
        right = sum(c["right"] for c in checked)
        unsure = sum(1 for c in placed if c.get("right") == "unsure")
        total = [total[0] + len(checked), total[1] + right]
        print(f"{split}: {len(current)} brackets placed, {len(checked)} checked, {right} right: precision "
              f"{right / max(len(checked), 1):.3f} ({unsure} left unsure by the graders)")
    print(f"all: {total[0]} checked, {total[1]} right: precision {total[1] / max(total[0], 1):.3f}")
    twice = [c for c in data["cases"] if c.get("right") in (True, False) and c.get("second_right") in (True, False)]
    if twice:
        agree = sum(c["right"] == c["second_right"] for c in twice)
        second = sum(c["second_right"] for c in twice)
        print(f"graded twice: {len(twice)}, verdicts agree on {agree}; the second grader finds {second} right "
              f"(precision {second / len(twice):.3f}) where the first found {sum(c['right'] for c in twice)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("cases")
    p.add_argument("--out", default=str(Path.home() / ".podigest" / "brackets"))
    p.add_argument("--heldout", action="store_true", help="cases of the held-out days' episodes (to measure)")
    p.add_argument("--second", action="store_true", help="every case the rule places, for a second grader")
    c = sub.add_parser("collect")
    c.add_argument("--out", default=str(Path.home() / ".podigest" / "brackets"))
    c.add_argument("--second", action="store_true", help="the verdicts are a second grader's")
    sub.add_parser("score")
    args = parser.parse_args(argv)
    return {"cases": packet, "collect": collect, "score": score}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
