"""Bracketed referents checked by graders: how often the name podigest puts in brackets is the one meant.

    .venv/bin/python bench/brackets.py cases   [--out DIR]   # every bracket the product would place -> packet
    .venv/bin/python bench/brackets.py collect --out DIR      # the graders' verdicts -> bench/bracket_checks.json
    .venv/bin/python bench/brackets.py score                  # precision

A case is a sentence that can open a passage and leans on an unnamed referent ('He said ...', 'The company
...') in an episode of the training corpus (no held-out day's), with the three sentences before it: exactly what
`names.bracket_referent` reads. Every case where it places a bracket goes to the packet (written outside the
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
    r"^(?:so,? |and |but |well,? )?(?:he|she|the (?:company|firm|startup|bank|model|product|app|device|phone|chip|"
    r"book|film|movie|novel|bill|law|act|regulation|country|city))\b",
    re.I,
)


def cases() -> list[dict]:
    from podigest_dagster.core.insights import names
    from training.graded import corpus_index, transcript

    manifest = load_manifest()
    held = {e for d in manifest["days"].values() if d["split"] == "heldout" for e in d["episode_ids"]}
    found = []
    for eid in sorted(corpus_index()):
        if eid in held:
            continue
        episode = transcript(eid)
        at = [i for i, s in enumerate(episode.sentences) if s.opens and LEANING.match(s.text)]
        if not at:
            continue
        befores = [" ".join(s.text for s in episode.sentences[max(0, i - 3) : i]) or " " for i in at]
        docs = names.parse([episode.sentences[i].text for i in at] + befores)
        for k, i in enumerate(at):
            bracket = names.bracket_referent(docs[k], docs[len(at) + k])
            if bracket:
                found.append({"case": f"{eid}#{i}", "episode_id": eid, "sentence": i, "name": bracket.name,
                              "after_chars": bracket.after_chars})
    return found


def packet(args: argparse.Namespace) -> int:
    from training.graded import transcript

    found = cases()
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
    data = json.loads(CHECKS.read_text()) if CHECKS.is_file() else {"about": __doc__.split("\n\n")[0], "cases": []}
    known = {c["case"] for c in data["cases"]}
    data["cases"] += [c for c in found if c["case"] not in known]
    CHECKS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{len(found)} cases; packet {out / 'brackets.md'}")
    return 0


def collect(args: argparse.Namespace) -> int:
    data = json.loads(CHECKS.read_text())
    verdicts = {}
    for path in sorted(Path(args.out).glob("brackets*.json")):
        for row in json.loads(path.read_text())["verdicts"]:
            verdicts[row["case"]] = row
    for case in data["cases"]:
        if case["case"] in verdicts:
            case["right"] = verdicts[case["case"]]["right"]
            case["why"] = str(verdicts[case["case"]].get("why", ""))[:120]
    CHECKS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{sum('right' in c for c in data['cases'])} verdicts")
    return 0


def score(args: argparse.Namespace) -> int:
    data = json.loads(CHECKS.read_text())
    checked = [c for c in data["cases"] if c.get("right") in (True, False)]
    right = sum(c["right"] for c in checked)
    unsure = sum(1 for c in data["cases"] if c.get("right") == "unsure")
    print(f"{len(checked)} brackets checked, {right} right: precision {right / max(len(checked), 1):.3f} "
          f"({unsure} left unsure by the graders)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("cases")
    p.add_argument("--out", default=str(Path.home() / ".podigest" / "brackets"))
    c = sub.add_parser("collect")
    c.add_argument("--out", default=str(Path.home() / ".podigest" / "brackets"))
    sub.add_parser("score")
    args = parser.parse_args(argv)
    return {"cases": packet, "collect": collect, "score": score}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
