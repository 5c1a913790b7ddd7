DROP INDEX orders_open_idx;
ALTER TABLE orders DROP COLUMN closed_at;
ALTER TABLE orders DROP COLUMN deadline;
ALTER TABLE orders DROP COLUMN price_cents;
ALTER TABLE orders DROP COLUMN delivered;
ALTER TABLE orders DROP COLUMN quantity;
ALTER TABLE orders DROP COLUMN filter_query;
DROP TABLE ping_bids;
DROP TABLE pings;
