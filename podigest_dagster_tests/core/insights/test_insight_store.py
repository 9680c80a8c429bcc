from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pytest

from podigest_dagster.core.insights import store as insight_store
from podigest_dagster.core.insights.candidates import Candidate
from podigest_dagster.core.insights.selection import Source, TopItem
from podigest_dagster.core.insights.stories import Story
from podigest_dagster.warehouse import db

DAY = date(2024, 3, 5)
MODEL = "all-MiniLM-L6-v2"
RNG = np.random.default_rng(7)


def unit_vectors(n: int) -> np.ndarray:
    v = RNG.normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def add_episode(conn, episode_id: str, day: date, feed: str = "https://a.example/feed.xml",
                podcast: str | None = "Show A", title: str | None = "Title", segments: list[str] = ()) -> None:
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO episodes (episode_id, feed_url, podcast, title, partition_date, date_status, link, "
        "enclosure_url, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
        [episode_id, feed, podcast, title, day, f"https://a.example/{episode_id}",
         f"https://cdn.example/{episode_id}.mp3", now, now],
    )
    for seq in reversed(range(len(segments))):
        conn.execute(
            "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source, avg_logprob) "
            "VALUES (?, ?, ?, ?, ?, 'whisper:base', -0.25)",
            [episode_id, seq, seq * 4.0, seq * 4.0 + 4.0, segments[seq]],
        )


def candidate(cid: str, episode_id: str = "ep1", podcast: str = "Show A",
              feed: str = "https://a.example/feed.xml", seq: int = 0) -> Candidate:
    return Candidate(
        candidate_id=cid, episode_id=episode_id, podcast=podcast, feed_url=feed, episode_title="Title",
        link=f"https://a.example/{episode_id}", enclosure_url=f"https://cdn.example/{episode_id}.mp3",
        seq_start=seq, seq_end=seq + 1, sent_start=seq, sent_end=seq + 1, start_s=seq * 4.0, end_s=seq * 4.0 + 8,
        raw_text=f"raw {cid}", text=f"Claim {cid} holds because of a reason.", score=0.5,
        features={"numbers": 1.0, "causal": 0.5},
    )


def top_item(rank: int, story: Story, vector: np.ndarray) -> TopItem:
    lead = story.lead
    return TopItem(
        rank=rank, cluster_id=story.story_id, candidate_id=lead.candidate_id, insight=f"Sent {rank}.",
        extractive_text=lead.text, support=story.shows, score=0.7,
        sources=[Source(lead.podcast, lead.episode_title, lead.link, lead.start_s, lead.end_s, episode_id=lead.episode_id)],
        embedding=vector, speaker="Dana Reyes",
        coverage=[Source(c.podcast, c.episode_title, c.link, c.start_s, c.end_s, episode_id=c.episode_id) for c in story.coverage],
    )


def one_story(story_id: int, member: Candidate, vector: np.ndarray) -> Story:
    return Story(story_id, member, vector, embeddings=vector[None, :])


@pytest.fixture
def path(tmp_path) -> str:
    return str(tmp_path / "warehouse.duckdb")


def store_candidates(path: str, day: date, candidates: list[Candidate], vectors: np.ndarray) -> None:
    with db.write_connection(path) as conn:
        insight_store.replace_candidates(conn, day, sorted({c.episode_id for c in candidates}), candidates)
        insight_store.store_embeddings(
            conn, MODEL, [c.candidate_id for c in candidates], vectors, [v[None, :] for v in vectors]
        )


def test_day_transcripts_hold_only_episodes_with_segments_each_in_order(path):
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, podcast=None, title=None, segments=["one", "two", "three"])
        add_episode(conn, "ep2", DAY)
        add_episode(conn, "ep3", DAY + timedelta(days=1), segments=["other day"])
    with db.read_connection(path) as conn:
        episodes = insight_store.load_day_transcripts(conn, DAY)
    assert [e.episode_id for e in episodes] == ["ep1"]
    ep = episodes[0]
    assert (ep.podcast, ep.title) == ("https://a.example/feed.xml", "")
    assert [s.text for s in ep.segments] == ["one", "two", "three"]
    assert ep.segments[1].avg_logprob == -0.25 and ep.enclosure_url == "https://cdn.example/ep1.mp3"


