"""A reader's own top 5 on the hand-written insight day: re-ranked by their interests, yet never below the
value floor, never padded, one item per story, and the general digest for a reader with no interests."""

from __future__ import annotations

import dataclasses
import json

import pytest

from podigest_dagster.core.digest.for_reader import TOP_REASON, GeneralItem, ReaderDigest, choose_for_reader
from podigest_dagster.core.digest.reader_digests import from_stored, render_reader, stored_row
from podigest_dagster.core.digest.readers import Reader
from podigest_dagster.core.digest.render import Digest, DigestItem, Source
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.pipeline import episode_infos, run_day
from podigest_dagster.core.insights.selection import SelectionConfig
from podigest_dagster_tests.support.insight_day import day_episodes

# The hand-written shows say their claims in a sentence or two: a lower floor than the model's gives a full day.
CONFIG = SelectionConfig(send_floor=0.3)

DAY = "2024-03-05"


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture(scope="module")
def stories(embedder):
    return run_day(day_episodes(), None, {}, embedder, config=CONFIG).stories


@pytest.fixture(scope="module")
def episodes():
    return episode_infos(day_episodes())


def _ids(chosen) -> list[str]:
    return chosen.candidate_ids


def choose(reader, stories, embedder, episodes, general=None, config=CONFIG):
    return choose_for_reader(reader, DAY, stories, embedder.embed, general or {}, None, episodes, config)


def test_an_interest_lifts_its_story_to_the_top_but_every_item_still_passes_the_floor(stories, embedder, episodes):
    sleepy = choose(Reader("a@example.com", interests=("sleep and heart health",)), stories, embedder, episodes)
    money = choose(Reader("b@example.com", interests=("index funds and fees",)), stories, embedder, episodes)
    assert "sleep" in sleepy.digest.items[0].insight.lower()
    assert "index fund" in money.digest.items[0].insight.lower()
    assert sleepy.reasons[0] == "matched your interest: sleep and heart health"
    by_id = {s.lead.candidate_id: s for s in stories}
    for chosen in (sleepy, money):
        assert 1 <= len(chosen.digest.items) <= CONFIG.top_n
        assert all(by_id[cid].lead.score >= CONFIG.send_floor for cid in _ids(chosen))
        assert len(set(_ids(chosen))) == len(_ids(chosen))
        assert all(item.topic for item in chosen.digest.items)


def test_a_story_below_the_floor_never_comes_in_however_well_it_matches(stories, embedder, episodes):
    scores = sorted({s.lead.score for s in stories}, reverse=True)
    # a floor that only the best two stories pass: a reader interested in the third still gets two items
    strict = dataclasses.replace(CONFIG, send_floor=(scores[1] + scores[2]) / 2)
    third = next(s for s in stories if s.lead.score == scores[2])
    reader = Reader("c@example.com", interests=(third.lead.text[:90],))
    chosen = choose(reader, stories, embedder, episodes, config=strict)
    passing = {s.lead.candidate_id for s in stories if s.lead.score >= strict.send_floor}
    assert set(_ids(chosen)) <= passing and third.lead.candidate_id not in _ids(chosen)
    assert len(chosen.digest.items) == len(passing) < CONFIG.top_n  # not padded to five


def test_an_interest_nothing_comes_close_to_leaves_the_general_order_and_says_so(stories, embedder, episodes):
    general = choose(Reader("d@example.com", muted_topics=("zzyzx",)), stories, embedder, episodes)
    far = choose(Reader("e@example.com", interests=("medieval falconry",)), stories, embedder, episodes)
    assert _ids(far) == _ids(general)
    assert set(far.reasons) == {TOP_REASON}


def test_nothing_to_choose_from_is_an_empty_digest_not_filler(embedder):
    chosen = choose_for_reader(Reader("f@example.com", interests=("sleep",)), DAY, [], embedder.embed, {})
    assert chosen.digest.items == [] and chosen.reasons == []


def test_a_muted_show_never_leads_an_item(stories, embedder, episodes):
    reader = Reader("m@example.com", interests=("index funds",), muted_shows=("money matters",))
    chosen = choose(reader, stories, embedder, episodes)
    assert all(s.podcast != "Money Matters" for item in chosen.digest.items for s in item.sources)


def test_a_story_of_the_general_digest_keeps_its_speaker_and_its_coverage_less_the_muted_shows(
    stories, embedder, episodes
):
    coverage = [Source("Grid Talk", "Streets", "https://cdn.example.org/energy-1.mp3#t=40", 40.0),
                Source("Kitchen Science", "Lots", "https://cdn.example.org/food-1.mp3#t=9", 9.0)]  # fmt: skip
    # the general digest's story on free parking (whichever of the day's parking passages the reader gets)
    general = {s.lead.candidate_id: GeneralItem(s.lead.candidate_id, s.lead.text, "Parking", "Donald Shoup", 3, [],
                                                coverage)
               for s in stories if "parking" in s.lead.text.lower()}  # fmt: skip
    reader = Reader(
        "g@example.com", interests=("free parking and city land",), muted_shows=("kitchen science",)
    )
    chosen = choose(reader, stories, embedder, episodes, general)
    by_id = dict(zip(chosen.candidate_ids, chosen.digest.items, strict=True))
    (cid,) = set(by_id) & set(general)
    item = by_id[cid]
    assert (item.speaker, item.coverage, item.support) == ("Donald Shoup", coverage[:1], 2)


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
