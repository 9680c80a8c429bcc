-- The last complete dbt build of each partition: a fingerprint of what it read (the source tables, the
-- dbt project, the partition window, the selection) and the results dbt reported, as a JSON list. A
-- re-run whose fingerprint is unchanged reports those results again instead of running dbt
-- (podigest_dagster/core/marts/store.py).
CREATE TABLE IF NOT EXISTS dbt_builds (
    partition_date DATE PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    results JSON NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
