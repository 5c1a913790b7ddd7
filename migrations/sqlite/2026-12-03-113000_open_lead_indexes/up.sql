-- The catalogue after a crowd has bought (issue 18). A sold-out lead keeps
-- `status = 'available'` (its sales are on the books), so the open-catalogue indexes hold
-- every sold lead, and a filter purchase or page walks past the leads sold so far,
-- freshest first, reading each one's row for `sales_count < max_sales`: 85 ms a claim
-- once 20,000 of the freshest were sold. With both counts in the index entry the walk
-- checks them without the row (5 ms). An index partial on `sales_count < max_sales`
-- would drop sold leads altogether, but SQLite 3.50's planner (with STAT4) then chose a
-- full scan and a sort for a filter purchase of one or two leads (250 ms).
DROP INDEX leads_open_fresh_idx;
DROP INDEX leads_open_score_idx;
DROP INDEX leads_open_price_idx;
CREATE INDEX leads_open_fresh_idx ON leads (kind, status, captured_at, id, sales_count, max_sales);
CREATE INDEX leads_open_score_idx ON leads (kind, status, score, id, sales_count, max_sales);
CREATE INDEX leads_open_price_idx ON leads (kind, status, list_price_cents, id, sales_count, max_sales);
-- Shared leads (sold to more than one buyer) of the open catalogue, freshest first:
-- `exclusive=false` found its leads through `leads_open_fresh_idx` and, after an upload
-- of exclusive leads only, read every open lead to find none (700 ms at 160,000 leads).
-- Partial on the literal the query states (`store::catalogue`), so only shared leads
-- pay for an entry.
CREATE INDEX leads_open_shared_idx ON leads (kind, status, captured_at, id) WHERE sales_count < max_sales AND max_sales > 1;
