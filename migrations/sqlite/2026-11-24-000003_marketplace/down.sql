DROP INDEX leads_open_fresh_idx;
DROP TABLE price_rules;
DROP TABLE purchases;
DROP TABLE ledger_entries;
DROP TABLE ledger_transactions;
DROP TABLE buyer_accounts;
