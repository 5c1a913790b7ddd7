CREATE TABLE deliveries_old (
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
    retrying_since TIMESTAMP,
    UNIQUE (purchase_id, channel)
);
INSERT INTO deliveries_old (id, order_id, purchase_id, lead_id, buyer_id, channel, status, attempts, last_status_code, last_error, next_attempt_at, locked_until, created_at, delivered_at, retrying_since)
SELECT id, order_id, purchase_id, lead_id, buyer_id, channel, status, attempts, last_status_code, last_error, next_attempt_at, locked_until, created_at, delivered_at, retrying_since FROM deliveries WHERE event = 'lead.delivered';
DROP TABLE deliveries;
ALTER TABLE deliveries_old RENAME TO deliveries;
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_order_idx ON deliveries (order_id, created_at);
DROP TABLE audit_events;
DROP TABLE rights_requests;
