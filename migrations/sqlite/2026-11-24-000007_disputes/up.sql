-- Disputes: a buyer returns a bought lead with a reason; the platform decides what it can
-- check itself, otherwise the agency answers and finance decides contested cases. Every
-- step is an event. One dispute per purchase.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    purchase_id TEXT NOT NULL UNIQUE REFERENCES purchases (id),
    lead_id TEXT NOT NULL REFERENCES leads (id),
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    reason TEXT NOT NULL CHECK (reason IN ('wrong_number', 'invalid_email', 'duplicate', 'bot', 'fake_identity', 'out_of_criteria', 'competitor', 'prank', 'no_consent')),
    comment TEXT NOT NULL,
    -- open: waiting for the agency; contested/escalated: waiting for finance.
    status TEXT NOT NULL CHECK (status IN ('open', 'contested', 'escalated', 'approved', 'rejected')),
    decided_by TEXT CHECK (decided_by IN ('platform', 'agency', 'finance')),
    evidence TEXT,
    agency_comment TEXT,
    decision_comment TEXT,
    amount_cents BIGINT NOT NULL,
    deadline_at TIMESTAMP NOT NULL,
    credit_transaction_id TEXT REFERENCES ledger_transactions (id),
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX disputes_buyer_idx ON disputes (buyer_id, created_at);
CREATE INDEX disputes_agency_idx ON disputes (agency_id, status, created_at);
CREATE INDEX disputes_status_idx ON disputes (status, deadline_at);

CREATE TABLE dispute_events (
    id TEXT PRIMARY KEY,
    dispute_id TEXT NOT NULL REFERENCES disputes (id),
    -- buyer, agency, finance, admin or platform
    actor TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX dispute_events_dispute_idx ON dispute_events (dispute_id, created_at);