def test_past_show_texts_keep_each_requested_shows_five_latest_earlier_episodes(path):
    feed_b = "https://b.example/feed.xml"
    with db.write_connection(path) as conn:
        for back in range(1, 8):
            add_episode(conn, f"a{back}", DAY - timedelta(days=back), segments=[f"a{back} first", "second"])
        add_episode(conn, "a-old", DAY - timedelta(days=40), segments=["too old"])
        add_episode(conn, "a-today", DAY, segments=["today"])
        add_episode(conn, "b1", DAY - timedelta(days=1), feed=feed_b, segments=["other show"])
    with db.read_connection(path) as conn:
        texts = insight_store.load_past_show_texts(conn, DAY, ["https://a.example/feed.xml"], 30)
        assert insight_store.load_past_show_texts(conn, DAY, [], 30) == {}
    assert texts == {"https://a.example/feed.xml": [f"a{b} first second" for b in range(1, 6)]}


def test_candidates_come_back_with_their_episode_features_and_embeddings(path):
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
    kept = [candidate("c1"), candidate("c2", seq=3)]
    vectors = unit_vectors(2)
    store_candidates(path, DAY, kept, vectors)
    with db.read_connection(path) as conn:
        loaded, loaded_vectors, loaded_sentences = insight_store.load_candidates(conn, DAY)
    assert loaded == kept
    assert np.allclose(loaded_vectors, vectors, atol=1e-6)
    assert [s.shape for s in loaded_sentences] == [(1, 384), (1, 384)]


def test_reprocessing_a_partition_replaces_its_candidates_and_drops_orphaned_embeddings(path):
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
    store_candidates(path, DAY, [candidate("c1"), candidate("c2", seq=3)], unit_vectors(2))
    store_candidates(path, DAY, [candidate("c2", seq=3)], unit_vectors(1))
    with db.read_connection(path) as conn:
        assert conn.execute("SELECT candidate_id FROM insight_candidates").fetchall() == [("c2",)]
        assert conn.execute("SELECT candidate_id FROM insight_embeddings").fetchall() == [("c2",)]


def test_only_candidates_without_this_models_embedding_are_left_to_embed(path):
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
        insight_store.replace_candidates(conn, DAY, ["ep1"], [candidate("c1"), candidate("c2", seq=3)])
        insight_store.store_embeddings(conn, MODEL, ["c1"], unit_vectors(1), [unit_vectors(1)])
    with db.read_connection(path) as conn:
        todo, total = insight_store.load_unembedded(conn, DAY, MODEL)
        other_model, _ = insight_store.load_unembedded(conn, DAY, "another-model")
    assert todo == [("c2", "Claim c2 holds because of a reason.")] and total == 2
    assert [cid for cid, _ in other_model] == ["c1", "c2"]


def test_stories_are_rebuilt_with_their_lead_coverage_and_same_show_passages(path):
    feed_b = "https://b.example/feed.xml"
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
        add_episode(conn, "ep2", DAY, feed=feed_b, podcast="Show B", segments=["y"])
    kept = [candidate("c1"), candidate("c2", "ep2", "Show B", feed_b), candidate("c3", seq=5), candidate("c4", seq=9)]
    vectors = unit_vectors(4)
    store_candidates(path, DAY, kept, vectors)
    stories = [
        Story(0, kept[1], vectors[1], coverage=[kept[0]], same_show=[kept[3]], embeddings=vectors[[1, 0, 3]]),
        Story(1, kept[2], vectors[2], embeddings=vectors[2:3]),
    ]
    with db.write_connection(path) as conn:
        insight_store.replace_stories(conn, DAY, stories)
        insight_store.replace_stories(conn, DAY, stories)
    with db.read_connection(path) as conn:
        loaded = insight_store.load_stories(conn, DAY)
        stored = conn.execute("SELECT candidate_id, support, supports_claim FROM insight_clusters ORDER BY 1").fetchall()
    assert [(s.lead.candidate_id, [c.candidate_id for c in s.coverage], [c.candidate_id for c in s.same_show])
            for s in loaded] == [("c2", ["c1"], ["c4"]), ("c3", [], [])]
    assert np.allclose(loaded[0].lead_embedding, vectors[1], atol=1e-6)
    assert [s.shows for s in loaded] == [2, 1]
    assert stored == [("c1", 2, True), ("c2", 2, True), ("c3", 1, True), ("c4", 2, False)]


