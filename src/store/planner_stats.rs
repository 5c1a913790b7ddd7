//! How big each table intake and repricing write to was at its last planner-statistics
//! refresh (`planner_stats`), shared by every process.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{lead_details, leads, planner_stats};

/// A table whose statistics are kept fresh after writes (the rows of `planner_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsTable {
    Leads,
    LeadDetails,
}

impl StatsTable {
    /// The table's name in the schema, as `ANALYZE` takes it.
    pub fn name(self) -> &'static str {
        match self {
            StatsTable::Leads => "leads",
            StatsTable::LeadDetails => "lead_details",
        }
    }
}

pub fn row_count(conn: &mut AnyConnection, table: StatsTable) -> QueryResult<i64> {
    match table {
        StatsTable::Leads => leads::table.count().get_result(conn),
        StatsTable::LeadDetails => lead_details::table.count().get_result(conn),
    }
}

/// Rows at the last refresh; 0 for a table never refreshed.
pub fn rows_at_refresh(conn: &mut AnyConnection, table: StatsTable) -> QueryResult<i64> {
    Ok(planner_stats::table
        .find(table.name())
        .select(planner_stats::rows_at_refresh)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Records a refresh (the rows come from the migration that made the table).
pub fn record_refresh(
    conn: &mut AnyConnection,
    table: StatsTable,
    rows: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(planner_stats::table.find(table.name()))
        .set((
            planner_stats::rows_at_refresh.eq(rows),
            planner_stats::refreshed_at.eq(at),
        ))
        .execute(conn)
}
