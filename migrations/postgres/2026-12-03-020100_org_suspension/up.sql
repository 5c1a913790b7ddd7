-- An admin's suspension of a whole organisation (beside the quality rule's, which only
-- takes an agency's listings down): with a reason, shown to its users, it also stops
-- their sign-in, sessions and API tokens.
ALTER TABLE organisations ADD COLUMN suspension_reason TEXT;
ALTER TABLE organisations ADD COLUMN suspended_at TIMESTAMP;
