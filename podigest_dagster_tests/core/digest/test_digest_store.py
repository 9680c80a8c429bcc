"""Digest files: a killed write leaves only a temp file, and the next write clears it; stored renderings."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from podigest_dagster.core.digest.render import Digest, DigestItem, Source, render_all
from podigest_dagster.core.digest.store import (
    load_archive_items,
    load_feed_entries,
    load_rendering,
    load_stored_digest,
    load_top_insights,
    remove_stale_temp_files,
    save_digest,
    write_atomic,
)
from podigest_dagster.warehouse.db import read_connection, write_connection


def test_temp_files_of_a_killed_write_are_cleared_and_never_taken_as_final(tmp_path):
    (tmp_path / ".2026-11-27.html.abc123.tmp").write_text("<p>half")
    (tmp_path / ".2026-11-26.html.zzz.tmp").write_text("other day")
    write_atomic(tmp_path / "2026-11-27.html", "<p>old</p>")
    assert remove_stale_temp_files(tmp_path, "2026-11-27") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2026-11-26.html.zzz.tmp", "2026-11-27.html"]
    assert (tmp_path / "2026-11-27.html").read_text() == "<p>old</p>"


def test_a_stored_rendering_comes_back_in_each_format_and_an_unknown_format_is_refused(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    item = DigestItem(1, "Caches beat clever code, because memory is cheap.", 2, [Source("Show", "Ep", None, 3.0)])
    digest = Digest("2024-03-05", [item])
    rendered = render_all(digest)
    with write_connection(db_path) as conn:
        save_digest(conn, digest, rendered, datetime.now(UTC))
    with read_connection(db_path) as conn:
        assert load_rendering(conn, "2024-03-05", "markdown") == rendered.markdown
        assert load_rendering(conn, "2024-03-05", "html") == rendered.html
        assert load_rendering(conn, "2024-03-04", "text") is None
        with pytest.raises(ValueError, match="unknown digest format"):
            load_rendering(conn, "2024-03-05", "html FROM digests; --")


def _add_episode(conn, episode_id: str, link: str | None, enclosure: str | None) -> None:
    conn.execute(
        "INSERT INTO episodes (episode_id, feed_url, date_status, link, enclosure_url, first_seen_at, updated_at) "
        "VALUES (?, 'https://show.example/feed.xml', 'ok', ?, ?, now(), now())",
        [episode_id, link, enclosure],
    )


def _save(conn, date: str, *sources: Source) -> None:
    items = [DigestItem(1, "First insight.", 1, list(sources)), DigestItem(2, "Second.", 1, [_OTHER])]
    digest = Digest(date, items)
    save_digest(conn, digest, render_all(digest), datetime(2024, 3, 7, tzinfo=UTC))


_OTHER = Source("Other", "Elsewhere", "https://other.example/o.mp3#t=1", 1.0, episode_id="other")


def test_feed_entries_link_to_the_first_sources_episode_page_else_its_audio_never_a_file(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    with write_connection(db_path) as conn:
        _add_episode(conn, "page", "https://show.example/episodes/1", "https://cdn.example/1.mp3")
        _add_episode(conn, "audio-only", "file:///etc/passwd", "https://cdn.example/2.mp3")
        _add_episode(conn, "local", None, "file:///podigest/demo/audio/3.mp3")
        _add_episode(conn, "other", "https://other.example/page", None)
        _save(conn, "2024-03-01", Source("S", "E", "https://cdn.example/1.mp3#t=5", 5.0, episode_id="page"))
        _save(conn, "2024-03-02", Source("S", "E", None, 5.0, episode_id="audio-only"))
        _save(
            conn,
            "2024-03-03",
            Source("S", "E", "file:///podigest/demo/audio/3.mp3#t=5", 5.0, episode_id="local"),
            Source("T", "F", "https://second.example/f.mp3#t=9", 9.0, episode_id="gone"),
        )
        _save(conn, "2024-03-04", Source("S", "E", "file:///x.mp3#t=1", 1.0, episode_id="local"))
    with read_connection(db_path) as conn:
        links = {entry.date: entry.source_link for entry in load_feed_entries(conn)}
    assert links == {
        "2024-03-04": None,
        "2024-03-03": "https://second.example/f.mp3#t=9",
        "2024-03-02": "https://cdn.example/2.mp3",
        "2024-03-01": "https://show.example/episodes/1",
    }


_COVERAGE = [Source("Show A", "The talent war", "https://a.example/a.mp3#t=2700", 2700.0, 2710.0, "a-1")]


def test_speaker_and_coverage_go_from_top_insights_to_digest_items_and_back(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    source = Source("Lenny's Podcast", "Hiring", "https://l.example/l.mp3#t=5", 5.0, 15.0, "l-1")
    with write_connection(db_path) as conn:
        conn.execute(
            "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
            "support, score, sources, rewrite_status, topic, speaker, coverage) "
            "VALUES ('2024-03-05', 1, 1, 'c1', 'Kernels are scarce.', 'Kernels are scarce.', 2, 0.9, ?, "
            "'extractive', 'AI hiring', 'Lenny Rachitsky', ?)",
            [json.dumps([asdict(source)]), json.dumps([asdict(s) for s in _COVERAGE])],
        )
        digest = load_top_insights(conn, "2024-03-05")
        assert digest.items == [
            DigestItem(1, "Kernels are scarce.", 2, [source], "AI hiring", speaker="Lenny Rachitsky", coverage=_COVERAGE)
        ]
        save_digest(conn, digest, render_all(digest), datetime.now(UTC))
    with read_connection(db_path) as conn:
        assert load_stored_digest(conn, "2024-03-05") == digest
        assert load_archive_items(conn) == [("2024-03-05", digest.items[0])]
        assert "Also discussed on: Show A @ 45:00" in load_rendering(conn, "2024-03-05", "text")


def test_rows_written_before_migration_008_load_with_no_speaker_and_no_coverage(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    with write_connection(db_path) as conn:
        conn.execute(
            "INSERT INTO top_insights (partition_date, rank, cluster_id, candidate_id, insight, extractive_text, "
            "support, score, sources, rewrite_status) VALUES ('2024-03-05', 1, 1, 'c1', 'Old.', 'Old.', 2, 0.9, "
            """'[{"podcast": "S", "episode": "E", "url": null, "start_s": 3}]', 'extractive')"""
        )
        conn.execute(
            "INSERT INTO digests (partition_date, item_count, markdown, html, text, json, created_at) "
            "VALUES ('2024-03-04', 1, '', '', '', '{}', now())"
        )
        conn.execute(
            "INSERT INTO digest_items (partition_date, rank, insight, support, sources) VALUES ('2024-03-04', 1, "
            """'Older.', 1, '[{"podcast": "S", "episode": "E", "url": null, "start_s": 3}]')"""
        )
        (fresh,) = load_top_insights(conn, "2024-03-05").items
        (stored,) = load_stored_digest(conn, "2024-03-04").items
    for item in (fresh, stored):
        assert (item.speaker, item.coverage, item.sources[0].podcast) == ("", [], "S")
    assert "Old." in render_all(Digest("2024-03-05", [fresh])).text
