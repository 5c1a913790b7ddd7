//! Fresh planner statistics after a batch or a repricing run: once the tables written to
//! have moved by more than a tenth since their last refresh, they are analysed at once,
//! so the catalogue's plans fit a fresh import within seconds rather than after
//! autovacuum (PostgreSQL) or the half-hourly `PRAGMA optimize` (SQLite). Runs after the
//! writes have committed, outside any transaction, and never fails its caller.

use crate::db::{self, AnyConnection};
use crate::domain::planner::stats_are_stale;
use crate::error::AppError;
use crate::store::{self, planner_stats::StatsTable};

/// Analyses those of `tables` (each with the rows changed in place) whose statistics are
/// stale, and records the refresh; returns the tables analysed.
pub fn refresh_if_stale(
    conn: &mut AnyConnection,
    tables: &[(StatsTable, i64)],
) -> Result<Vec<StatsTable>, AppError> {
    let mut stale = Vec::new();
    for &(table, changed) in tables {
        let at_refresh = store::planner_stats::rows_at_refresh(conn, table)?;
        let rows = store::planner_stats::row_count(conn, table)?;
        if stats_are_stale(at_refresh, rows, changed) {
            stale.push((table, rows));
        }
    }
    if stale.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = stale.iter().map(|(t, _)| t.name()).collect();
    db::refresh_planner_stats(conn, &names)?;
    let now = store::now();
    for &(table, rows) in &stale {
        store::planner_stats::record_refresh(conn, table, rows, now)?;
    }
    Ok(stale.into_iter().map(|(t, _)| t).collect())
}

/// After a batch is `done`: intake grew `leads` and `lead_details`.
pub fn after_batch(conn: &mut AnyConnection) {
    logged(
        refresh_if_stale(
            conn,
            &[(StatsTable::Leads, 0), (StatsTable::LeadDetails, 0)],
        ),
        "batch",
    );
}

/// After a repricing run that changed `changed` list prices in place.
pub fn after_repricing(conn: &mut AnyConnection, changed: usize) {
    let changed = i64::try_from(changed).unwrap_or(i64::MAX);
    logged(
        refresh_if_stale(conn, &[(StatsTable::Leads, changed)]),
        "repricing",
    );
}

/// Stale statistics only slow plans down: a failed refresh is a warning, never an error.
fn logged(result: Result<Vec<StatsTable>, AppError>, after: &str) {
    match result {
        Ok(tables) if !tables.is_empty() => {
            let tables: Vec<&str> = tables.iter().map(|t| t.name()).collect();
            tracing::info!(?tables, after, "planner statistics refreshed");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, after, "refreshing planner statistics failed"),
    }
}
