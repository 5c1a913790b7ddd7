-- PostgreSQL only: SQLite has no fillfactor (see the PostgreSQL migration of this version).
SELECT 1;
