-- The reference data's stamp: every process keeps segments, channels, the segment tree
-- and the price rules in memory (`services::known`) and reads this one row per use to
-- know whether its copy is still right. Statement triggers bump it on any change to
-- those tables.
--
-- A bump takes the next value of a sequence rather than adding one, here and for the
-- order book: a sequence never hands a value out twice, even when the transaction that
-- took it rolls back. A copy read inside a transaction that then rolls back is kept
-- under the version it saw, and a later committed change must not arrive at it again.
CREATE SEQUENCE stamp_versions;
-- From a random point, so a database made again under the same name is never taken for
-- the old one by a process that kept copies of it.
SELECT setval('stamp_versions', (random() * 1e15)::bigint + 1);
CREATE TABLE reference_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_stamp (id, version) VALUES (1, nextval('stamp_versions'));

CREATE FUNCTION bump_reference() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_stamp SET version = nextval('stamp_versions');
    RETURN NULL;
END
$$;
CREATE TRIGGER segments_stamp_change AFTER INSERT OR UPDATE OR DELETE ON segments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference();
CREATE TRIGGER channels_stamp_change AFTER INSERT OR UPDATE OR DELETE ON channels
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference();
CREATE TRIGGER price_rules_stamp_change AFTER INSERT OR UPDATE OR DELETE ON price_rules
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference();

CREATE OR REPLACE FUNCTION bump_order_book() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE order_book_stamp SET version = nextval('stamp_versions');
    RETURN NULL;
END
$$;
UPDATE order_book_stamp SET version = nextval('stamp_versions');
