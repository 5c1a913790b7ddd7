DROP TABLE planner_stats;
