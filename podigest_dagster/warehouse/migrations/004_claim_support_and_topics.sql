-- Support that means the same claim: a cluster member counts toward its idea's support only when its own
-- passage passes the quality floor and states the same specific claim as the representative.
ALTER TABLE insight_clusters ADD COLUMN supports_claim BOOLEAN;
-- Every item names its subject: a short topic line per top insight and digest item.
ALTER TABLE top_insights ADD COLUMN topic VARCHAR;
ALTER TABLE digest_items ADD COLUMN topic VARCHAR;
