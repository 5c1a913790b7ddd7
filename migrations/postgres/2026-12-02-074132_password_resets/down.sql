DROP INDEX password_resets_user_idx;
DROP TABLE password_resets;
