DROP TABLE funnel_refresh;
DROP TABLE funnel_counts;
-- Uncharged actions (on per-lead leads) did not exist before.
CREATE TABLE actions_old (
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
INSERT INTO actions_old SELECT id, purchase_id, lead_id, buyer_id, agency_id, kind, occurred_at,
    price_cents, commission_cents, idempotency_key, transaction_id, created_at FROM actions
    WHERE transaction_id IS NOT NULL;
DROP TABLE actions;
ALTER TABLE actions_old RENAME TO actions;
ALTER TABLE batches DROP COLUMN traffic;
