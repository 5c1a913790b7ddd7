DROP TRIGGER standing_orders_book_insert;
DROP TRIGGER standing_orders_book_delete;
DROP TRIGGER standing_orders_book_update;
DROP TRIGGER organisations_book_update;
CREATE TRIGGER standing_orders_book_insert AFTER INSERT ON standing_orders
BEGIN UPDATE order_book_stamp SET version = version + 1; END;
CREATE TRIGGER standing_orders_book_delete AFTER DELETE ON standing_orders
BEGIN UPDATE order_book_stamp SET version = version + 1; END;
CREATE TRIGGER standing_orders_book_update AFTER UPDATE OF
    id, buyer_id, name, filter_query, segment, country, max_price_cents, daily_cap,
    budget_cents, deliver_email, callback_url, secret, active, active_from_minute,
    active_to_minute, created_at, updated_at, deleted_at
    ON standing_orders
BEGIN UPDATE order_book_stamp SET version = version + 1; END;
CREATE TRIGGER organisations_book_update AFTER UPDATE OF status, time_zone ON organisations
BEGIN UPDATE order_book_stamp SET version = version + 1; END;

DROP TRIGGER segments_stamp_insert;
DROP TRIGGER segments_stamp_update;
DROP TRIGGER segments_stamp_delete;
DROP TRIGGER channels_stamp_insert;
DROP TRIGGER channels_stamp_update;
DROP TRIGGER channels_stamp_delete;
DROP TRIGGER price_rules_stamp_insert;
DROP TRIGGER price_rules_stamp_update;
DROP TRIGGER price_rules_stamp_delete;
DROP TABLE reference_stamp;
