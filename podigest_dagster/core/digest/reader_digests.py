"""Every reader's digest of a day: chosen once from the day's stories, stored (reader_digests), printed
by `podigest digest --reader`, and emailed with a footer saying why these items."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from datetime import date as Day

import duckdb
import numpy as np

from podigest_dagster.core.digest import store as digest_store
from podigest_dagster.core.digest.delivery import Letter
from podigest_dagster.core.digest.for_reader import (
    Embed,
    GeneralItem,
    ReaderDigest,
    choose_for_reader,
    general_digest_for,
)
from podigest_dagster.core.digest.readers import Reader, reader_key
from podigest_dagster.core.digest.render import (
    Digest,
    DigestItem,
    render_html,
    render_markdown,
    render_text,
    sources_from_json,
    to_contract,
)
from podigest_dagster.core.insights import store as insight_store
from podigest_dagster.core.insights.embedding import DIMENSIONS
from podigest_dagster.core.insights.pipeline import episode_infos
from podigest_dagster.core.insights.selection import EpisodeInfo
from podigest_dagster.core.insights.stories import Story
from podigest_dagster.core.text.display import clean_text

LOOKBACK_DAYS = 30
FOOTER_TITLE = "Why these items"


@dataclass
class DayPool:
    """What every reader's digest of a day is chosen from, loaded once for all readers; and what each
    reader was sent in the lookback window (the general digests' items are everyone's past)."""

    stories: list[Story]
    past_embeddings: np.ndarray
    general: dict[str, GeneralItem]
    general_ids: list[str]
    episodes: dict[str, EpisodeInfo] = field(default_factory=dict)
    sent_to: dict[str, np.ndarray] = field(default_factory=dict)

    def past_for(self, reader: Reader) -> np.ndarray:
        """What counts as already sent to this reader: the recent general digests and their own emails."""
        own = self.sent_to.get(reader.key, np.zeros((0, DIMENSIONS), np.float32))
        return np.concatenate([self.past_embeddings, own])


def load_pool(
    conn: duckdb.DuckDBPyConnection, date: str, readers: list[Reader] | None = None, lookback_days: int = LOOKBACK_DAYS
) -> DayPool:
    """The day's stories, what recent digests sent (for the repeat check), the general items as they were
    sent, the day's transcripts (to name items outside the general digest), and what each of `readers` was
    emailed before."""
    day = Day.fromisoformat(date)
    stories = insight_store.load_stories(conn, day)
    past, _ = insight_store.load_past_sent(conn, day, lookback_days)
    rows = digest_store.load_general_rows(conn, date)
    sent = {item.rank: item for item in digest_store.load_top_insights(conn, date).items}
    general = {}
    for rank, cid, insight, topic, speaker, _ in rows:
        item = sent.get(rank)
        general[cid] = GeneralItem(
            cid, insight, topic, speaker, item.support if item else 1,
            list(item.sources) if item else [], list(item.coverage) if item else [],
        )
    episodes = episode_infos(insight_store.load_day_transcripts(conn, day)) if readers else {}
    sent_to = {}
    for reader in readers or []:
        vectors, _ = digest_store.load_reader_sent(conn, reader.key, date, lookback_days)
        sent_to[reader.key] = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), DIMENSIONS)
    return DayPool(stories, past, general, [row[1] for row in rows], episodes, sent_to)


def digest_for(reader: Reader, general: Digest, pool: DayPool | None, embed: Embed) -> ReaderDigest:
    """One reader's digest: the general one without interests or mutes, else their own choice."""
    if not reader.personal or pool is None:
        return general_digest_for(reader, general, pool.general_ids if pool else [])
    if not general.items or not pool.stories:
        return ReaderDigest(reader, Digest(general.date, []), [], [])
    return choose_for_reader(
        reader, general.date, pool.stories, embed, pool.general, pool.past_for(reader), pool.episodes
    )


# --- stored form -----------------------------------------------------------------------------------


def stored_row(chosen: ReaderDigest) -> tuple[str, str, str, str]:
    """(reader, digest kind, interests JSON, items JSON) as reader_digests stores it."""
    items = to_contract(chosen.digest)["items"]
    ids = [*chosen.candidate_ids, *[""] * (len(items) - len(chosen.candidate_ids))]
    for item, source_item, why, cid in zip(items, chosen.digest.items, chosen.reasons, ids, strict=False):
        item["sources"] = [asdict(s) for s in source_item.sources]
        item["coverage"] = [asdict(s) for s in source_item.coverage]
        item["why"] = why
        item["candidate_id"] = cid
    interests = json.dumps(list(chosen.reader.interests), ensure_ascii=False)
    return chosen.reader.key, chosen.kind, interests, json.dumps(items, ensure_ascii=False)


