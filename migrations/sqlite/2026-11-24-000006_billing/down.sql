CREATE TABLE ledger_entries_old (
    id TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    account TEXT NOT NULL CHECK (account IN ('buyer_receivable', 'agency_payable', 'platform_revenue')),
    organisation_id TEXT REFERENCES organisations (id),
    -- Debits positive, credits negative; each transaction's entries sum to zero.
    amount_cents BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO ledger_entries_old (id, transaction_id, account, organisation_id, amount_cents, created_at)
    SELECT id, transaction_id, account, organisation_id, amount_cents, created_at FROM ledger_entries;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_old RENAME TO ledger_entries;
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, organisation_id);
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);
DROP TABLE outbox;
DROP TABLE stripe_events;
DROP TABLE payments;
DROP TABLE number_sequences;
DROP TABLE invoice_lines;
DROP TABLE statements;
DROP TABLE invoices;
DROP TABLE actions;
DROP TABLE postback_tokens;
ALTER TABLE organisations DROP COLUMN billing_address;
