"""A small warehouse written row by row for the reader-facing tests (search, site, readers): episodes with
transcript segments, embedded insight passages, stored digests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np


def add_episode(
    conn,
    episode_id: str,
    day: date | str,
    podcast: str,
    segments: list[str],
    *,
    title: str | None = None,
    audio_url: str | None = None,
    link: str | None = None,
    seconds_per_segment: float = 5.0,
    speakers: list[str | None] | None = None,
) -> None:
    """An episode published on `day` with one transcript segment per text, `seconds_per_segment` apart,
    each spoken by its entry of `speakers` (none named when not given)."""
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO episodes (episode_id, feed_url, podcast, title, partition_date, date_status, link, "
        "enclosure_url, enclosure_type, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?)",
        [
            episode_id,
            f"https://feeds.example.org/{abs(hash(podcast))}.xml",
            podcast,
            title or f"{podcast}: episode {episode_id}",
            day,
            link if link is not None else f"https://example.org/episodes/{episode_id}",
            audio_url if audio_url is not None else f"https://cdn.example.org/{episode_id}.mp3",
            "audio/mpeg",
            now,
            now,
        ],
    )
    named = speakers or [None] * len(segments)
    conn.executemany(
        "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source, speaker) "
        "VALUES (?, ?, ?, ?, ?, 'test', ?)",
        [
            [episode_id, seq, seq * seconds_per_segment, (seq + 1) * seconds_per_segment, text, speaker]
            for seq, (text, speaker) in enumerate(zip(segments, named, strict=True))
        ],
    )


def add_passage(
    conn,
    candidate_id: str,
    episode_id: str,
    day: date | str,
    start_s: float,
    text: str,
    vector: np.ndarray,
    score: float = 0.6,
    seq: int = 0,
) -> None:
    """An insight candidate made of segments `seq` and `seq + 1`, with its embedding, as insight_embeddings
    stores it."""
    conn.execute(
        "INSERT INTO insight_candidates (candidate_id, partition_date, episode_id, seq_start, seq_end, start_s, "
        "end_s, raw_text, text, score, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')",
        [candidate_id, day, episode_id, seq, seq + 1, start_s, start_s + 10.0, text, text, score],
    )
    conn.execute(
        "INSERT INTO insight_embeddings (candidate_id, model, embedding) VALUES (?, 'all-MiniLM-L6-v2', ?::FLOAT[384])",
        [candidate_id, np.asarray(vector, dtype=np.float32).tolist()],
    )


def source(podcast: str, episode: str, episode_id: str, start_s: float, audio_url: str | None = None) -> dict:
    """One digest source as top_insights and digest_items store it."""
    base = audio_url or f"https://cdn.example.org/{episode_id}.mp3"
    return {
        "podcast": podcast,
        "episode": episode,
        "episode_id": episode_id,
        "url": f"{base}#t={int(start_s)}",
        "start_s": start_s,
        "end_s": start_s + 10.0,
    }


def add_top_insights(
    conn, day: date | str, items: list[tuple[str, int, list[dict]]], topics: list[str] | None = None
) -> None:
    """The day's ranked top insights: (insight, support, sources) each, optional topics by rank."""
    conn.execute("DELETE FROM top_insights WHERE partition_date = ?", [day])
    for rank, (insight, support, sources) in enumerate(items, start=1):
        conn.execute(
            "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
            "support, score, sources, rewrite_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'extractive')",
            [day, rank, rank, f"c{rank}", insight, insight, support, 1.0 / rank, json.dumps(sources)],
        )
        if topics:
            conn.execute(
                "UPDATE top_insights SET topic = ? WHERE partition_date = ? AND rank = ?",
                [topics[rank - 1], day, rank],
            )


