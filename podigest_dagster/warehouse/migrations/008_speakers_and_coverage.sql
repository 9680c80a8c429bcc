-- Who said it and which other shows covered the story: each top insight and digest item carries the
-- speaker named by the transcript (never a diarization placeholder; NULL when unknown) and its coverage,
-- a JSON list of {podcast, episode, episode_id, url, start_s, end_s}: the other shows' passages on the same
-- story (an empty list when only one show told it).
ALTER TABLE top_insights ADD COLUMN speaker VARCHAR;
ALTER TABLE top_insights ADD COLUMN coverage VARCHAR;
ALTER TABLE digest_items ADD COLUMN speaker VARCHAR;
ALTER TABLE digest_items ADD COLUMN coverage VARCHAR;
