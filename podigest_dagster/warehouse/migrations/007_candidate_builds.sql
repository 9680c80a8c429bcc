-- The last extraction of each partition's insight candidates: a fingerprint of what it read (the day's
-- transcript segments, the shows' earlier texts for boilerplate, the shipped sponsor-read and insight
-- models, the extraction code) and the drops it counted by reason. A re-run whose fingerprint is unchanged
-- keeps the stored candidates instead of embedding every sentence of the day again
-- (podigest_dagster/core/insights/store.py).
CREATE TABLE IF NOT EXISTS candidate_builds (
    partition_date DATE PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    dropped_by_reason JSON NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
