ALTER TABLE standing_orders DROP COLUMN held_cents;
ALTER TABLE standing_orders DROP COLUMN held_offers;
