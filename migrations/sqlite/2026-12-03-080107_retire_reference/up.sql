-- Admins retire a segment or channel: it stays on the leads that have it, and intake
-- refuses it for new ones.
ALTER TABLE segments ADD COLUMN retired_at TIMESTAMP;
ALTER TABLE channels ADD COLUMN retired_at TIMESTAMP;
