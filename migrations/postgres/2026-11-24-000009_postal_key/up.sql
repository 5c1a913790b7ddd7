-- The postal prefix filter compares a stored key, the country then the postal code in
-- upper-case letters and digits (`FR75008`, see `domain::catalogue::postal_key`), as a
-- byte-order range that the index serves. LIKE on `postal_code` could use no index (the
-- database collation) and matched case-sensitively here but not on SQLite. At 1M leads,
-- `postal_prefix=75&country=FR` counted by a sequential scan (43 ms); on this index it
-- reads its 1,001 rows (7 ms). `COLLATE "C"` makes the order byte order. The statistics
-- target is raised because the default histogram (100 buckets over every country's codes)
-- put a 1% prefix at one row, and the planner then sorted all of a prefix's matches
-- rather than walk the freshness index to the first 50.
ALTER TABLE leads ADD COLUMN postal_key TEXT COLLATE "C";
UPDATE leads
SET postal_key = NULLIF(country || upper(regexp_replace(postal_code, '[^A-Za-z0-9]', '', 'g')), country)
WHERE postal_code IS NOT NULL;
ALTER TABLE leads ALTER COLUMN postal_key SET STATISTICS 1000;
CREATE INDEX leads_postal_idx ON leads (postal_key);
