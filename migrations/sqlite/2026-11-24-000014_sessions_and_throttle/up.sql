-- Sign-in sessions, so a session can be ended before its cookie expires (logout, a
-- disabled user). The cookie carries a random id; only its SHA-256 is kept here, so a
-- copy of this table opens no session.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Fixed-window failure counters shared by every `serve` process: login per account and
-- per address, API key and postback token guesses per address. The key is a SHA-256 of
-- scope and value, so no email or address is stored. A guarded
-- `UPDATE ... WHERE failures < limit` takes a slot atomically on both backends.
CREATE TABLE throttle_counters (
    key_hash TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    failures BIGINT NOT NULL
);
CREATE INDEX throttle_counters_window_idx ON throttle_counters (window_start);
