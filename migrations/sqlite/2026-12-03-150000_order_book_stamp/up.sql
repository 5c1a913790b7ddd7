-- The order book's stamp (issue 20): every serve process keeps the active standing
-- orders in memory (their parsed filters, indexed by segment), and reads this one row
-- per allocation or ping to know whether its copy is still right. Triggers bump it on
-- every change the copy depends on, whoever makes it: an order made, edited, paused or
-- deleted, a buyer suspended or moved to another time zone. The counters a sale or an
-- offer moves (spend, today's count, open offers, last served) are read fresh each
-- time instead, so they do not bump it.
CREATE TABLE order_book_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO order_book_stamp (id, version) VALUES (1, 0);

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
