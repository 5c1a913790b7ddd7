DROP INDEX leads_open_shared_idx;
DROP INDEX leads_open_fresh_idx;
DROP INDEX leads_open_score_idx;
DROP INDEX leads_open_price_idx;
DROP INDEX leads_segment_idx;
CREATE INDEX leads_open_fresh_idx ON leads (kind, status, captured_at, id);
CREATE INDEX leads_open_score_idx ON leads (kind, status, score, id);
CREATE INDEX leads_open_price_idx ON leads (kind, status, list_price_cents, id);
CREATE INDEX leads_segment_idx ON leads (segment, captured_at);
