-- Intake's index budget (issue 18): every index on `leads` costs each imported row an
-- entry, so each must serve a plan (see "Indexes on leads" in migrations/README.md).
-- `leads_agency_idx` served no plan on PostgreSQL (the agency's counts scanned the
-- table) and only the total on SQLite: a batch belongs to one agency, so those counts
-- now go through the agency's batches and `leads_batch_idx`
-- (`store::leads::agency_totals`).
DROP INDEX leads_agency_idx;
-- The dedup, suppression and dispute probes look a key up and read the row for its
-- capture time and batch (`store::intake::existing_keys`): `captured_at` in these
-- indexes was read by no plan, and made each entry 8 (PostgreSQL) to 26 (SQLite, text)
-- bytes longer.
DROP INDEX leads_email_key_idx;
DROP INDEX leads_phone_key_idx;
CREATE INDEX leads_email_key_idx ON leads (email_key);
CREATE INDEX leads_phone_key_idx ON leads (phone_key);
