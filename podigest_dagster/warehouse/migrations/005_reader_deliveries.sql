-- A digest per reader. reader_digests holds each readers.yaml reader's digest of the day as it is (or was)
-- sent: `digest` is `general` (no interests or mutes: the day's general digest) or `reader` (re-ranked for
-- their interests, muted shows and topics left out); `items` is the digest JSON's items, each with `why`
-- it is there and its `candidate_id`. A reader's row is not recomputed once their email for the day is sent.
CREATE TABLE IF NOT EXISTS reader_digests (
    partition_date DATE NOT NULL,
    reader         VARCHAR NOT NULL,      -- bare lower-cased address
    digest         VARCHAR NOT NULL,      -- general | reader
    interests      VARCHAR,               -- JSON list of the interests it was chosen for
    items          VARCHAR NOT NULL,      -- JSON list of items (rank, topic, insight, support, sources, why, candidate_id)
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (partition_date, reader)
);
-- The delivery ledger is per reader and day: `recipient` is the reader's bare lower-cased address, so a
-- display name or letter case changed in readers.yaml never sends a second email; `digest` says which digest
-- the reader got (general | reader) and `items` what it held (JSON list of {rank, candidate_id, why}).
ALTER TABLE deliveries ADD COLUMN digest VARCHAR;
ALTER TABLE deliveries ADD COLUMN items VARCHAR;
