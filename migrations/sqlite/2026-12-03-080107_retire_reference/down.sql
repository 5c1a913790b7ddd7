ALTER TABLE channels DROP COLUMN retired_at;
ALTER TABLE segments DROP COLUMN retired_at;
