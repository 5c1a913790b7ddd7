-- Statistics on a lead's sales left, so the planner's row estimate of the catalogue
-- (its "about N" count past the exact cap, `store::catalogue`) knows how many leads are
-- unsold; `sales_count < max_sales` alone is estimated at a fixed third.
CREATE STATISTICS leads_sales_left_stats ON (max_sales - sales_count) FROM leads;
ANALYZE leads;
