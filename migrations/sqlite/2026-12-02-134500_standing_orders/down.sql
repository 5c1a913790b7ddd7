DROP TABLE deliveries;
ALTER TABLE purchases DROP COLUMN standing_order_id;
DROP TABLE standing_orders;
ALTER TABLE organisations DROP COLUMN time_zone;
