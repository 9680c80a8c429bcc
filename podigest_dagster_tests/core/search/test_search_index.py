"""The search index against real DuckDB files: BM25 kept up to date day by day with exactly a rebuild's
scores, hybrid search with the bundled MiniLM, filters, speakers, and queries that are not what they should be."""

from __future__ import annotations

import random
from datetime import date

import duckdb
import pytest

from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.search import fts, store
from podigest_dagster.core.search.query import SearchError, open_index, search
from podigest_dagster.warehouse.db import derived_write_connection, read_connection, write_connection
from podigest_dagster_tests.support.archive import add_episode, add_passage

DAY1, DAY2 = date(2024, 3, 4), date(2024, 3, 5)
HEAT = "Modern heat pumps keep heating homes at minus twenty degrees because new compressors stay efficient."
PARKING = "Free parking is one of the most expensive things a city gives away, land that could hold housing."
HOSTILE = "<script>alert(1)</script> and <img src=x onerror=alert(2)> say the parking lots pay"
FILLER = ["so anyway that was the week", "thanks for listening everybody", "we will be right back after this"]


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def _warehouse(path, embedder) -> None:
    with write_connection(path) as conn:
        add_episode(conn, "energy-1", DAY1, "Grid Talk", [FILLER[0], HEAT, FILLER[1]],
                    speakers=["Guest 2", "Ada Lovelace", None])  # fmt: skip
        add_episode(conn, "city-1", DAY1, "City Lab", [FILLER[2], PARKING, HOSTILE],
                    speakers=[None, "SPEAKER_00", "<b>Mallory</b>"])  # fmt: skip
        add_episode(
            conn, "money-1", DAY2, "Money Matters", [FILLER[0], "Index funds beat most managers on fees."]
        )
        texts = [
            ("p-heat", "energy-1", DAY1, 5.0, HEAT),
            ("p-park", "city-1", DAY1, 5.0, PARKING),
            ("p-money", "money-1", DAY2, 5.0, "Index funds beat most managers on fees."),
        ]
        vectors = embedder.embed([t[4] for t in texts])
        for (cid, episode, day, start, text), vector in zip(texts, vectors, strict=True):
            add_passage(conn, cid, episode, day, start, text, vector, seq=1)


def _index(warehouse_path, index_path, days=(DAY1, DAY2)) -> None:
    """What the search_index asset does, day by day (the first day builds, the others are added)."""
    for day in days:
        with read_connection(warehouse_path) as conn:
            rows = store.load_day(conn, day)
        with derived_write_connection(index_path) as index:
            store.prepare(index)
            if store.is_current(index):
                store.replace_day(index, rows)
            else:
                store.rebuild(index, iter([rows]))


