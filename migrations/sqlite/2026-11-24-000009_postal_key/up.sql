-- The postal prefix filter compares a stored key, the country then the postal code in
-- upper-case letters and digits (`FR75008`, see `domain::catalogue::postal_key`), as a
-- byte-order range that the index serves. SQLite's LIKE is case-insensitive and so can
-- use no index: at 1M leads `postal_prefix=75&country=FR` took 242-315 ms.
-- SQLite has no regexp_replace: existing rows drop the separators postal codes use
-- (space, hyphen, dot, slash, comma); the application writes the exact key for new rows.
ALTER TABLE leads ADD COLUMN postal_key TEXT;
UPDATE leads
SET postal_key = NULLIF(country || upper(replace(replace(replace(replace(replace(
    postal_code, ' ', ''), '-', ''), '.', ''), '/', ''), ',', '')), country)
WHERE postal_code IS NOT NULL;
CREATE INDEX leads_postal_idx ON leads (postal_key);
