-- Standing orders (issue 20): a buyer's saved criteria that take matching leads as they
-- are accepted, and the deliveries of what they took (an outbox written in the purchase's
-- transaction, delivered after commit).

-- The buyer's day for a standing order's daily cap is counted in this IANA zone.
ALTER TABLE organisations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE standing_orders (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    -- The catalogue filter as its query string (the one parser of `Filter`).
    filter_query TEXT NOT NULL,
    -- Copied from the filter: the keys the allocation looks active orders up by
    -- (NULL: any). `segment` matches the lead's segment or one of its parents.
    segment TEXT,
    country TEXT,
    max_price_cents BIGINT NOT NULL CHECK (max_price_cents >= 0),
    daily_cap INTEGER CHECK (daily_cap IS NULL OR daily_cap > 0),
    budget_cents BIGINT CHECK (budget_cents IS NULL OR budget_cents >= 0),
    spent_cents BIGINT NOT NULL DEFAULT 0,
    -- The buyer's local date `today_count` counts (YYYY-MM-DD); another date means 0.
    cap_day TEXT,
    today_count INTEGER NOT NULL DEFAULT 0,
    deliver_email TEXT,
    callback_url TEXT,
    -- Signs the callbacks (HMAC-SHA256); shown to the buyer once, when made or rotated.
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    -- Minutes after local midnight, [from, to); both NULL: all day. from > to wraps.
    active_from_minute INTEGER CHECK (active_from_minute BETWEEN 0 AND 1439),
    active_to_minute INTEGER CHECK (active_to_minute BETWEEN 0 AND 1440),
    -- Ties on the ceiling go to the order served longest ago (round robin).
    last_allocated_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX standing_orders_buyer_idx ON standing_orders (buyer_id, created_at);
-- The allocation's index of active orders.
CREATE INDEX standing_orders_active_idx ON standing_orders (segment, country) WHERE active AND deleted_at IS NULL;

-- No REFERENCES: SQLite cannot drop a column that has one (down.sql).
ALTER TABLE purchases ADD COLUMN standing_order_id TEXT;

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES standing_orders (id),
    purchase_id TEXT NOT NULL REFERENCES purchases (id),
    lead_id TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'callback')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    -- A short excerpt of the last answer or error, never the whole body.
    last_error TEXT,
    next_attempt_at TIMESTAMP,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    UNIQUE (purchase_id, channel)
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_order_idx ON deliveries (order_id, created_at);
