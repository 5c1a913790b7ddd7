-- Consumers' rights (issue 22): a person asks what the marketplace holds about their email
-- or phone and has it erased; the daily retention job erases old leads the same way.

-- A request: for an email, a one-time link mailed to it (only the SHA-256 of the link's
-- token is kept); for a phone, a row on the admins' queue. Made whether or not the
-- contact is known, so the answer and the work are the same either way.
CREATE TABLE rights_requests (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'erased', 'dismissed')),
    token_hash TEXT UNIQUE,
    -- `domain::dedup` key of the contact: leads are matched through it, as dedup does.
    contact_key BLOB NOT NULL,
    -- Phone requests only: the number (E.164) so an admin can check who asks; blanked
    -- once the request is erased or dismissed.
    phone TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    confirmed_by TEXT REFERENCES users (id),
    closed_at TIMESTAMP
);
CREATE INDEX rights_requests_queue_idx ON rights_requests (channel, status, created_at);

-- Who did what to personal data, when, from which address and to how many leads; never
-- the contact itself.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased')),
    actor TEXT NOT NULL CHECK (actor IN ('consumer', 'admin', 'system')),
    user_id TEXT REFERENCES users (id),
    address TEXT,
    request_id TEXT,
    leads INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_time_idx ON audit_events (created_at);

-- The deliveries outbox also carries `lead.erased` events (one per purchase and
-- channel beside its `lead.delivered`). SQLite cannot change a UNIQUE constraint: the
-- table is rebuilt with its indexes (migrations run with foreign_keys off).
CREATE TABLE deliveries_new (
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
    event TEXT NOT NULL DEFAULT 'lead.delivered' CHECK (event IN ('lead.delivered', 'lead.erased')),
    UNIQUE (purchase_id, channel, event)
);
INSERT INTO deliveries_new (id, order_id, purchase_id, lead_id, buyer_id, channel, status, attempts, last_status_code, last_error, next_attempt_at, locked_until, created_at, delivered_at, retrying_since)
SELECT id, order_id, purchase_id, lead_id, buyer_id, channel, status, attempts, last_status_code, last_error, next_attempt_at, locked_until, created_at, delivered_at, retrying_since FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_order_idx ON deliveries (order_id, created_at);
