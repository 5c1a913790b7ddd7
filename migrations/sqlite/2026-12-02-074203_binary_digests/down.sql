-- hex() spells upper case and gives '' for NULL: the keys were lower-case hex or NULL.
CREATE TABLE lead_details_new (
    lead_id TEXT PRIMARY KEY REFERENCES leads (id),
    ip_hash TEXT,
    form_seconds INTEGER,
    comment TEXT,
    preferred_call_time TEXT,
    captured_at TIMESTAMP NOT NULL
);
INSERT INTO lead_details_new (lead_id, ip_hash, form_seconds, comment, preferred_call_time, captured_at)
SELECT lead_id, nullif(lower(hex(ip_hash)), ''), form_seconds, comment, preferred_call_time, captured_at FROM lead_details;
DROP TABLE lead_details;
ALTER TABLE lead_details_new RENAME TO lead_details;
CREATE INDEX lead_details_ip_idx ON lead_details (ip_hash, captured_at);

CREATE TABLE suppressions_new (
    key_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'email')),
    reason TEXT NOT NULL CHECK (reason IN ('opt_out', 'do_not_call', 'erasure')),
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO suppressions_new (key_hash, kind, reason, source, created_at)
SELECT nullif(lower(hex(key_hash)), ''), kind, reason, source, created_at FROM suppressions;
DROP TABLE suppressions;
ALTER TABLE suppressions_new RENAME TO suppressions;

CREATE TABLE leads_new (
    id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches (id),
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('consumer', 'targeted')),
    segment TEXT NOT NULL REFERENCES segments (slug),
    channel TEXT NOT NULL REFERENCES channels (slug),
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    email_key TEXT,
    phone_key TEXT,
    age INTEGER NOT NULL CHECK (age BETWEEN 18 AND 120),
    income_cents BIGINT CHECK (income_cents >= 0),
    country TEXT NOT NULL,
    region TEXT,
    city TEXT,
    postal_code TEXT,
    street TEXT,
    warmth TEXT NOT NULL CHECK (warmth IN ('cold', 'warm', 'hot')),
    contact_type TEXT NOT NULL CHECK (contact_type IN ('quick', 'registration', 'promotional', 'interested')),
    verified BOOLEAN NOT NULL,
    consent_at TIMESTAMP NOT NULL,
    consent_text TEXT NOT NULL,
    captured_at TIMESTAMP NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    flags TEXT NOT NULL DEFAULT '',
    list_price_cents BIGINT NOT NULL CHECK (list_price_cents >= 0),
    max_sales INTEGER NOT NULL CHECK (max_sales BETWEEN 1 AND 10),
    sales_count INTEGER NOT NULL DEFAULT 0 CHECK (sales_count >= 0 AND sales_count <= max_sales),
    status TEXT NOT NULL CHECK (status IN ('available', 'withdrawn', 'erased')),
    created_at TIMESTAMP NOT NULL,
    postal_key TEXT
);
INSERT INTO leads_new (id, batch_id, agency_id, kind, segment, channel, first_name, last_name, email, phone, email_key, phone_key, age, income_cents, country, region, city, postal_code, street, warmth, contact_type, verified, consent_at, consent_text, captured_at, score, flags, list_price_cents, max_sales, sales_count, status, created_at, postal_key)
SELECT id, batch_id, agency_id, kind, segment, channel, first_name, last_name, email, phone, nullif(lower(hex(email_key)), ''), nullif(lower(hex(phone_key)), ''), age, income_cents, country, region, city, postal_code, street, warmth, contact_type, verified, consent_at, consent_text, captured_at, score, flags, list_price_cents, max_sales, sales_count, status, created_at, postal_key FROM leads;
DROP TABLE leads;
ALTER TABLE leads_new RENAME TO leads;
CREATE INDEX leads_batch_idx ON leads (batch_id);
CREATE INDEX leads_agency_idx ON leads (agency_id, created_at);
CREATE INDEX leads_email_key_idx ON leads (email_key, captured_at);
CREATE INDEX leads_phone_key_idx ON leads (phone_key, captured_at);
CREATE INDEX leads_open_fresh_idx ON leads (kind, status, captured_at, id);
CREATE INDEX leads_open_price_idx ON leads (kind, status, list_price_cents, id);
CREATE INDEX leads_open_score_idx ON leads (kind, status, score, id);
CREATE INDEX leads_segment_idx ON leads (segment, captured_at);
CREATE INDEX leads_region_idx ON leads (country, region, captured_at);
CREATE INDEX leads_city_idx ON leads (country, city, captured_at);
CREATE INDEX leads_segment_score_idx ON leads (segment, score, id) WHERE score >= 0;
CREATE INDEX leads_postal_idx
    ON leads (postal_key, kind, status, captured_at, id, sales_count, max_sales);
