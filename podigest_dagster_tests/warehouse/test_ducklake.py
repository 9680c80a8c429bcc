"""The warehouse on a DuckLake (real PostgreSQL 15 catalog on 127.0.0.1, data files in a temp folder):
migrations, the stores' writes, concurrent writers on one partition, commit conflicts, the SQL console."""

from __future__ import annotations

import json
import multiprocessing
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from podigest_dagster.core.digest import ledger
from podigest_dagster.core.ingest import store as ingest_store
from podigest_dagster.core.ingest.audio_cache import prune
from podigest_dagster.core.ingest.download import DownloadResult
from podigest_dagster.core.transcribe.publisher_first import PublisherCheck
from podigest_dagster.core.transcribe.segments import Segment
from podigest_dagster.core.transcribe.store import count_publisher_used, store_outcome, store_publisher_check
from podigest_dagster.core.transcribe.work import Outcome
from podigest_dagster.warehouse import db, ducklake, sql_console
from podigest_dagster_tests.support.services import postgres_server

DAY = date(2026, 11, 20)
pytestmark = pytest.mark.scale  # needs PostgreSQL: run by `make scale-test`, not the main suite


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


@pytest.fixture
def lake(postgres, tmp_path, monkeypatch) -> str:
    """A fresh DuckLake (its own catalog database) as PODIGEST_WAREHOUSE would name it."""
    name = f"lake_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    data = tmp_path / "lake-data"
    data.mkdir()
    monkeypatch.setenv(ducklake.DATA_PATH_ENV, str(data))
    return f"ducklake:postgres:{postgres.dsn_for(name)}"


def columns(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name, ordinal_position",
        [catalog],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def add_episode(conn, episode_id: str) -> None:
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO episodes (episode_id, feed_url, title, partition_date, date_status, first_seen_at, updated_at) "
        "VALUES (?, 'http://feed.test/rss', ?, ?, 'ok', ?, ?)",
        [episode_id, f"Episode {episode_id}", DAY, now, now],
    )


def outcome(text: str, n: int = 3) -> Outcome:
    segments = [Segment(i, float(i), float(i) + 0.9, f"{text} {i}") for i in range(n)]
    return Outcome("ok", "whisper:base", "sha", "en", 3.0, 1.0, segments)


def test_every_migration_applies_on_a_ducklake_with_the_duckdb_files_tables_and_columns(lake, tmp_path):
    with db.write_connection(lake) as conn:
        on_lake = columns(conn, ducklake.ALIAS)
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()]
    with db.write_connection(tmp_path / "w.duckdb") as conn:
        on_file = columns(conn, "w")
    assert on_lake == on_file
    assert versions == [version for version, _, _ in db.migration_files()]
    with db.write_connection(lake) as conn:  # a second connection migrates nothing again
        assert db.migrate(conn) == []


def test_the_lake_flavour_drops_keys_and_fixed_arrays_only():
    sql = (
        "CREATE TABLE t (\n    a VARCHAR PRIMARY KEY,\n    b FLOAT[384] NOT NULL,  -- why\n"
        "    c FLOAT[384][],\n    PRIMARY KEY (a, b)\n);"
    )
    assert ducklake.lake_schema_sql(sql) == (
        "CREATE TABLE t (\n    a VARCHAR,\n    b FLOAT[] NOT NULL,  -- why\n    c FLOAT[][]\n);"
    )


def test_the_stores_upsert_on_a_ducklake_without_duplicating_rows(lake):
    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
        result = DownloadResult("abc", Path("/tmp/e1.mp3"), 10, "audio/mpeg", 2)
        for _ in range(2):
            ingest_store.record_audio_ok(conn, "e1", DAY, "http://a/e1.mp3", result, datetime.now(UTC))
            store_outcome(conn, DAY.isoformat(), "e1", outcome("hello"))
        assert conn.execute("SELECT count(*), sum(attempts) FROM episode_audio").fetchone() == (1, 4)
        assert conn.execute("SELECT count(*), max(segment_count) FROM transcripts").fetchone() == (1, 3)
        assert conn.execute("SELECT count(*) FROM transcript_segments").fetchone() == (3,)
        first = ledger.claim(conn, DAY.isoformat(), "email", "a@example.org", "<m1@x>")
        again = ledger.claim(conn, DAY.isoformat(), "email", "a@example.org", "<m2@x>")
        assert (first, again) == ("<m1@x>", None)
        assert conn.execute("SELECT count(*), max(status) FROM deliveries").fetchone() == (1, "sending")


