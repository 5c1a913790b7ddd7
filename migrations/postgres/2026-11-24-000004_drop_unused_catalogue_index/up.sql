-- The planners use leads_open_fresh_idx for every catalogue query (EXPLAIN in the
-- session notes); this one only cost every intake insert.
DROP INDEX leads_catalogue_idx;
