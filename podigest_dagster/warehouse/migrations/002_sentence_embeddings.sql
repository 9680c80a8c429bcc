-- The embeddings of each candidate's sentences, computed once by insight_embeddings beside the passage's
-- own embedding, so insight_clusters and top_insights compare ideas sentence by sentence without
-- embedding anything again. NULL for rows embedded before this migration: they are embedded again once.
ALTER TABLE insight_embeddings ADD COLUMN sentence_embeddings FLOAT[384][];