def test_top_insights_keep_the_speaker_and_the_coverage(path):
    feed_b = "https://b.example/feed.xml"
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
        add_episode(conn, "ep2", DAY, feed=feed_b, podcast="Show B", segments=["y"])
    kept = [candidate("c1"), candidate("c2", "ep2", "Show B", feed_b)]
    vectors = unit_vectors(2)
    store_candidates(path, DAY, kept, vectors)
    story = Story(0, kept[0], vectors[0], coverage=[kept[1]], embeddings=vectors)
    with db.write_connection(path) as conn:
        insight_store.replace_top_insights(conn, DAY, [top_item(1, story, vectors[0])])
    with db.read_connection(path) as conn:
        speaker, coverage, support = conn.execute("SELECT speaker, coverage, support FROM top_insights").fetchone()
    assert speaker == "Dana Reyes" and support == 2
    assert '"podcast": "Show B"' in coverage and '"episode_id": "ep2"' in coverage


def test_past_sent_holds_each_sent_item_and_its_storys_passages_from_the_window_only(path):
    days = {"old": DAY - timedelta(days=40), "recent": DAY - timedelta(days=1), "today": DAY}
    vectors = unit_vectors(6)
    with db.write_connection(path) as conn:
        for name, day in days.items():
            add_episode(conn, name, day, segments=["x"])
    for i, (name, day) in enumerate(days.items()):
        member = candidate(f"m-{name}", name)
        store_candidates(path, day, [member], vectors[i : i + 1])
        story = one_story(0, member, vectors[i])
        with db.write_connection(path) as conn:
            insight_store.replace_stories(conn, day, [story])
            insight_store.replace_top_insights(conn, day, [top_item(1, story, vectors[3 + i])])
            insight_store.replace_top_insights(conn, day, [top_item(1, story, vectors[3 + i])])
    with db.read_connection(path) as conn:
        past, texts = insight_store.load_past_sent(conn, DAY, 30)
        sources = conn.execute("SELECT sources FROM top_insights WHERE partition_date = ?", [DAY]).fetchone()[0]
    assert sorted(texts) == ["Claim m-recent holds because of a reason.", "Sent 1."]
    assert past.shape == (2, 384)
    expected = {"Sent 1.": vectors[4], "Claim m-recent holds because of a reason.": vectors[1]}
    assert all(np.allclose(vec, expected[text], atol=1e-6) for vec, text in zip(past, texts, strict=True))
    assert '"episode_id": "today"' in sources


def test_a_failed_write_rolls_back_and_keeps_the_partitions_previous_rows(path):
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
        insight_store.replace_candidates(conn, DAY, ["ep1"], [candidate("c1")])
        with pytest.raises(duckdb.ConstraintException):
            insight_store.replace_candidates(conn, DAY, ["ep1"], [candidate("c2"), candidate("c2")])
        assert conn.execute("SELECT candidate_id FROM insight_candidates").fetchall() == [("c1",)]


def test_llm_rewrites_are_loaded_only_for_the_day_and_only_when_accepted(path):
    vectors = unit_vectors(3)
    members = [candidate("c1", seq=0), candidate("c2", seq=2)]
    with db.write_connection(path) as conn:
        add_episode(conn, "ep1", DAY, segments=["x"])
    store_candidates(path, DAY, members, vectors[:2])
    stories = [one_story(i, m, vectors[i]) for i, m in enumerate(members)]
    items = [top_item(i + 1, c, vectors[i]) for i, c in enumerate(stories)]
    items[0].rewrite_status, items[1].rewrite_status = "llm", "llm_failed: malformed_json"
    with db.write_connection(path) as conn:
        insight_store.replace_top_insights(conn, DAY, items)
    with db.read_connection(path) as conn:
        assert insight_store.load_llm_rewrites(conn, DAY) == {("c1", members[0].text): "Sent 1."}
        assert insight_store.load_llm_rewrites(conn, DAY + timedelta(days=1)) == {}