def test_publisher_checks_and_pruned_audio_are_recorded_on_a_ducklake(lake, tmp_path):
    audio = tmp_path / "audio" / "ab" / "e1.mp3"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"ID3" + bytes(100))
    used = Outcome("ok", "publisher", None, None, 3.0, 0.1, outcome("hi").segments)
    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
        conn.execute("UPDATE episodes SET enclosure_url = 'http://a/e1.mp3'")
        result = DownloadResult("sha", audio, 103, "audio/mpeg", 1)
        ingest_store.record_audio_ok(conn, "e1", DAY, "http://a/e1.mp3", result, datetime.now(UTC))
        for status, error, stored in (("unusable", "HTTP 503", None), ("ok", None, used)):
            check = PublisherCheck("e1", "http://a/e1.vtt", status, error, 40, 0.1, stored)
            store_publisher_check(conn, DAY.isoformat(), check, "run-1")
        assert conn.execute("SELECT count(*), max(status) FROM publisher_transcripts").fetchone() == (1, "ok")
        assert count_publisher_used(conn, DAY.isoformat(), "run-1") == 1
    report = prune(lambda: db.write_connection(lake), tmp_path / "audio", retention_days=0)
    assert report.files_pruned == 1 and not audio.exists()
    with db.write_connection(lake) as conn:
        assert conn.execute("SELECT status, pruned_at IS NOT NULL FROM episode_audio").fetchall() == [("pruned", True)]


def _write_episode(target: str, data_path: str, episode_id: str, text: str, queue) -> None:
    import os

    os.environ[ducklake.DATA_PATH_ENV] = data_path
    try:
        with db.write_connection(target) as conn:
            store_outcome(conn, DAY.isoformat(), episode_id, outcome(text, 5))
        queue.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        queue.put(f"{type(exc).__name__}: {exc}")


def test_writers_in_several_processes_storing_one_episode_at_once_leave_one_copy(lake, monkeypatch):
    import os

    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    data = os.environ[ducklake.DATA_PATH_ENV]
    writers = [
        spawn.Process(target=_write_episode, args=(lake, data, "e1", f"writer {n}", queue)) for n in range(4)
    ]
    for writer in writers:
        writer.start()
    results = [queue.get(timeout=180) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)
    assert results == ["ok"] * 4
    with db.read_connection(lake) as conn:
        assert conn.execute("SELECT count(*) FROM transcripts").fetchone() == (1,)
        texts = conn.execute("SELECT text FROM transcript_segments ORDER BY seq").fetchall()
    assert len(texts) == 5 and len({t[0].rsplit(" ", 1)[0] for t in texts}) == 1, texts


