-- Fails while a batch without a default segment or channel exists: such a batch has no
-- value the old schema could hold.
ALTER TABLE batches ALTER COLUMN segment SET NOT NULL;
ALTER TABLE batches ALTER COLUMN channel SET NOT NULL;
