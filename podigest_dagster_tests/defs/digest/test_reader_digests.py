"""A digest per reader, for real: the insight assets on a day of five shows, then daily_digest,
reader_digests and digest_delivery against an aiosmtpd server, with readers.yaml as a user writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
from filelock import FileLock

from podigest_dagster import settings
from podigest_dagster.core.digest.readers import Reader, add_reader
from podigest_dagster.core.digest.store import load_reader_digests
from podigest_dagster.defs.digest.assets import daily_digest, digest_delivery
from podigest_dagster.defs.digest.readers import reader_digests
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.insights.assets import (
    insight_candidates,
    insight_clusters,
    insight_embeddings,
    top_insights,
)
from podigest_dagster.defs.insights.resources import EmbedderResource, LLMResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse.db import read_connection, write_connection
from podigest_dagster_tests.support.insight_day import INSIGHTS, day_episodes, episode
from podigest_dagster_tests.support.smtp_server import SMTPTestServer

DAY, NEXT_DAY = "2024-03-05", "2024-03-06"
INSIGHT_ASSETS = [insight_candidates, insight_embeddings, insight_clusters, top_insights]
DIGEST_ASSETS = [daily_digest, reader_digests, digest_delivery]
OCTOPUS_CLAIM = (
    "Octopuses can taste with their arms: each sucker carries about ten thousand chemical receptors, and two "
    "thirds of the animal's five hundred million neurons sit in the arms rather than the brain. That is why a "
    "researcher at the University of Washington found that a severed arm still reaches for food and passes it "
    "toward where the mouth would be, for up to an hour."
)
NAP_CLAIM = (
    "A twenty minute nap after lunch improves afternoon memory tests by about a third, because short sleep "
    "clears the brain's short term store without the grogginess of deep sleep."
)
READERS = """\
# who gets the digest
readers:
  - email: ann@example.com
    name: Ann
    interests: sleep and heart health
  - email: bob@example.com
    interests: [electric cars, battery prices]   # a list works too
  - email: not an address
  - email: cara@example.com
    muted_shows: [City Lab Talk]
  - email: dan@example.com
    muted_topics: [index funds]
  - email: eve@example.com                  # no interests: the general digest
"""


def _store_day(db: str, day: str, episodes) -> None:
    from datetime import UTC, date, datetime

    now = datetime.now(UTC)
    with write_connection(db) as conn:
        for e in episodes:
            conn.execute(
                "INSERT INTO episodes (episode_id, feed_url, podcast, guid, title, published_at, partition_date, "
                "date_status, enclosure_url, link, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
                [e.episode_id, e.feed_url, e.podcast, e.episode_id, e.title, now, date.fromisoformat(day),
                 e.enclosure_url, e.link, now, now],
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source) VALUES (?, ?, ?, ?, ?, 'test')",
                [[e.episode_id, s.seq, s.start_s, s.end_s, s.text] for s in e.segments],
            )


def _resources(db: str, port: int | None = None) -> dict:
    mailer = (
        MailerResource(host="127.0.0.1", port=port, security="none", sender="podigest <digest@example.org>", timeout_s=5.0)
        if port
        else MailerResource()
    )
    return {
        "warehouse": WarehouseResource(database=db),
        "embedder": EmbedderResource(),
        "llm": LLMResource(),
        "mailer": mailer,
    }


def _prepare(db: str) -> None:
    _store_day(db, DAY, day_episodes())
    next_day = [
        episode("grid-2", "Grid Talk", f"You're listening to Grid Talk. {OCTOPUS_CLAIM} {INSIGHTS['restaurants']}"),
        episode("health-2", "Body and Mind", f"Welcome back to Body and Mind. {NAP_CLAIM} Thanks for tuning in."),
    ]
    _store_day(db, NEXT_DAY, next_day)
    # the hand-written shows say their claims in a sentence or two: sent from a lower floor than the model's
    config = {"config": {"lookback_days": 30, "top_n": 5, "send_floor": 0.3}}
    run_config = {"ops": {"insight_candidates": config, "top_insights": config}}
    for day in (DAY, NEXT_DAY):
        assert dg.materialize(INSIGHT_ASSETS, partition_key=day, resources=_resources(db), run_config=run_config).success


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, worker_id):
    """A warehouse with two days of top insights (the real insight assets), built once for the test run:
    under xdist the first worker builds it in the run's shared temp folder and the other copies it."""
    if worker_id == "master":
        db = tmp_path_factory.mktemp("readers") / "warehouse.duckdb"
        _prepare(str(db))
        return str(db)
    shared = tmp_path_factory.getbasetemp().parent / "reader-digests-warehouse.duckdb"
    with FileLock(f"{shared}.build-lock"):
        if not shared.exists():
            building = tmp_path_factory.mktemp("readers") / "warehouse.duckdb"
            _prepare(str(building))
            shutil.copy(building, f"{shared}.tmp")
            Path(f"{shared}.tmp").replace(shared)
    return str(shared)


