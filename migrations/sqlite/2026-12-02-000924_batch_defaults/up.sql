-- A batch's segment and channel are defaults for rows whose cell is empty: NULL when the
-- batch gives none and every row carries its own.
-- SQLite cannot drop NOT NULL: the table is rebuilt (migrations run with foreign_keys
-- off, so the tables that reference batches keep their references).
CREATE TABLE batches_new (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('consumer', 'targeted')),
    order_id TEXT,
    segment TEXT REFERENCES segments (slug),
    channel TEXT REFERENCES channels (slug),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    max_sales INTEGER NOT NULL CHECK (max_sales BETWEEN 1 AND 10),
    billing TEXT NOT NULL CHECK (billing IN ('per_lead', 'per_action')),
    action_price_cents BIGINT,
    consent_text TEXT NOT NULL,
    source TEXT NOT NULL,
    filename TEXT,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
    error TEXT,
    rows_total INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    headers TEXT NOT NULL DEFAULT '',
    unknown_columns TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    locked_by TEXT,
    locked_until TIMESTAMP
);
INSERT INTO batches_new (id, agency_id, kind, order_id, segment, channel, price_cents, max_sales, billing, action_price_cents, consent_text, source, filename, status, error, rows_total, rows_done, accepted, rejected, duplicates, suppressed, created_by, created_at, finished_at, headers, unknown_columns, file_size, locked_by, locked_until)
SELECT id, agency_id, kind, order_id, segment, channel, price_cents, max_sales, billing, action_price_cents, consent_text, source, filename, status, error, rows_total, rows_done, accepted, rejected, duplicates, suppressed, created_by, created_at, finished_at, headers, unknown_columns, file_size, locked_by, locked_until FROM batches;
DROP TABLE batches;
ALTER TABLE batches_new RENAME TO batches;
CREATE INDEX batches_agency_idx ON batches (agency_id, created_at);
CREATE INDEX batches_status_idx ON batches (status, locked_until);
