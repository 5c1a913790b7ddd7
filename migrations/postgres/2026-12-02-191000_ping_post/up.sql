-- Ping-post (issue 21): each ping an agency sends before it posts a lead, with the bids
-- of the standing orders that wanted it (the auction log), and targeted orders that
-- agencies fill with targeted batches.

-- A ping holds only what orders filter on: never a contact, never its hashes.
CREATE TABLE pings (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    segment TEXT NOT NULL,
    country TEXT NOT NULL,
    region TEXT,
    -- `postal_key` of the catalogue (country and code, upper-cased, no spaces).
    postal_key TEXT,
    age INTEGER NOT NULL,
    income_cents BIGINT,
    warmth TEXT NOT NULL,
    contact_type TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    channel TEXT,
    captured_at TIMESTAMP NOT NULL,
    reserve_cents BIGINT NOT NULL CHECK (reserve_cents >= 0),
    -- Active orders whose index keys fit (the orders asked), and those that bid.
    orders_asked INTEGER NOT NULL,
    winner_order_id TEXT,
    winner_buyer_id TEXT,
    -- What the winner pays: the second-highest bid, or the reserve when it bid alone.
    price_cents BIGINT,
    status TEXT NOT NULL CHECK (status IN ('open', 'no_offer', 'posted', 'expired')),
    expires_at TIMESTAMP,
    took_micros BIGINT NOT NULL,
    lead_id TEXT,
    posted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pings_agency_idx ON pings (agency_id, created_at);
CREATE INDEX pings_created_idx ON pings (created_at);
-- The offers an order holds (open, not expired): counted against its cap and budget.
CREATE INDEX pings_held_idx ON pings (winner_order_id, status, expires_at);

CREATE TABLE ping_bids (
    ping_id TEXT NOT NULL REFERENCES pings (id),
    order_id TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    bid_cents BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('won', 'lost', 'under_reserve')),
    PRIMARY KEY (ping_id, order_id)
);
CREATE INDEX ping_bids_buyer_idx ON ping_bids (buyer_id, ping_id);

-- Targeted orders: criteria (a catalogue filter), quantity, price per lead, deadline.
ALTER TABLE orders ADD COLUMN filter_query TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1;
ALTER TABLE orders ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN price_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN deadline TIMESTAMP;
ALTER TABLE orders ADD COLUMN closed_at TIMESTAMP;
CREATE INDEX orders_open_idx ON orders (status, deadline);
