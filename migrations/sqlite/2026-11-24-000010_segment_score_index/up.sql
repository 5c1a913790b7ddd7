-- Best leads of a segment first (`sort=-score&segment=...`, and `sort=score` with a
-- `min_score`): an index in that order, so a page reads its 50 entries. Without it
-- SQLite 3.50 read every lead of the segment through `leads_segment_idx` and sorted them
-- (at 1M leads, 60,000 rows of `insurance.car`: 111 ms for the first page).
-- Partial on a condition every lead meets: only queries that state `score >= 0` as a
-- literal (the score-sorted pages, `store::market::catalogue_page`) may use it. As a plain
-- index SQLite also took it for a segment's count, where it visits rows in score order,
-- scattered over the table, instead of in capture order (`finance.loans&warmth=hot` at
-- 1M leads: 249 ms against 14).
CREATE INDEX leads_segment_score_idx ON leads (segment, score, id) WHERE score >= 0;
