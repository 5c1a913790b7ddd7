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
-- a `user`. SQLite cannot change a CHECK: the table is rebuilt (migrations run with
-- foreign_keys off).
CREATE TABLE audit_events_new (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL CHECK (action IN ('rights_requested', 'rights_confirmed', 'rights_dismissed', 'rights_erased', 'retention_erased', 'settings_changed', 'org_created', 'org_suspended', 'org_reactivated', 'user_invited', 'invitation_resent', 'invitation_revoked', 'invitation_accepted', 'user_disabled', 'user_enabled', 'role_changed')),
    actor TEXT NOT NULL CHECK (actor IN ('consumer', 'admin', 'system', 'user')),
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
