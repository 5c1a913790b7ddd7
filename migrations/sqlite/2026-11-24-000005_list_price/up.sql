-- A lead's price for one unit today (the batch's base price times the admin's modifiers),
-- kept so buyers can filter and sort by price through an index. The base price lives on
-- the batch; purchases still re-quote exactly and refuse a price that moved.
ALTER TABLE leads RENAME COLUMN price_cents TO list_price_cents;
CREATE INDEX leads_open_price_idx ON leads (kind, status, list_price_cents, id);
-- Sorting by score, and the filters buyers narrow by most (segment, place): without
-- them a selective filter reads every lead to count its matches (EXPLAIN in the notes).
CREATE INDEX leads_open_score_idx ON leads (kind, status, score, id);
CREATE INDEX leads_segment_idx ON leads (segment, captured_at);
CREATE INDEX leads_place_idx ON leads (country, region, city, captured_at);

-- When list prices were last brought up to date (freshness decays by the day).
CREATE TABLE pricing_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    priced_on TEXT NOT NULL
);
INSERT INTO pricing_state (id, priced_on) VALUES (1, '2000-01-01');
