-- The funnel (issue 23): the traffic an agency reports per batch, actions recorded on
-- per-lead leads (for the funnel, never charged: no ledger transaction), and a rollup of
-- each batch's leads kept by the job loop so a funnel read never scans leads.
ALTER TABLE batches ADD COLUMN traffic BIGINT CHECK (traffic IS NULL OR traffic >= 0);

ALTER TABLE actions ALTER COLUMN transaction_id DROP NOT NULL;
ALTER TABLE actions ADD CONSTRAINT actions_uncharged_free
    CHECK (transaction_id IS NOT NULL OR (price_cents = 0 AND commission_cents = 0));
-- The rollup's recount (EXISTS per lead) and its "what changed since" scan.
CREATE INDEX actions_lead_idx ON actions (lead_id);
CREATE INDEX actions_created_idx ON actions (created_at);

-- Per batch and lead attributes: leads stored (qualified), sold at least once, with at
-- least one action. Rows received and traffic are read from `batches` itself.
CREATE TABLE funnel_counts (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    segment TEXT NOT NULL,
    channel TEXT NOT NULL,
    warmth TEXT NOT NULL,
    qualified BIGINT NOT NULL,
    sold BIGINT NOT NULL,
    converted BIGINT NOT NULL,
    PRIMARY KEY (batch_id, segment, channel, warmth)
);

-- One row: how far the rollup is refreshed, and the lease of the process refreshing it.
CREATE TABLE funnel_refresh (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    refreshed_to TIMESTAMP,
    locked_by TEXT,
    locked_until TIMESTAMP
);
INSERT INTO funnel_refresh (id) VALUES (1);
