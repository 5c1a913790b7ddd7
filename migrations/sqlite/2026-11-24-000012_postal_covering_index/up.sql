-- `postal_prefix` with a country is a range of this index, and a broad prefix matches
-- many leads (`FR75`: 10,464 at 1M leads). With the key alone, SQLite read each match's
-- row to test the open-catalogue conditions and to sort by freshness: 36-78 ms for the
-- first page. Holding those columns, and `id` for the tie-break and the buyer's-purchase
-- probe, the index answers the count and the sort, and only the page's 50 rows are read:
-- 5 ms (EXPLAIN QUERY PLAN: `SEARCH leads USING COVERING INDEX leads_postal_idx` for the
-- count; `USING INDEX leads_postal_idx` and a temp B-tree of 50 for the page).
DROP INDEX leads_postal_idx;
CREATE INDEX leads_postal_idx
    ON leads (postal_key, kind, status, captured_at, id, sales_count, max_sales);
