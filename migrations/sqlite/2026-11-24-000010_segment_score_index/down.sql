DROP INDEX leads_segment_score_idx;
