-- Lead intake: the uploaded file (kept in the database so any `serve` process can
-- process or resume it), rejected rows with their reasons, the suppression list, intake
-- evidence, engagement events, idempotency keys and the minimal buyer orders that
-- targeted batches are uploaded against.

ALTER TABLE batches ADD COLUMN headers TEXT NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN unknown_columns TEXT NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN file_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN locked_by TEXT;
ALTER TABLE batches ADD COLUMN locked_until TIMESTAMP;
CREATE INDEX batches_status_idx ON batches (status, locked_until);

CREATE TABLE batch_files (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

CREATE TABLE batch_rejects (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches (id),
    row_number INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('rejected', 'duplicate', 'suppressed')),
    reasons TEXT NOT NULL,
    raw TEXT NOT NULL
);
CREATE INDEX batch_rejects_batch_idx ON batch_rejects (batch_id, row_number);

CREATE TABLE suppressions (
    key_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'email')),
    reason TEXT NOT NULL CHECK (reason IN ('opt_out', 'do_not_call', 'erasure')),
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE lead_details (
    lead_id TEXT PRIMARY KEY REFERENCES leads (id),
    ip_hash TEXT,
    form_seconds INTEGER,
    comment TEXT,
    preferred_call_time TEXT,
    captured_at TIMESTAMP NOT NULL
);
CREATE INDEX lead_details_ip_idx ON lead_details (ip_hash, captured_at);

CREATE TABLE lead_events (
    id TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads (id),
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'clicked', 'answered')),
    occurred_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (lead_id, kind)
);

CREATE TABLE idempotency_keys (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, idempotency_key)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    segment TEXT REFERENCES segments (slug),
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id);