class ConflictingCommit:
    """A connection whose first COMMIT is preceded by another writer's commit on the same table (one that
    takes no lock), so DuckLake refuses it with a real commit conflict."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, rival: duckdb.DuckDBPyConnection, conflicts: int
    ) -> None:
        self.conn, self.rival, self.left = conn, rival, conflicts

    def execute(self, sql: str, *args):
        if sql == "COMMIT" and self.left:
            self.left -= 1
            self.rival.execute("DELETE FROM transcript_segments WHERE episode_id = 'rival'")
            self.rival.execute(
                "INSERT INTO transcript_segments VALUES ('rival', 0, 0, 1, 'x', 'publisher', NULL, NULL, NULL)"
            )
        return self.conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def test_a_commit_conflict_is_retried_whole_and_the_episode_is_written_once(lake):
    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
        conn.execute(
            "INSERT INTO transcript_segments VALUES ('rival', 0, 0, 1, 'x', 'publisher', NULL, NULL, NULL)"
        )
    rival = ducklake._open(db._lake(lake), read_only=False, config=None)
    rival.execute("USE lake")
    with db.write_connection(lake) as conn:
        store_outcome(ConflictingCommit(conn, rival, conflicts=2), DAY.isoformat(), "e1", outcome("kept"))
        assert conn.execute(
            "SELECT count(*) FROM transcript_segments WHERE episode_id = 'e1'"
        ).fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM transcripts").fetchone() == (1,)
        with pytest.raises(db.WriteConflict, match="still conflicted after 8 attempts"):
            store_outcome(
                ConflictingCommit(conn, rival, conflicts=99), DAY.isoformat(), "e1", outcome("lost")
            )
        kept = conn.execute(
            "SELECT DISTINCT split_part(text, ' ', 1) FROM transcript_segments WHERE episode_id = 'e1'"
        )
        assert kept.fetchall() == [("kept",)], "a write that never committed leaves nothing half-written"
    rival.close()


def test_an_unreachable_catalog_fails_in_one_line_naming_the_setting(postgres, monkeypatch, tmp_path):
    monkeypatch.setenv(ducklake.DATA_PATH_ENV, str(tmp_path))
    target = "ducklake:postgres:dbname=nope host=127.0.0.1 port=1 user=podigest password=secret"
    for opener in (db.write_connection, db.read_connection):
        with pytest.raises(ducklake.LakeUnavailable) as failure:
            with opener(target):
                pass
        message = str(failure.value)
        assert "\n" not in message and ducklake.WAREHOUSE_ENV in message
        assert "secret" not in message and "password=***" in message


def test_a_catalog_that_is_not_postgres_is_refused():
    with pytest.raises(ducklake.LakeUnavailable, match="PostgreSQL"):
        ducklake.Lake.from_target("ducklake:sqlite:/tmp/catalog.sqlite")


def test_the_sql_console_reads_a_ducklake_and_refuses_writes_and_files(lake):
    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
    result = sql_console.run_query(lake, "SELECT episode_id FROM episodes", fmt="json")
    text = result if isinstance(result, str) else result.text
    assert json.loads(text) == [{"episode_id": "e1"}]
    for refused in ("DELETE FROM episodes", "SELECT * FROM read_csv('/etc/passwd')"):
        with pytest.raises(sql_console.QueryError):
            sql_console.run_query(lake, refused)


def test_dbt_builds_the_marts_on_a_ducklake_twice(lake, tmp_path):
    import os
    import subprocess
    import sys

    with db.write_connection(lake) as conn:
        add_episode(conn, "e1")
        store_outcome(conn, DAY.isoformat(), "e1", outcome("hello"))
    project = Path(__file__).resolve().parents[2] / "dbt"
    env = {**os.environ, "PODIGEST_WAREHOUSE": lake, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for _ in range(2):
        built = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", str(project), "--profiles-dir",
             str(project), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path)],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert built.returncode == 0, built.stdout[-3000:]
    with db.read_connection(lake) as conn:
        assert conn.execute("SELECT count(*) FROM marts.fct_podcast_daily").fetchone() == (1,)


def test_migrate_to_ducklake_copies_every_table_and_refuses_a_lake_that_has_rows(lake, tmp_path, capsys):
    import os

    from podigest_dagster.cli import main

    source = tmp_path / "warehouse.duckdb"
    with db.write_connection(source) as conn:
        for n in range(3):
            add_episode(conn, f"e{n}")
            store_outcome(conn, DAY.isoformat(), f"e{n}", outcome(f"episode {n}"))
        conn.execute(
            "INSERT INTO insight_embeddings (candidate_id, model, embedding) VALUES ('c1', 'm', ?::FLOAT[384])",
            [[0.25] * 384],
        )
    data = os.environ[ducklake.DATA_PATH_ENV]
    args = ["warehouse", "migrate-to-ducklake", "--from", str(source), "--to", lake, "--data-path", data]
    assert main(args) == 0
    assert "copied 16 rows" in capsys.readouterr().out
    with db.read_connection(lake) as conn:
        assert conn.execute("SELECT count(*) FROM transcript_segments").fetchone() == (9,)
        assert conn.execute("SELECT len(embedding), embedding[1] FROM insight_embeddings").fetchone() == (384, 0.25)
    assert main(args) != 0
    assert "already has rows" in capsys.readouterr().err
