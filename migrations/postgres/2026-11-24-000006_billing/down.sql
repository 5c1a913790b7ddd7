DROP INDEX ledger_entries_unbilled_idx;
ALTER TABLE ledger_entries DROP COLUMN statement_id;
ALTER TABLE ledger_entries DROP COLUMN invoice_id;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_account_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_account_check
    CHECK (account IN ('buyer_receivable', 'agency_payable', 'platform_revenue'));
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
