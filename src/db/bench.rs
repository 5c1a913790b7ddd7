//! The statements only `leadmarket bench` runs, on its own scratch database: emptying
//! and refilling `leads` to measure what the database alone can store, and planner
//! statistics after seeding.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use super::AnyConnection;

/// Empties `leads` (and `lead_details`, the only rows pointing at leads in a bench
/// database: it holds no purchases or disputes) the fastest way each backend has.
/// SQLite also checkpoints the WAL so the next run starts from a small file.
pub fn empty_leads(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(c) => c.batch_execute("TRUNCATE leads CASCADE;"),
        AnyConnection::Sqlite(c) => c.batch_execute(
            "DELETE FROM lead_details; DELETE FROM leads; PRAGMA wal_checkpoint(TRUNCATE);",
        ),
    }
}

/// Copies every stored lead into `ceiling_leads` (indexed by id), for `restore_leads`.
pub fn copy_leads_aside(conn: &mut AnyConnection) -> QueryResult<()> {
    conn.batch_execute(
        "CREATE TABLE ceiling_leads AS SELECT * FROM leads; \
         CREATE INDEX ceiling_leads_id_idx ON ceiling_leads (id);",
    )
}

/// Moves the next `rows` leads of `ceiling_leads` back into `leads` with one plain
/// `INSERT ... SELECT` (its own transaction), in id order (the order intake wrote them);
/// returns how many moved, 0 when all are back.
pub fn restore_leads(conn: &mut AnyConnection, rows: usize) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "INSERT INTO leads SELECT * FROM ceiling_leads \
         WHERE id > COALESCE((SELECT MAX(id) FROM leads), '') ORDER BY id LIMIT {}",
        rows.max(1)
    ))
    .execute(conn)
}

/// Planner statistics of the seeded `leads` and `batches`.
pub fn analyze_seeded(conn: &mut AnyConnection) -> QueryResult<()> {
    conn.batch_execute("ANALYZE leads; ANALYZE batches;")
}