@pytest.fixture
def home(prepared, podigest_home):
    shutil.copy(prepared, settings.warehouse_path())
    settings.readers_file().write_text(READERS, encoding="utf-8")
    return podigest_home


@pytest.fixture
def smtp():
    server = SMTPTestServer().start()
    yield server
    server.stop()


def _deliver(day: str, port: int, instance=None) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        DIGEST_ASSETS, partition_key=day, resources=_resources(str(settings.warehouse_path()), port), instance=instance
    )
    assert result.success
    return result


def _mail(smtp: SMTPTestServer, to: str) -> list[str]:
    """The plain-text bodies sent to one address."""
    return [r.message.get_body(("plain",)).get_content() for r in smtp.received if r.rcpt_tos == [to]]


def _items(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:2] in {f"{n}." for n in range(1, 6)}]


def test_two_readers_with_different_interests_get_different_relevant_items_each_exactly_once(home, smtp):
    instance = dg.DagsterInstance.ephemeral()
    result = _deliver(DAY, smtp.port, instance)
    ann, bob = _mail(smtp, "ann@example.com"), _mail(smtp, "bob@example.com")
    assert len(ann) == len(bob) == 1
    assert "sleep" in _items(ann[0])[0].lower() and "batter" in _items(bob[0])[0].lower()
    assert _items(ann[0]) != _items(bob[0])
    assert "Why these items" in ann[0] and "1. matched your interest: sleep and heart health" in ann[0]
    assert "1. matched your interest: battery prices" in bob[0] or "1. matched your interest: electric cars" in bob[0]
    assert [r.message["To"] for r in smtp.received if r.rcpt_tos == ["ann@example.com"]] == ["Ann <ann@example.com>"]
    html = next(r.message for r in smtp.received if r.rcpt_tos == ["ann@example.com"]).get_body(("html",)).get_content()
    assert "Why these items" in html and "matched your interest: sleep and heart health" in html
    with read_connection(settings.warehouse_path()) as conn:
        ledger = dict(
            conn.execute("SELECT recipient, digest FROM deliveries WHERE channel = 'email'").fetchall()
        )
    assert ledger == {**{f"{name}@example.com": "reader" for name in ("ann", "bob", "cara", "dan")},
                      "eve@example.com": "general"}  # fmt: skip
    (eve,) = _mail(smtp, "eve@example.com")
    everyone = (settings.digests_dir() / f"{DAY}.txt").read_text(encoding="utf-8")
    assert _items(eve) == _items(everyone) and "You get the general digest" in eve.split("Why these items")[1]
    logs = "\n".join(e.user_message for e in instance.all_logs(result.run_id))
    assert "line 8: not an email address" in logs
    _deliver(DAY, smtp.port)
    assert len(smtp.received) == 5


def test_a_muted_show_or_topic_never_appears_in_that_readers_digest(home, smtp):
    _deliver(DAY, smtp.port)
    (cara,) = _mail(smtp, "cara@example.com")
    items, footer = cara.split("Why these items")
    assert "City Lab Talk" not in items and _items(items)
    assert "Muted shows (never included): City Lab Talk" in footer
    everyone = (settings.digests_dir() / f"{DAY}.txt").read_text(encoding="utf-8")
    assert "City Lab Talk" in everyone and "index fund" in everyone.lower()
    (dan,) = _mail(smtp, "dan@example.com")
    assert "index fund" not in dan.split("Why these items")[0].lower() and _items(dan)


def _stored(day: str, reader: str) -> list[dict]:
    with read_connection(settings.warehouse_path()) as conn:
        return json.loads(load_reader_digests(conn, day)[reader][1])


def test_changed_interests_apply_from_the_next_day_and_nothing_is_sent_again(home, smtp):
    _deliver(DAY, smtp.port)
    sent = _stored(DAY, "ann@example.com")
    add_reader(settings.readers_file(), Reader("ann@example.com", "Ann", ("octopuses and sea creatures",)))
    _deliver(DAY, smtp.port)
    assert len(_mail(smtp, "ann@example.com")) == 1
    assert _stored(DAY, "ann@example.com") == sent
    _deliver(NEXT_DAY, smtp.port)
    ann_next = _mail(smtp, "ann@example.com")[-1]
    assert "octopus" in _items(ann_next)[0].lower()
    assert "1. matched your interest: octopuses and sea creatures" in ann_next
