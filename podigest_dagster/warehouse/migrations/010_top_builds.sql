-- The last build of each partition's top insights: a fingerprint of what it read (the candidates'
-- extraction fingerprint, what the lookback window sent, the selection's settings). A forced re-run whose
-- fingerprint is unchanged and that has no LLM to ask keeps the stored items instead of loading the
-- embedding model and spaCy to name the same items again (podigest_dagster/core/insights/store.py).
CREATE TABLE IF NOT EXISTS top_builds (
    partition_date DATE PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
