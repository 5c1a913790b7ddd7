-- Invitations to join an organisation: a one-time link mailed to the invitee, valid until
-- `expires_at`, that sets the password of the account it creates. Only the SHA-256 of the
-- link's token is kept; a resend replaces it (the old link stops). Revoked or accepted
-- once, never deleted.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agency', 'buyer', 'finance', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP,
    user_id TEXT REFERENCES users (id)
);
CREATE INDEX invitations_organisation_idx ON invitations (organisation_id, created_at);
CREATE INDEX invitations_email_idx ON invitations (email);

-- The audit log records user and invitation work; a colleague inviting a colleague acts as
-- a `user`.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_check CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated', 'user_invited', 'invitation_resent', 'invitation_revoked', 'invitation_accepted', 'user_disabled', 'user_enabled', 'role_changed'));
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_check CHECK (actor IN ('consumer', 'admin', 'system', 'user'));
