"""Warehouse reads and writes of the transcribe stage: the day's work list, per-episode transcript replace,
the publisher transcripts checked first."""

from __future__ import annotations

import duckdb
import pandas as pd

from podigest_dagster.core.net.untrusted import valid_text, valid_value
from podigest_dagster.core.transcribe.publisher_first import PublisherCheck
from podigest_dagster.core.transcribe.work import EpisodeWork, Outcome
from podigest_dagster.warehouse.db import retry_conflicts, transaction

WORK_SQL = """
SELECT e.episode_id, e.transcript_urls, e.duration_s,
       a.status, a.path, a.sha256, a.error,
       t.status, t.source, t.audio_sha256,
       p.status, p.error
FROM episodes e
LEFT JOIN episode_audio a ON a.episode_id = e.episode_id
LEFT JOIN transcripts t ON t.episode_id = e.episode_id
LEFT JOIN publisher_transcripts p ON p.episode_id = e.episode_id
WHERE e.partition_date = ?
ORDER BY e.published_at, e.episode_id
"""

EPISODE_WORK_SQL = WORK_SQL.replace("WHERE e.partition_date = ?", "WHERE e.episode_id = ?")

DELETE_SEGMENTS = "DELETE FROM transcript_segments WHERE episode_id = ?"
INSERT_SEGMENTS = (
    "INSERT INTO transcript_segments (episode_id, seq, start_s, end_s, text, source, "
    "avg_logprob, no_speech_prob, speaker) SELECT episode_id, seq, start_s, end_s, text, source, "
    "avg_logprob, no_speech_prob, speaker FROM new_segments"
)
# Delete-then-insert in the one transaction (not ON CONFLICT): the same SQL runs on a DuckDB file and on
# a DuckLake, which has no primary keys.
DELETE_TRANSCRIPT = "DELETE FROM transcripts WHERE episode_id = ?"
INSERT_TRANSCRIPT = """
INSERT INTO transcripts (episode_id, partition_date, status, source, audio_sha256, language,
    audio_duration_s, transcribe_s, segment_count, error, transcribed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)
"""
MERGE_PUBLISHER_CHECK = """
MERGE INTO publisher_transcripts AS t USING (SELECT ?::VARCHAR AS episode_id, ?::DATE AS partition_date,
    ?::VARCHAR AS url, ?::VARCHAR AS status, ?::VARCHAR AS error, ?::BIGINT AS bytes, ?::VARCHAR AS run_id,
    current_timestamp AS checked_at) AS s
ON t.episode_id = s.episode_id
WHEN MATCHED THEN UPDATE SET partition_date = s.partition_date, url = s.url, status = s.status, error = s.error,
    bytes = s.bytes, run_id = s.run_id, checked_at = s.checked_at
WHEN NOT MATCHED THEN INSERT (episode_id, partition_date, url, status, error, bytes, run_id, checked_at)
VALUES (s.episode_id, s.partition_date, s.url, s.status, s.error, s.bytes, s.run_id, s.checked_at)
"""


def load_work(conn: duckdb.DuckDBPyConnection, partition_date: str) -> list[EpisodeWork]:
    """The partition's episodes with their audio and any earlier transcript, in publication order."""
    return [EpisodeWork(*row) for row in conn.execute(WORK_SQL, [partition_date]).fetchall()]


def load_episode_work(conn: duckdb.DuckDBPyConnection, episode_id: str) -> EpisodeWork | None:
    """One episode as load_work sees it now (a per-episode step checks it is still to do), or None."""
    row = conn.execute(EPISODE_WORK_SQL, [episode_id]).fetchone()
    return EpisodeWork(*row) if row else None


def _segment_frame(episode_id: str, outcome: Outcome) -> pd.DataFrame:
    segments = outcome.segments
    return pd.DataFrame(
        {
            "episode_id": [episode_id] * len(segments),
            "seq": [s.seq for s in segments],
            "start_s": [float(s.start_s) for s in segments],
            "end_s": [float(s.end_s) for s in segments],
            "text": [valid_text(s.text) for s in segments],
            "source": [outcome.source] * len(segments),
            "avg_logprob": pd.array([s.avg_logprob for s in segments], dtype="Float64"),
            "no_speech_prob": pd.array([s.no_speech_prob for s in segments], dtype="Float64"),
            "speaker": pd.array([valid_text(s.speaker) if s.speaker else None for s in segments], dtype="string"),
        }
    )


@retry_conflicts
def store_outcome(
    conn: duckdb.DuckDBPyConnection, partition_date: str, episode_id: str, outcome: Outcome
) -> None:
    """Replace the episode's segments and upsert its transcripts row, in one transaction."""
    with transaction(conn):
        _replace_transcript(conn, partition_date, episode_id, outcome)


@retry_conflicts
def store_publisher_check(
    conn: duckdb.DuckDBPyConnection, partition_date: str, check: PublisherCheck, run_id: str | None
) -> None:
    """Record what the publisher's transcript was found to be and, when usable, store it as the episode's
    transcript, in one transaction (an unusable one leaves any earlier transcript as it is)."""
    with transaction(conn):
        conn.execute(
            MERGE_PUBLISHER_CHECK,
            [
                check.episode_id, partition_date, valid_value(check.url), check.status, valid_value(check.error),
                check.bytes, run_id,
            ],
        )  # fmt: skip
        if check.outcome is not None:
            _replace_transcript(conn, partition_date, check.episode_id, check.outcome)


def count_publisher_used(conn: duckdb.DuckDBPyConnection, partition_date: str, run_id: str) -> int:
    """How many of the day's transcripts the run `run_id` took from the publisher (checked first)."""
    return conn.execute(
        "SELECT count(*) FROM publisher_transcripts p JOIN transcripts t USING (episode_id) "
        "WHERE p.partition_date = ? AND p.run_id = ? AND p.status = 'ok' AND t.status = 'ok' "
        "AND t.source = 'publisher'",
        [partition_date, run_id],
    ).fetchone()[0]


def _replace_transcript(
    conn: duckdb.DuckDBPyConnection, partition_date: str, episode_id: str, outcome: Outcome
) -> None:
    rows = _segment_frame(episode_id, outcome)
    conn.execute(DELETE_SEGMENTS, [episode_id])
    if len(rows):
        conn.register("new_segments", rows)
        conn.execute(INSERT_SEGMENTS)
        conn.unregister("new_segments")
    conn.execute(DELETE_TRANSCRIPT, [episode_id])
    conn.execute(
        INSERT_TRANSCRIPT,
        [
            episode_id,
            partition_date,
            outcome.status,
            valid_value(outcome.source),
            outcome.audio_sha256,
            valid_value(outcome.language),
            outcome.audio_duration_s,
            outcome.transcribe_s,
            len(outcome.segments),
            valid_value(outcome.error),
        ],
    )
