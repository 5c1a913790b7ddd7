-- Billing: what buyers report (actions), invoices and credit notes with gapless numbers,
-- payments (bank transfer and card), agency statements and payouts, Stripe events seen,
-- and the mail outbox. Money is BIGINT minor units; rates are basis points.

ALTER TABLE organisations ADD COLUMN billing_address TEXT NOT NULL DEFAULT '';

-- A buyer's token for the postback URL (stored hashed, shown once).
CREATE TABLE postback_tokens (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    purchase_id TEXT NOT NULL REFERENCES purchases (id),
    lead_id TEXT NOT NULL REFERENCES leads (id),
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('call', 'consultation', 'purchase')),
    occurred_at TIMESTAMP NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    commission_cents BIGINT NOT NULL CHECK (commission_cents >= 0),
    idempotency_key TEXT NOT NULL,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (purchase_id, kind),
    UNIQUE (buyer_id, idempotency_key)
);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    -- `LM-2026-000123` for invoices, `CN-2026-000007` for credit notes; NULL while draft.
    number TEXT UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'issued')),
    -- The invoice a credit note corrects.
    corrects_id TEXT REFERENCES invoices (id),
    period_start TIMESTAMP NOT NULL,
    period_end TIMESTAMP NOT NULL,
    subtotal_cents BIGINT NOT NULL,
    tax_bp INTEGER NOT NULL,
    tax_cents BIGINT NOT NULL,
    total_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL DEFAULT 0,
    credited_cents BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    issued_at TIMESTAMP,
    due_at TIMESTAMP,
    issued_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX invoices_buyer_idx ON invoices (buyer_id, created_at);
CREATE INDEX invoices_status_idx ON invoices (status, due_at);

CREATE TABLE invoice_lines (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    batch_id TEXT REFERENCES batches (id),
    quantity BIGINT NOT NULL,
    unit_cents BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);

-- The last number of each series and year: incremented inside the issuing transaction,
-- so numbers have no gaps and no two invoices share one.
CREATE TABLE number_sequences (
    series TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (series, year)
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    method TEXT NOT NULL CHECK (method IN ('bank_transfer', 'card')),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    received_on TIMESTAMP NOT NULL,
    reference TEXT NOT NULL,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    recorded_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);
CREATE INDEX payments_buyer_idx ON payments (buyer_id, received_on);

CREATE TABLE statements (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    period_start TIMESTAMP NOT NULL,
    period_end TIMESTAMP NOT NULL,
    gross_cents BIGINT NOT NULL,
    commission_cents BIGINT NOT NULL,
    returns_cents BIGINT NOT NULL,
    net_cents BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid')),
    paid_on TIMESTAMP,
    paid_reference TEXT,
    payout_transaction_id TEXT REFERENCES ledger_transactions (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX statements_agency_idx ON statements (agency_id, period_start);

CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

-- Money received (bank, card) and paid out, and tax owed, join the ledger's accounts.
-- Entries are claimed by the invoice or statement that bills them.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_account_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_account_check
    CHECK (account IN ('buyer_receivable', 'agency_payable', 'platform_revenue', 'cash', 'tax_payable'));
ALTER TABLE ledger_entries ADD COLUMN invoice_id TEXT REFERENCES invoices (id);
ALTER TABLE ledger_entries ADD COLUMN statement_id TEXT REFERENCES statements (id);
CREATE INDEX ledger_entries_unbilled_idx ON ledger_entries (account, organisation_id, invoice_id, statement_id);
