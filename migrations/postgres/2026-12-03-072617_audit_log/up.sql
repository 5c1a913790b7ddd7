-- The audit log records every sensitive action (logins, price rules, suppressions,
-- dispute decisions, invoices, payments, refunds, payouts, segments and channels) by whoever does it, not only admins;
-- the page filters it by user and kind. Invitations and user work are logged too (an
-- agency's or buyer's user inviting a colleague acts as a `user`).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated', 'login', 'login_failed', 'price_rule_changed', 'suppression_added', 'suppression_removed', 'dispute_decided', 'invoice_issued', 'invoice_credited', 'payment_recorded', 'payment_refunded', 'payout_recorded', 'segment_changed', 'channel_changed', 'user_invited', 'invitation_resent', 'invitation_revoked', 'invitation_accepted', 'user_disabled', 'user_enabled', 'role_changed'));
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_check CHECK (actor IN ('consumer', 'admin', 'system', 'agency', 'buyer', 'finance', 'visitor', 'user'));
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at);
CREATE INDEX audit_events_action_idx ON audit_events (action, created_at);
