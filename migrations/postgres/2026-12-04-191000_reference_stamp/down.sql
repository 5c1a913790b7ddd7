CREATE OR REPLACE FUNCTION bump_order_book() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE order_book_stamp SET version = version + 1;
    RETURN NULL;
END
$$;
DROP TRIGGER price_rules_stamp_change ON price_rules;
DROP TRIGGER channels_stamp_change ON channels;
DROP TRIGGER segments_stamp_change ON segments;
DROP FUNCTION bump_reference();
DROP TABLE reference_stamp;
DROP SEQUENCE stamp_versions;
