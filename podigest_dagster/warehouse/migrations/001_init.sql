-- podigest warehouse, version 1. Every table is documented in README.md (Warehouse).
CREATE TABLE IF NOT EXISTS feeds (
    feed_url        VARCHAR PRIMARY KEY,
    name            VARCHAR,            -- name given in feeds.yaml / OPML
    title           VARCHAR,            -- title the feed declares
    etag            VARCHAR,
    last_modified   VARCHAR,
    last_polled_at  TIMESTAMPTZ,
    last_status     VARCHAR,            -- ok | not_modified | error
    last_error      VARCHAR,
    last_http_status INTEGER,
    added_at        TIMESTAMPTZ DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS episodes (
    episode_id       VARCHAR PRIMARY KEY,  -- stable id: sha1 of feed url + guid (or enclosure without query + title)
    feed_url         VARCHAR NOT NULL,
    podcast          VARCHAR,
    guid             VARCHAR,
    title            VARCHAR,
    published_at     TIMESTAMPTZ,          -- NULL when the feed gave no usable date
    partition_date   DATE,                 -- UTC day of published_at; NULL for undated entries
    date_status      VARCHAR NOT NULL,     -- ok | missing | invalid
    enclosure_url    VARCHAR,
    enclosure_type   VARCHAR,
    enclosure_length BIGINT,
    duration_s       DOUBLE,
    link             VARCHAR,
    show_notes       VARCHAR,
    transcript_urls  VARCHAR,              -- JSON list of {"url", "type"}
    first_seen_at    TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS episode_audio (
    episode_id     VARCHAR PRIMARY KEY,
    partition_date DATE,
    source_url     VARCHAR,
    status         VARCHAR NOT NULL,      -- ok | failed | no_enclosure
    sha256         VARCHAR,
    path           VARCHAR,
    bytes          BIGINT,
    content_type   VARCHAR,
    error          VARCHAR,
    attempts       INTEGER NOT NULL DEFAULT 0,
    downloaded_at  TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS transcripts (
    episode_id       VARCHAR PRIMARY KEY,
    partition_date   DATE,
    status           VARCHAR NOT NULL,    -- ok | failed
    source           VARCHAR,             -- publisher | whisper:<model>
    audio_sha256     VARCHAR,
    language         VARCHAR,
    audio_duration_s DOUBLE,
    transcribe_s     DOUBLE,
    segment_count    INTEGER,
    error            VARCHAR,
    transcribed_at   TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS transcript_segments (
    episode_id     VARCHAR NOT NULL,
    seq            INTEGER NOT NULL,
    start_s        DOUBLE NOT NULL,
    end_s          DOUBLE NOT NULL,
    text           VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    avg_logprob    DOUBLE,
    no_speech_prob DOUBLE,
    PRIMARY KEY (episode_id, seq)
);

CREATE TABLE IF NOT EXISTS insight_candidates (
    candidate_id   VARCHAR PRIMARY KEY,   -- sha1 of episode id + first/last segment seq
    partition_date DATE NOT NULL,
    episode_id     VARCHAR NOT NULL,
    seq_start      INTEGER NOT NULL,
    seq_end        INTEGER NOT NULL,
    start_s        DOUBLE NOT NULL,
    end_s          DOUBLE NOT NULL,
    raw_text       VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,      -- cleaned, self-contained
    score          DOUBLE NOT NULL,       -- insightfulness in [0, 1]
    features       VARCHAR                -- JSON: why it scored so
);

CREATE TABLE IF NOT EXISTS insight_embeddings (
    candidate_id VARCHAR PRIMARY KEY,
    model        VARCHAR NOT NULL,
    embedding    FLOAT[384] NOT NULL
);

CREATE TABLE IF NOT EXISTS insight_clusters (
    partition_date   DATE NOT NULL,
    cluster_id       INTEGER NOT NULL,
    candidate_id     VARCHAR NOT NULL,
    is_representative BOOLEAN NOT NULL,
    support          INTEGER NOT NULL,    -- distinct podcasts in the cluster
    PRIMARY KEY (partition_date, candidate_id)
);

CREATE TABLE IF NOT EXISTS top_insights (
    partition_date  DATE NOT NULL,
    rank            INTEGER NOT NULL,
    cluster_id      INTEGER NOT NULL,
    candidate_id    VARCHAR NOT NULL,     -- the cluster's representative
    insight         VARCHAR NOT NULL,     -- the text sent to readers
    extractive_text VARCHAR NOT NULL,
    support         INTEGER NOT NULL,
    score           DOUBLE NOT NULL,
    sources         VARCHAR NOT NULL,     -- JSON list of {podcast, episode, episode_id, url, start_s, end_s}
    rewrite_status  VARCHAR,              -- extractive | llm | llm_failed: <reason>
    embedding       FLOAT[384],
    PRIMARY KEY (partition_date, rank)
);

CREATE TABLE IF NOT EXISTS digests (
    partition_date DATE PRIMARY KEY,
    item_count     INTEGER NOT NULL,
    markdown       VARCHAR NOT NULL,
    html           VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    json           VARCHAR NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS digest_items (
    partition_date DATE NOT NULL,
    rank           INTEGER NOT NULL,
    insight        VARCHAR NOT NULL,
    support        INTEGER NOT NULL,
    sources        VARCHAR NOT NULL,
    PRIMARY KEY (partition_date, rank)
);

CREATE TABLE IF NOT EXISTS deliveries (
    partition_date DATE NOT NULL,
    channel        VARCHAR NOT NULL,      -- email | rss
    recipient      VARCHAR NOT NULL,
    message_id     VARCHAR,
    status         VARCHAR NOT NULL,      -- sending | sent | failed
    error          VARCHAR,
    attempts       INTEGER NOT NULL DEFAULT 0,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (partition_date, channel, recipient)
);
