DROP TABLE pricing_state;
DROP INDEX leads_place_idx;
DROP INDEX leads_segment_idx;
DROP INDEX leads_open_score_idx;
DROP INDEX leads_open_price_idx;
ALTER TABLE leads RENAME COLUMN list_price_cents TO price_cents;
