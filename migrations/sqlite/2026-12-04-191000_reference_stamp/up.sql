-- The reference data's stamp: every process keeps segments, channels, the segment tree
-- and the price rules in memory (`services::known`) and reads this one row per use to
-- know whether its copy is still right. Triggers bump it on any change to those tables.
--
-- A bump sets a random version rather than adding one, here and for the order book: a
-- copy read inside a transaction that then rolls back is kept under the version it saw,
-- and a later committed change must not arrive at that same version. A new database
-- starts at a random version too, so one made again under the same file name is never
-- taken for the old one.
CREATE TABLE reference_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_stamp (id, version) VALUES (1, random());

CREATE TRIGGER segments_stamp_insert AFTER INSERT ON segments
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER segments_stamp_update AFTER UPDATE ON segments
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER segments_stamp_delete AFTER DELETE ON segments
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER channels_stamp_insert AFTER INSERT ON channels
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER channels_stamp_update AFTER UPDATE ON channels
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER channels_stamp_delete AFTER DELETE ON channels
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER price_rules_stamp_insert AFTER INSERT ON price_rules
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER price_rules_stamp_update AFTER UPDATE ON price_rules
BEGIN UPDATE reference_stamp SET version = random(); END;
CREATE TRIGGER price_rules_stamp_delete AFTER DELETE ON price_rules
BEGIN UPDATE reference_stamp SET version = random(); END;

DROP TRIGGER standing_orders_book_insert;
DROP TRIGGER standing_orders_book_delete;
DROP TRIGGER standing_orders_book_update;
DROP TRIGGER organisations_book_update;
CREATE TRIGGER standing_orders_book_insert AFTER INSERT ON standing_orders
BEGIN UPDATE order_book_stamp SET version = random(); END;
CREATE TRIGGER standing_orders_book_delete AFTER DELETE ON standing_orders
BEGIN UPDATE order_book_stamp SET version = random(); END;
CREATE TRIGGER standing_orders_book_update AFTER UPDATE OF
    id, buyer_id, name, filter_query, segment, country, max_price_cents, daily_cap,
    budget_cents, deliver_email, callback_url, secret, active, active_from_minute,
    active_to_minute, created_at, updated_at, deleted_at
    ON standing_orders
BEGIN UPDATE order_book_stamp SET version = random(); END;
CREATE TRIGGER organisations_book_update AFTER UPDATE OF status, time_zone ON organisations
BEGIN UPDATE order_book_stamp SET version = random(); END;
UPDATE order_book_stamp SET version = random();
