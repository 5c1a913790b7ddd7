-- Dedup, suppression and IP keys are SHA-256 digests (`domain::dedup`): stored as their
-- 32 bytes rather than 64 hex characters, each index entry on them is about half the
-- size, so intake's probes and inserts touch fewer pages. Existing keys are decoded.
ALTER TABLE leads
    ALTER COLUMN email_key TYPE BYTEA USING decode(email_key, 'hex'),
    ALTER COLUMN phone_key TYPE BYTEA USING decode(phone_key, 'hex');
ALTER TABLE suppressions ALTER COLUMN key_hash TYPE BYTEA USING decode(key_hash, 'hex');
ALTER TABLE lead_details ALTER COLUMN ip_hash TYPE BYTEA USING decode(ip_hash, 'hex');
