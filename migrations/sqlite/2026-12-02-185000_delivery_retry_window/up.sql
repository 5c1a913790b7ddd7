-- "Retry now" opens a new day of retries from this moment; until then the day runs from
-- the delivery's creation.
ALTER TABLE deliveries ADD COLUMN retrying_since TIMESTAMP;
