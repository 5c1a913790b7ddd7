-- The audit log records every sensitive action (logins, price rules, suppressions,
-- dispute decisions, invoices, payments, refunds, payouts, segments and channels) by whoever does it, not only admins;
-- the page filters it by user and kind. Invitations and user work are logged too (an
-- agency's or buyer's user inviting a colleague acts as a `user`). SQLite cannot change a CHECK: the table is
-- rebuilt (migrations run with foreign_keys off).
CREATE TABLE audit_events_new (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated', 'login', 'login_failed', 'price_rule_changed', 'suppression_added', 'suppression_removed', 'dispute_decided', 'invoice_issued', 'invoice_credited', 'payment_recorded', 'payment_refunded', 'payout_recorded', 'segment_changed', 'channel_changed', 'user_invited', 'invitation_resent', 'invitation_revoked', 'invitation_accepted', 'user_disabled', 'user_enabled', 'role_changed')),
    actor TEXT NOT NULL CHECK (actor IN ('consumer', 'admin', 'system', 'agency', 'buyer', 'finance', 'visitor', 'user')),
    user_id TEXT REFERENCES users (id),
    address TEXT,
    request_id TEXT,
    leads INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    org_id TEXT REFERENCES organisations (id),
    detail TEXT
);
INSERT INTO audit_events_new (id, action, actor, user_id, address, request_id, leads, created_at, org_id, detail)
    SELECT id, action, actor, user_id, address, request_id, leads, created_at, org_id, detail FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_time_idx ON audit_events (created_at);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at);
CREATE INDEX audit_events_action_idx ON audit_events (action, created_at);
