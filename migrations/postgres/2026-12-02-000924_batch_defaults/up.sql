-- A batch's segment and channel are defaults for rows whose cell is empty: NULL when the
-- batch gives none and every row carries its own.
ALTER TABLE batches ALTER COLUMN segment DROP NOT NULL;
ALTER TABLE batches ALTER COLUMN channel DROP NOT NULL;
