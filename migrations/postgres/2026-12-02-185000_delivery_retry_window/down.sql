ALTER TABLE deliveries DROP COLUMN retrying_since;
