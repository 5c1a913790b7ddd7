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
    contact_key BYTEA NOT NULL,
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
-- channel beside its `lead.delivered`).
ALTER TABLE deliveries ADD COLUMN event TEXT NOT NULL DEFAULT 'lead.delivered' CHECK (event IN ('lead.delivered', 'lead.erased'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_purchase_id_channel_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_purchase_channel_event_key UNIQUE (purchase_id, channel, event);
