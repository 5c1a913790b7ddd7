ALTER TABLE organisations DROP COLUMN suspended_at;
ALTER TABLE organisations DROP COLUMN suspension_reason;