@pytest.fixture(scope="module")
def index_path(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("search")
    _warehouse(folder / "w.duckdb", embedder)
    _index(folder / "w.duckdb", folder / "search.duckdb")
    return folder / "search.duckdb"


def _state(conn) -> tuple:
    """The index as BM25 sees it: collection stats, each term's df, each document's length and terms."""
    return (
        conn.execute("SELECT num_docs, round(avgdl, 9) FROM fts_main_seg.stats").fetchall(),
        sorted(conn.execute("SELECT term, df FROM fts_main_seg.dict").fetchall()),
        sorted(conn.execute("SELECT name, len FROM fts_main_seg.docs").fetchall()),
        sorted(
            conn.execute(
                "SELECT d.name, t.term FROM fts_main_seg.terms x JOIN fts_main_seg.docs d USING (docid) "
                "JOIN fts_main_seg.dict t USING (termid)"
            ).fetchall()
        ),
    )


def test_documents_added_and_removed_day_by_day_score_exactly_like_a_rebuild():
    rng = random.Random(3)
    vocabulary = (HEAT + " " + PARKING + " the of and naïve café don't 42 -- ...").split()
    rows = [(i, " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 14)))) for i in range(300)]
    rows += [(300, ""), (301, None), (302, "the of and"), (303, "   spaced   out  ")]
    kept = [r for r in rows if r[0] % 5 != 2]
    incremental, rebuilt = duckdb.connect(), duckdb.connect()
    for conn, initial in ((incremental, rows[:100]), (rebuilt, kept)):
        fts.load(conn)
        conn.execute("CREATE TABLE seg (doc_id BIGINT, text VARCHAR)")
        conn.executemany("INSERT INTO seg VALUES (?, ?)", initial)
        fts.create_index(conn, "seg", "doc_id", "text")
    incremental.executemany("INSERT INTO seg VALUES (?, ?)", rows[100:])
    incremental.execute("BEGIN")
    assert (
        fts.add_documents(incremental, "seg", "SELECT doc_id AS name, text FROM seg WHERE doc_id >= ?", [100])
        == 204
    )
    assert fts.remove_documents(incremental, "seg", "SELECT doc_id FROM seg WHERE doc_id % 5 = ?", [2]) == 61
    incremental.execute("DELETE FROM seg WHERE doc_id % 5 = 2")
    incremental.execute("COMMIT")

    assert _state(incremental) == _state(rebuilt)
    for query in ["heat pumps", "parking housing city", "cafe naive", "don't", "the", "zzz"]:
        ours = dict(incremental.execute(fts.bm25_sql("seg"), {"query": query}).fetchall())
        theirs = dict(
            rebuilt.execute(
                "SELECT doc_id, score FROM (SELECT doc_id, fts_main_seg.match_bm25(doc_id, $query) AS score FROM seg) "
                "WHERE score IS NOT NULL",
                {"query": query},
            ).fetchall()
        )
        assert ours.keys() == theirs.keys(), query
        assert all(abs(ours[k] - theirs[k]) < 1e-9 for k in ours), query


def test_a_word_search_returns_the_moment_with_the_words_marked_and_a_link_that_plays_there(index_path):
    with open_index(index_path) as conn:
        hits = search(conn, "heat pumps", mode="words")
    best = hits[0]
    assert (best.podcast, best.episode_id, best.start_s, best.day) == (
        "Grid Talk",
        "energy-1",
        5.0,
        "2024-03-04",
    )
    assert [f.text for f in best.snippet if f.match] == ["heat", "pumps", "heating"]
    assert "".join(f.text for f in best.snippet) == HEAT
    assert best.play_url() == "https://cdn.example.org/energy-1.mp3#t=5"
    assert best.how == "words"


def test_meaning_finds_a_passage_that_shares_no_word_with_the_query(index_path, embedder):
    query = "furnace replacement in cold climates"
    with open_index(index_path) as conn:
        assert search(conn, query, mode="words") == []
        hits = search(conn, query, embed=embedder.embed)
    assert hits[0].episode_id == "energy-1" and hits[0].how == "meaning"
    assert all(h.episode_id != "money-1" for h in hits)


def test_words_and_meaning_on_the_same_moment_are_one_hit(index_path, embedder):
    with open_index(index_path) as conn:
        hits = search(conn, "free parking city land", embed=embedder.embed)
    assert (hits[0].episode_id, hits[0].start_s, hits[0].how) == ("city-1", 5.0, "words and meaning")
    assert len([h for h in hits if h.episode_id == "city-1" and h.start_s == 5.0]) == 1


def test_a_hit_names_its_speaker_where_the_transcript_does_and_never_a_placeholder(index_path, embedder):
    with open_index(index_path) as conn:
        assert [h.speaker for h in search(conn, "heat pumps", mode="words")][:1] == ["Ada Lovelace"]
        assert [h.speaker for h in search(conn, "parking housing", mode="words")][:1] == [""]  # SPEAKER_00
        assert search(conn, "onerror script", mode="words")[0].speaker == "<b>Mallory</b>"  # plain text
        (meaning,) = [h for h in search(conn, "furnace replacement in cold climates", embed=embedder.embed)
                      if h.episode_id == "energy-1"]  # fmt: skip
    assert (meaning.how, meaning.speaker) == ("meaning", "Ada Lovelace")
    with read_connection(index_path) as conn:
        assert conn.execute("SELECT speaker FROM passages WHERE candidate_id = 'p-heat'").fetchone() == (
            "Ada Lovelace",
        )


def test_show_and_since_filters(index_path):
    with open_index(index_path) as conn:
        assert {h.podcast for h in search(conn, "parking", mode="words", show="city lab")} == {"City Lab"}
        assert search(conn, "parking", mode="words", show="Grid") == []
        assert search(conn, "parking", mode="words", since=DAY2) == []
        assert [h.podcast for h in search(conn, "index funds", mode="words", since=DAY2)] == ["Money Matters"]


def test_hostile_transcript_text_comes_back_as_plain_text_and_hostile_queries_are_just_words(index_path):
    with open_index(index_path) as conn:
        hits = search(conn, "onerror script", mode="words")
        assert "".join(f.text for f in hits[0].snippet) == HOSTILE
        assert search(conn, "'; DROP TABLE segments; --", mode="words") == []
        assert store.index_summary(conn)["segments"] == 8
        for bad in ["", "   \x00 ", "x" * 301]:
            with pytest.raises(SearchError):
                search(conn, bad)
        with pytest.raises(SearchError, match="mode"):
            search(conn, "parking", mode="everything")


def test_re_indexing_a_day_replaces_its_rows_and_a_new_day_is_added_without_a_rebuild(tmp_path, embedder):
    _warehouse(tmp_path / "w.duckdb", embedder)
    index = tmp_path / "search.duckdb"
    _index(tmp_path / "w.duckdb", index, days=(DAY1,))
    with write_connection(tmp_path / "w.duckdb") as conn:
        conn.execute(
            "UPDATE transcript_segments SET text = 'Heat pumps now beat boilers on price.' WHERE episode_id = 'energy-1' AND seq = 1"
        )
    _index(tmp_path / "w.duckdb", index, days=(DAY1, DAY1, DAY2))
    with open_index(index) as conn:
        assert store.index_summary(conn) == {"days": 2, "episodes": 3, "segments": 8, "passages": 3}
        assert "".join(f.text for f in search(conn, "boilers", mode="words")[0].snippet).startswith(
            "Heat pumps now"
        )
        assert search(conn, "compressors", mode="words") == []
        fresh = _state_of(conn)
    rebuilt = tmp_path / "rebuilt.duckdb"
    with read_connection(tmp_path / "w.duckdb") as conn:
        rows = [store.load_day(conn, DAY1), store.load_day(conn, DAY2)]
    with derived_write_connection(rebuilt) as conn:
        store.rebuild(conn, iter(rows))
        assert _state_of(conn) == fresh


def _state_of(conn) -> tuple:
    return (
        conn.execute("SELECT num_docs, round(avgdl, 9) FROM fts_main_segments.stats").fetchall(),
        sorted(conn.execute("SELECT term, df FROM fts_main_segments.dict").fetchall()),
        sorted(
            conn.execute(
                "SELECT s.text, d.len FROM fts_main_segments.docs d JOIN segments s ON s.doc_id = d.name"
            ).fetchall()
        ),
    )


def test_no_index_yet_is_a_one_line_reason(tmp_path):
    with pytest.raises(SearchError, match="no search index"):
        with open_index(tmp_path / "missing.duckdb"):
            pass
