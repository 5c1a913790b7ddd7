DROP INDEX leads_postal_idx;
CREATE INDEX leads_postal_idx ON leads (postal_key);
