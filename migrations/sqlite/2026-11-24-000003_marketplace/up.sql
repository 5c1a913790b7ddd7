-- The marketplace: buyers' credit, the double-entry ledger, purchases and the price
-- rules the admin tunes. Money is BIGINT minor units; factors are basis points
-- (10000 = x1.0).

CREATE TABLE buyer_accounts (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id),
    credit_limit_cents BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
    -- What the buyer owes: kept equal to its buyer_receivable ledger balance, and moved
    -- by a guarded UPDATE so concurrent purchases cannot pass the limit together.
    owed_cents BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    account TEXT NOT NULL CHECK (account IN ('buyer_receivable', 'agency_payable', 'platform_revenue')),
    organisation_id TEXT REFERENCES organisations (id),
    -- Debits positive, credits negative; each transaction's entries sum to zero.
    amount_cents BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, organisation_id);
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);

CREATE TABLE purchases (
    id TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads (id),
    buyer_id TEXT NOT NULL REFERENCES organisations (id),
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    commission_cents BIGINT NOT NULL CHECK (commission_cents >= 0),
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (lead_id, buyer_id)
);
CREATE INDEX purchases_buyer_idx ON purchases (buyer_id, created_at);
CREATE INDEX purchases_agency_idx ON purchases (agency_id, created_at);

CREATE TABLE price_rules (
    kind TEXT NOT NULL CHECK (kind IN ('warmth', 'exclusive', 'freshness_per_day', 'freshness_floor', 'segment', 'country', 'quantity')),
    match_value TEXT NOT NULL,
    factor_bp INTEGER NOT NULL CHECK (factor_bp > 0),
    PRIMARY KEY (kind, match_value)
);

INSERT INTO price_rules (kind, match_value, factor_bp) VALUES
    ('warmth', 'cold', 8500),
    ('warmth', 'warm', 10000),
    ('warmth', 'hot', 13000),
    ('exclusive', '1', 15000),
    ('freshness_per_day', '', 200),
    ('freshness_floor', '', 5000),
    ('segment', 'finance.loans', 12000),
    ('segment', 'insurance', 11000),
    ('segment', 'real_estate', 11500),
    ('quantity', '10', 9500),
    ('quantity', '50', 9000),
    ('quantity', '100', 8500);

CREATE INDEX leads_open_fresh_idx ON leads (kind, status, captured_at, id);
