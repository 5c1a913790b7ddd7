-- Core tables: organisations, users, API keys, login throttling, reference data
-- (segments, channels), lead batches and leads. Portable types only (see README.md).

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('agency', 'buyer', 'platform')),
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agency', 'buyer', 'finance', 'admin')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);
CREATE INDEX users_organisation_idx ON users (organisation_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_organisation_idx ON api_keys (organisation_id);

-- Failed and successful logins, kept for minutes: the throttle reads them, so every
-- `serve` process sees the same counts. The account is stored hashed, not as an email.
CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY,
    account_hash TEXT NOT NULL,
    ip TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_account_idx ON login_attempts (account_hash, attempted_at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, attempted_at);
CREATE INDEX login_attempts_time_idx ON login_attempts (attempted_at);

CREATE TABLE segments (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT REFERENCES segments (slug)
);

CREATE TABLE channels (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('consumer', 'targeted')),
    order_id TEXT,
    segment TEXT NOT NULL REFERENCES segments (slug),
    channel TEXT NOT NULL REFERENCES channels (slug),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    max_sales INTEGER NOT NULL CHECK (max_sales BETWEEN 1 AND 10),
    billing TEXT NOT NULL CHECK (billing IN ('per_lead', 'per_action')),
    action_price_cents BIGINT,
    consent_text TEXT NOT NULL,
    source TEXT NOT NULL,
    filename TEXT,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
    error TEXT,
    rows_total INTEGER NOT NULL DEFAULT 0,
    rows_done INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX batches_agency_idx ON batches (agency_id, created_at);

CREATE TABLE leads (
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
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    max_sales INTEGER NOT NULL CHECK (max_sales BETWEEN 1 AND 10),
    sales_count INTEGER NOT NULL DEFAULT 0 CHECK (sales_count >= 0 AND sales_count <= max_sales),
    status TEXT NOT NULL CHECK (status IN ('available', 'withdrawn', 'erased')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX leads_batch_idx ON leads (batch_id);
CREATE INDEX leads_agency_idx ON leads (agency_id, created_at);
CREATE INDEX leads_catalogue_idx ON leads (status, kind, segment, captured_at);
CREATE INDEX leads_email_key_idx ON leads (email_key, captured_at);
CREATE INDEX leads_phone_key_idx ON leads (phone_key, captured_at);

INSERT INTO segments (slug, name, parent) VALUES
    ('insurance', 'Insurance', NULL),
    ('insurance.car', 'Car insurance', 'insurance'),
    ('insurance.health', 'Health insurance', 'insurance'),
    ('insurance.travel', 'Travel insurance', 'insurance'),
    ('finance', 'Finance', NULL),
    ('finance.loans', 'Loans', 'finance'),
    ('finance.deposits', 'Deposits', 'finance'),
    ('real_estate', 'Real estate', NULL),
    ('education', 'Education and courses', NULL),
    ('travel', 'Travel and tours', NULL),
    ('car_dealers', 'Car dealers (test drives)', NULL),
    ('telecom', 'Telecom and internet', NULL),
    ('delivery_taxi', 'Delivery and taxi', NULL),
    ('ecommerce', 'E-commerce', NULL),
    ('mobile_apps', 'Mobile apps', NULL),
    ('medical', 'Medical', NULL);

INSERT INTO channels (slug, name) VALUES
    ('landing_page', 'Landing page'),
    ('web_form', 'Web form'),
    ('popup', 'Pop-up'),
    ('sms', 'SMS'),
    ('social', 'Social network'),
    ('email', 'Email newsletter'),
    ('webinar', 'Webinar'),
    ('ebook', 'E-book download'),
    ('online_consultation', 'Online consultation'),
    ('cold_call', 'Cold call'),
    ('event', 'Exhibition or event'),
    ('flyer', 'Flyer'),
    ('word_of_mouth', 'Word of mouth'),
    ('referral', 'Referral'),
    ('search_ads', 'Search or paid ads');
