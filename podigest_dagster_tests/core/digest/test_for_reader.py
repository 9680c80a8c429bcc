"""A reader's own top 5 on the hand-written insight day: re-ranked by their interests, yet never below the
quality floor, never padded, one item per idea, and the general digest for a reader with no interests."""

from __future__ import annotations

import dataclasses
import json

import pytest
from podigest_dagster.core.insights.ranking import RankingConfig

from podigest_dagster.core.digest.for_reader import TOP_REASON, GeneralItem, ReaderDigest, choose_for_reader
from podigest_dagster.core.digest.reader_digests import from_stored, render_reader, stored_row
from podigest_dagster.core.digest.readers import Reader
from podigest_dagster.core.digest.render import Digest, DigestItem, Source
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.pipeline import run_day
from podigest_dagster_tests.support.insight_day import day_episodes

DAY = "2024-03-05"


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture(scope="module")
def clusters(embedder):
    return run_day(day_episodes(), None, {}, embedder).clusters


def _ids(chosen) -> list[str]:
    return chosen.candidate_ids


def test_an_interest_lifts_its_idea_to_the_top_but_every_item_still_passes_the_floor(clusters, embedder):
    config = RankingConfig()
    sleepy = choose_for_reader(Reader("a@example.com", interests=("sleep and heart health",)), DAY, clusters,
                               embedder.embed, {}, config=config)  # fmt: skip
    money = choose_for_reader(Reader("b@example.com", interests=("index funds and fees",)), DAY, clusters,
                              embedder.embed, {}, config=config)  # fmt: skip
    assert "sleep" in sleepy.digest.items[0].insight.lower()
    assert "index fund" in money.digest.items[0].insight.lower()
    assert sleepy.reasons[0] == "matched your interest: sleep and heart health"
    by_id = {c.representative.candidate_id: c for c in clusters}
    for chosen in (sleepy, money):
        assert 1 <= len(chosen.digest.items) <= config.top_n
        assert all(by_id[cid].representative.score >= config.min_insight for cid in _ids(chosen))
        assert len(set(_ids(chosen))) == len(_ids(chosen))


def test_an_idea_below_the_floor_never_comes_in_however_well_it_matches(clusters, embedder):
    config = RankingConfig()
    scores = sorted({c.representative.score for c in clusters}, reverse=True)
    # a floor that only the best two ideas pass: a reader interested in the third still gets two items
    strict = dataclasses.replace(config, min_insight=(scores[1] + scores[2]) / 2)
    third = next(c for c in clusters if c.representative.score == scores[2])
    reader = Reader("c@example.com", interests=(third.representative.text[:90],))
    chosen = choose_for_reader(reader, DAY, clusters, embedder.embed, {}, config=strict)
    passing = {
        c.representative.candidate_id for c in clusters if c.representative.score >= strict.min_insight
    }
    assert set(_ids(chosen)) <= passing and third.representative.candidate_id not in _ids(chosen)
    assert len(chosen.digest.items) == len(passing) < config.top_n  # not padded to five


def test_an_interest_nothing_comes_close_to_leaves_the_general_order_and_says_so(clusters, embedder):
    general = choose_for_reader(
        Reader("d@example.com", muted_topics=("zzyzx",)), DAY, clusters, embedder.embed, {}
    )
    far = choose_for_reader(
        Reader("e@example.com", interests=("medieval falconry",)), DAY, clusters, embedder.embed, {}
    )
    assert _ids(far) == _ids(general)
    assert set(far.reasons) == {TOP_REASON}


def test_nothing_to_choose_from_is_an_empty_digest_not_filler(embedder):
    chosen = choose_for_reader(Reader("f@example.com", interests=("sleep",)), DAY, [], embedder.embed, {})
    assert chosen.digest.items == [] and chosen.reasons == []


def test_an_idea_of_the_general_digest_keeps_its_speaker_and_its_coverage_less_the_muted_shows(
    clusters, embedder
):
    parking = next(c for c in clusters if "parking" in c.representative.text.lower())
    cid = parking.representative.candidate_id
    coverage = [Source("Grid Talk", "Streets", "https://cdn.example.org/energy-1.mp3#t=40", 40.0),
                Source("Kitchen Science", "Lots", "https://cdn.example.org/food-1.mp3#t=9", 9.0)]  # fmt: skip
    general = {cid: GeneralItem(cid, parking.representative.text, "Parking", "Donald Shoup", coverage)}
    reader = Reader(
        "g@example.com", interests=("free parking and city land",), muted_shows=("kitchen science",)
    )
    chosen = choose_for_reader(reader, DAY, clusters, embedder.embed, general)
    by_id = dict(zip(chosen.candidate_ids, chosen.digest.items, strict=True))
    item = by_id[cid]
    assert (item.speaker, item.coverage, item.support) == ("Donald Shoup", coverage[:1], 2)
    assert all(i.speaker == "" and i.coverage == [] for c, i in by_id.items() if c != cid)


def test_a_reader_digest_json_carries_the_speaker_the_coverage_and_why_and_survives_being_stored():
    item = DigestItem(1, "Kernels are scarce.", 2, [Source("Lenny's Podcast", "Ep", "https://l.example/l#t=5", 5.0)],
                      topic="AI hiring", speaker="Lenny Rachitsky",
                      coverage=[Source("Show A", "Ep", "https://a.example/a#t=2700", 2700.0, 2710.0, "a-1")])  # fmt: skip
    chosen = ReaderDigest(Reader("h@example.com", interests=("AI hiring",)), Digest(DAY, [item]),
                          ["matched your interest: AI hiring"], ["c1"])  # fmt: skip
    data = json.loads(render_reader(chosen, "json"))
    (got,) = data["items"]
    assert (got["speaker"], got["why"], data["reader"]) == (
        "Lenny Rachitsky",
        "matched your interest: AI hiring",
        "h@example.com",
    )
    assert got["coverage"] == [
        {"podcast": "Show A", "episode": "Ep", "url": "https://a.example/a#t=2700", "start_s": 2700.0}
    ]
    key, kind, _, items = stored_row(chosen)
    again = from_stored(chosen.reader, DAY, kind, items)
    assert again.digest == chosen.digest and again.reasons == chosen.reasons
    text = render_reader(again, "text")
    assert "— Lenny Rachitsky, Lenny's Podcast" in text and "Also discussed on: Show A @ 45:00" in text
    old = json.dumps([{"rank": 1, "insight": "Old.", "support": 1, "sources": [], "why": "w"}])
    (pre_008,) = from_stored(chosen.reader, DAY, "reader", old).digest.items
    assert (pre_008.speaker, pre_008.coverage) == ("", [])
