DROP INDEX leads_phone_key_idx;
DROP INDEX leads_email_key_idx;
CREATE INDEX leads_phone_key_idx ON leads (phone_key, captured_at);
CREATE INDEX leads_email_key_idx ON leads (email_key, captured_at);
CREATE INDEX leads_agency_idx ON leads (agency_id, created_at);
