-- What an order's open offers (pings it won, not yet posted or marked expired) hold,
-- kept on the order: an auction reads two counters per bidder instead of counting its
-- offers. Offers past their time but still marked open are taken off when read, and
-- off the counters when the order's next win sweeps them.
ALTER TABLE standing_orders ADD COLUMN held_offers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE standing_orders ADD COLUMN held_cents BIGINT NOT NULL DEFAULT 0;
UPDATE standing_orders SET
    held_offers = (SELECT COUNT(*) FROM pings
                   WHERE pings.winner_order_id = standing_orders.id AND pings.status = 'open'),
    held_cents = (SELECT COALESCE(SUM(pings.price_cents), 0) FROM pings
                  WHERE pings.winner_order_id = standing_orders.id AND pings.status = 'open');
