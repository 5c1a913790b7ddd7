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
-- Their audit entries' kinds are allowed by 072617_audit_log.
