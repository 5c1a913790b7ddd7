-- Finance actions that must happen once: a form post (payment, credit note, issue,
-- payout, apply, refund) carries a one-time token, and a card payment its Stripe payment
-- intent. The key is claimed in the transaction that does the work, so a double click or
-- a second event for the same intent finds it taken and answers with the first result.
CREATE TABLE once_keys (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    result_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One billing run per period at a time: a run claims its period's row first (committed
-- on its own), and a second run finds it taken until `finished_at` is set.
CREATE TABLE billing_runs (
    period TEXT PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

-- Money received that no invoice took (a card payment above what was open): the receipt
-- is in the ledger (cash in, the buyer's receivable down), and finance applies what is
-- left to an open invoice or records that it was refunded.
CREATE TABLE unapplied_payments (
    id TEXT PRIMARY KEY,
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    method TEXT NOT NULL CHECK (method IN ('bank_transfer', 'card')),
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    applied_cents BIGINT NOT NULL DEFAULT 0 CHECK (applied_cents >= 0),
    received_on TIMESTAMP NOT NULL,
    reference TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unapplied', 'applied', 'refunded')),
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    refund_transaction_id TEXT REFERENCES ledger_transactions (id),
    settled_by TEXT REFERENCES users (id),
    settled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK (applied_cents <= amount_cents)
);
CREATE INDEX unapplied_payments_status_idx ON unapplied_payments (status, created_at);
