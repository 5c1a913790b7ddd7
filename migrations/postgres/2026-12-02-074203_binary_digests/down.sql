ALTER TABLE lead_details ALTER COLUMN ip_hash TYPE TEXT USING encode(ip_hash, 'hex');
ALTER TABLE suppressions ALTER COLUMN key_hash TYPE TEXT USING encode(key_hash, 'hex');
ALTER TABLE leads
    ALTER COLUMN email_key TYPE TEXT USING encode(email_key, 'hex'),
    ALTER COLUMN phone_key TYPE TEXT USING encode(phone_key, 'hex');
