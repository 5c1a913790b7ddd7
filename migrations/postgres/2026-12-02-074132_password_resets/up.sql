-- "Forgot password": one-time links mailed to a user. Only the SHA-256 of the link's
-- token is kept, so a copy of this table resets nothing. A link works once
-- (`used_at`) and until `expires_at`.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
