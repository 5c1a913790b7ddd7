DROP INDEX leads_postal_idx;
ALTER TABLE leads DROP COLUMN postal_key;
