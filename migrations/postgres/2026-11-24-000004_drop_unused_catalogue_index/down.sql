CREATE INDEX leads_catalogue_idx ON leads (status, kind, segment, captured_at);
