-- The catalogue's indexes hold open leads only (issue 18). A sold-out lead keeps
-- `status = 'available'` (its sales are on the books), so these indexes kept every sold
-- lead, and every catalogue page and filter purchase walked past the leads the crowd had
-- just bought, freshest first: a claim's cost grew with the sales made. Partial on the
-- very term every catalogue query states (`sales_count < max_sales`), a lead leaves
-- them with its last sale.
DROP INDEX leads_open_fresh_idx;
DROP INDEX leads_open_score_idx;
DROP INDEX leads_open_price_idx;
DROP INDEX leads_segment_idx;
CREATE INDEX leads_open_fresh_idx ON leads (kind, status, captured_at, id) WHERE sales_count < max_sales;
CREATE INDEX leads_open_score_idx ON leads (kind, status, score, id) WHERE sales_count < max_sales;
CREATE INDEX leads_open_price_idx ON leads (kind, status, list_price_cents, id) WHERE sales_count < max_sales;
CREATE INDEX leads_segment_idx ON leads (segment, captured_at) WHERE sales_count < max_sales;
-- Shared leads (sold to more than one buyer) of the open catalogue, freshest first:
-- `exclusive=false` found its leads through `leads_open_fresh_idx` and, after an upload
-- of exclusive leads only, read every open lead to find none (700 ms at 160,000 leads).
-- Partial on the literal the query states (`store::catalogue`), so only shared leads
-- pay for an entry.
CREATE INDEX leads_open_shared_idx ON leads (kind, status, captured_at, id) WHERE sales_count < max_sales AND max_sales > 1;