def add_digest(conn, day: str, items: list[tuple]) -> None:
    """A stored digest of the day, as daily_digest stores it: (topic, insight, support, sources[, speaker[,
    coverage]]) per item; an item without the last two is one stored before migration 008."""
    from podigest_dagster.core.digest.render import Digest, render_all
    from podigest_dagster.core.digest.store import save_digest

    digest = Digest(day, [digest_item(rank, *item) for rank, item in enumerate(items, start=1)])
    save_digest(conn, digest, render_all(digest), datetime.now(UTC))


def digest_item(rank: int, topic: str, insight: str, support: int, sources: list[dict], speaker: str = "",
                coverage: list[dict] | None = None):  # fmt: skip
    """One digest item from sources and coverage as top_insights stores them."""
    from podigest_dagster.core.digest.render import DigestItem, sources_from_json

    return DigestItem(rank, insight, support, sources_from_json(json.dumps(sources)), topic=topic, speaker=speaker,
                      coverage=sources_from_json(json.dumps(coverage or [])))  # fmt: skip


HOSTILE_SHOW = "Evil <img src=x onerror=alert(1)> Radio"
HOSTILE_EPISODE = "Ep <script>alert(2)</script>"
HOSTILE_INSIGHT = "<script>alert(3)</script> Free parking costs cities <b>thousands</b> a year per space."
HOSTILE_TOPIC = "<img src=y onerror=alert(4)>"
HOSTILE_SPEAKER = "<script>alert(6)</script> Mallory <i>"
HEAT_SPEAKER = "Jane Doe"
HEAT_INSIGHT = (
    "Heat pumps deliver roughly three times more heat than the electricity they consume, because they move "
    "heat rather than make it."
)


def site_archive(conn, audio_dir, web_audio_url: str, local_audio) -> dict[str, float]:
    """Two days for the web archive: 2024-03-05 with two items (one all hostile text), 2024-03-04 empty.
    The heat-pump story is City Signals' (said by Jane Doe) and Night Owls covered it too; the hostile item
    is one show's. City Signals' audio is on the web (`web_audio_url`); Night Owls has only a cached local
    copy (`local_audio`, copied under `audio_dir`). Returns each show's cited second."""
    import shutil
    from pathlib import Path

    cached = Path(audio_dir) / "ab" / "night-owls.mp3"
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(local_audio, cached)
    add_episode(conn, "city-1", "2024-03-05", "City Signals", ["heat pumps move heat"], title="Cooler streets",
                audio_url=web_audio_url, speakers=[HEAT_SPEAKER])  # fmt: skip
    add_episode(conn, "owls-1", "2024-03-05", "Night Owls", ["heat pumps again"], title="Winter",
                audio_url="file:///srv/podcasts/owls.mp3", link="javascript:alert(5)")  # fmt: skip
    conn.execute(
        "INSERT INTO episode_audio (episode_id, partition_date, status, path, content_type, bytes) "
        "VALUES ('owls-1', '2024-03-05', 'ok', ?, 'audio/mpeg', ?)",
        [str(cached), cached.stat().st_size],
    )
    add_episode(conn, "evil-1", "2024-03-05", HOSTILE_SHOW, [HOSTILE_INSIGHT], title=HOSTILE_EPISODE,
                speakers=[HOSTILE_SPEAKER])  # fmt: skip
    starts = {"City Signals": 24.0, "Night Owls": 41.0, HOSTILE_SHOW: 12.0}
    add_digest(
        conn,
        "2024-03-05",
        [
            ("Heat pumps", HEAT_INSIGHT, 2, [
                source("City Signals", "Cooler streets", "city-1", starts["City Signals"], web_audio_url),
            ], HEAT_SPEAKER, [
                source("Night Owls", "Winter", "owls-1", starts["Night Owls"], "file:///srv/podcasts/owls.mp3"),
            ]),
            (HOSTILE_TOPIC, HOSTILE_INSIGHT, 1, [source(HOSTILE_SHOW, HOSTILE_EPISODE, "evil-1", starts[HOSTILE_SHOW])],
             HOSTILE_SPEAKER, []),
        ],
    )  # fmt: skip
    add_digest(conn, "2024-03-04", [])
    return starts
