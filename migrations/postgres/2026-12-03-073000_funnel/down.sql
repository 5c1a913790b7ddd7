DROP TABLE funnel_refresh;
DROP TABLE funnel_counts;
DROP INDEX actions_created_idx;
DROP INDEX actions_lead_idx;
-- Uncharged actions (on per-lead leads) did not exist before.
DELETE FROM actions WHERE transaction_id IS NULL;
ALTER TABLE actions DROP CONSTRAINT actions_uncharged_free;
ALTER TABLE actions ALTER COLUMN transaction_id SET NOT NULL;
ALTER TABLE batches DROP COLUMN traffic;
