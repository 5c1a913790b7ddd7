-- How big each table intake and repricing write to was when its planner statistics were
-- last refreshed, shared by every process, so a refresh runs once the table has grown
-- or changed by about a tenth since (`services::planner_stats`).
CREATE TABLE planner_stats (
    table_name TEXT PRIMARY KEY CHECK (table_name IN ('leads', 'lead_details')),
    rows_at_refresh BIGINT NOT NULL CHECK (rows_at_refresh >= 0),
    refreshed_at TIMESTAMP
);
INSERT INTO planner_stats (table_name, rows_at_refresh, refreshed_at) VALUES
    ('leads', 0, NULL),
    ('lead_details', 0, NULL);
