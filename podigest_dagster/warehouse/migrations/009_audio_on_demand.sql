-- Transcript first: each publisher transcript (`podcast:transcript`) tried before any audio is downloaded,
-- and the verdict: `ok` (stored as the episode's transcript: no audio needed) or `unusable` (with why: the
-- audio is downloaded and transcribed instead). `run_id` is the Dagster run that checked it.
CREATE TABLE IF NOT EXISTS publisher_transcripts (
    episode_id     VARCHAR PRIMARY KEY,
    partition_date DATE,
    url            VARCHAR,
    status         VARCHAR NOT NULL,    -- ok | unusable
    error          VARCHAR,
    bytes          BIGINT,
    run_id         VARCHAR,
    checked_at     TIMESTAMPTZ
);

-- The audio cache is bounded: a file whose transcript is stored is deleted after the retention period
-- (or to keep the size cap); its row stays, with status `pruned`, its sha256 and when it was deleted.
ALTER TABLE episode_audio ADD COLUMN pruned_at TIMESTAMPTZ;
