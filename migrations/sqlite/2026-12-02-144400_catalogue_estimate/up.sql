-- PostgreSQL only (statistics for the catalogue's row estimate); SQLite keeps no
-- estimate, so its catalogue says "more than N" past the exact count.
SELECT 1;
