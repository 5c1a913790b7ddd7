//! Lead batches, always read through the owning agency.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::batches;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = batches)]
#[diesel(treat_none_as_default_value = false)]
pub struct BatchRow {
    pub id: String,
    pub agency_id: String,
    pub kind: String,
    pub order_id: Option<String>,
    pub segment: String,
    pub channel: String,
    pub price_cents: i64,
    pub max_sales: i32,
    pub billing: String,
    pub action_price_cents: Option<i64>,
    pub consent_text: String,
    pub source: String,
    pub filename: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub rows_total: i32,
    pub rows_done: i32,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub suppressed: i32,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &BatchRow) -> QueryResult<usize> {
    diesel::insert_into(batches::table)
        .values(row)
        .execute(conn)
}

/// A batch of this agency; `None` for another agency's batch, exactly as for none at all.
pub fn find_for_agency(
    conn: &mut AnyConnection,
    agency_id: &str,
    batch_id: &str,
) -> QueryResult<Option<BatchRow>> {
    batches::table
        .filter(batches::id.eq(batch_id))
        .filter(batches::agency_id.eq(agency_id))
        .select(BatchRow::as_select())
        .first(conn)
        .optional()
}

pub fn recent_for_agency(
    conn: &mut AnyConnection,
    agency_id: &str,
    limit: i64,
) -> QueryResult<Vec<BatchRow>> {
    batches::table
        .filter(batches::agency_id.eq(agency_id))
        .order((batches::created_at.desc(), batches::id.desc()))
        .limit(limit)
        .select(BatchRow::as_select())
        .load(conn)
}

pub fn count_for_agency(conn: &mut AnyConnection, agency_id: &str) -> QueryResult<i64> {
    batches::table
        .filter(batches::agency_id.eq(agency_id))
        .count()
        .get_result(conn)
}