def from_stored(reader: Reader, date: str, kind: str, items_json: str) -> ReaderDigest:
    """A stored reader digest rebuilt (the inverse of `stored_row`)."""
    items = [i for i in json.loads(items_json or "[]") if isinstance(i, dict)]
    digest_items = [
        DigestItem(
            int(i.get("rank") or n),
            str(i.get("insight") or ""),
            int(i.get("support") or 1),
            sources_from_json(json.dumps(i.get("sources") or [])),
            topic=str(i.get("topic") or ""),
            speaker=str(i.get("speaker") or ""),
            coverage=sources_from_json(json.dumps(i.get("coverage") or [])),
        )
        for n, i in enumerate(items, start=1)
    ]
    return ReaderDigest(
        reader,
        Digest(date, digest_items),
        [str(i.get("why") or "") for i in items],
        [str(i.get("candidate_id") or "") for i in items],
        general=kind == "general",
    )


# --- renderings with the "why these items" footer ---------------------------------------------------


def footer_lines(chosen: ReaderDigest) -> list[str]:
    """One line per item saying why it is there, and what the digest was chosen for (plain text)."""
    reader = chosen.reader
    if chosen.general:
        lines = ["You get the general digest: the day's best-supported insights, for everyone."]
        lines.append(
            "Add interests to get your own: podigest readers add " + reader.key + ' --interests "..."'
        )
        return lines
    lines = [f"{item.rank}. {why}" for item, why in zip(chosen.digest.items, chosen.reasons, strict=False)]
    if reader.interests:
        lines.append("Your interests: " + ", ".join(reader.interests))
    if reader.muted_shows:
        lines.append("Muted shows (never included): " + ", ".join(reader.muted_shows))
    if reader.muted_topics:
        lines.append("Muted topics (never included): " + ", ".join(reader.muted_topics))
    return lines


def render_reader(chosen: ReaderDigest, fmt: str) -> str:
    """The reader's digest as md | text | html | json, the footer included."""
    lines = [clean_text(line) for line in footer_lines(chosen)]
    if fmt == "json":
        data = to_contract(chosen.digest)
        for item, why in zip(data["items"], chosen.reasons, strict=False):
            item["why"] = why
        data["reader"] = chosen.reader.key
        data["digest"] = chosen.kind
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        from podigest_dagster.core.digest.render import escape_markdown

        body = render_markdown(chosen.digest).rstrip("\n")
        return (
            body
            + f"\n\n## {FOOTER_TITLE}\n\n"
            + "\n".join(f"- {escape_markdown(line)}" for line in lines)
            + "\n"
        )
    if fmt == "text":
        return render_text(chosen.digest).rstrip("\n") + f"\n\n{FOOTER_TITLE}\n" + "\n".join(lines) + "\n"
    if fmt == "html":
        return with_html_footer(render_html(chosen.digest), lines)
    raise ValueError(f"unknown format {fmt!r}")


def with_html_footer(document: str, lines: list[str]) -> str:
    """The email HTML with an email-safe footer (inline styles, escaped text) before </body>."""
    items = "".join(f'<li style="margin:2px 0;">{html.escape(line)}</li>' for line in lines)
    footer = (
        '<div role="contentinfo" style="max-width:600px;margin:0 auto;padding:8px 16px 16px 16px;'
        'font-family:Helvetica,Arial,sans-serif;font-size:13px;color:#333333;background-color:#ffffff;">'
        f'<p style="margin:0 0 4px 0;font-weight:bold;">{FOOTER_TITLE}</p>'
        f'<ul style="margin:0;padding-left:18px;">{items}</ul></div>'
    )
    head, found, tail = document.rpartition("</body>")
    return f"{head}{footer}{found}{tail}" if found else document + footer


# --- the day's letters -----------------------------------------------------------------------------


def letters_for(
    readers: list[Reader],
    recipients: tuple[str, ...] | list[str],
    general: Digest,
    stored: dict[str, tuple[str, str]],
) -> tuple[list[Letter], list[str]]:
    """One letter per reader (their stored digest with its footer) and per recipient of
    PODIGEST_DIGEST_RECIPIENTS who is not a reader (the general digest, as before); and one line per
    reader left out today, saying why."""
    letters, skipped = [], []
    for reader in readers:
        if reader.key in stored:
            chosen = from_stored(reader, general.date, *stored[reader.key])
        elif not reader.personal:
            chosen = general_digest_for(reader, general)
        else:
            skipped.append(
                f"{reader.key}: no digest of theirs stored for {general.date} (materialise reader_digests)"
            )
            continue
        if not chosen.digest.items:
            skipped.append(f"{reader.key}: nothing for them on {general.date} after their mutes")
            continue
        items = json.dumps(chosen.ledger_items(), ensure_ascii=False)
        letters.append(
            Letter(
                reader.address,
                reader.key,
                render_reader(chosen, "text"),
                render_reader(chosen, "html"),
                chosen.kind,
                items,
            )
        )
    known = {reader.key for reader in readers}
    rendered_text, rendered_html = render_text(general), render_html(general)
    for recipient in recipients:
        if reader_key(recipient) not in known:
            known.add(reader_key(recipient))
            letters.append(Letter(recipient, reader_key(recipient), rendered_text, rendered_html))
    return letters, skipped
