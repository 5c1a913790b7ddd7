DROP TABLE throttle_counters;
DROP TABLE sessions;
