-- SQLite only (see the SQLite migration of this version). PostgreSQL already serves
-- `sort=-score&segment=...` from `leads_open_score_idx` with a filter (5 ms at 1M leads);
-- with this partial index present, it chose a sequential scan for the count of
-- `segment=medical&min_score=40` (the partial index implies `score >= 40` and
-- skewed its bitmap choice): 11 ms became 42-56 ms. So nothing changes here.
SELECT 1;
