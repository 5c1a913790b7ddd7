//! Lead batches, always read through the owning agency.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::batches;
use crate::domain::intake::BatchStatus;
use crate::domain::lead::LeadKind;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = batches)]
#[diesel(treat_none_as_default_value = false)]
pub struct BatchRow {
    pub id: String,
    pub agency_id: String,
    pub kind: LeadKind,
    pub order_id: Option<String>,
    /// The default for rows whose `segment` cell is empty; `None`: every row gives its own.
    pub segment: Option<String>,
    /// The default for rows whose `channel` cell is empty; `None`: every row gives its own.
    pub channel: Option<String>,
    pub price_cents: i64,
    pub max_sales: i32,
    pub billing: String,
    pub action_price_cents: Option<i64>,
    pub consent_text: String,
    pub source: String,
    pub filename: Option<String>,
    pub status: BatchStatus,
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
    /// Header names as uploaded, tab-separated.
    pub headers: String,
    /// Columns outside the contract, comma-separated.
    pub unknown_columns: String,
    pub file_size: i64,
    /// Visitors behind the batch, as the agency reported them (the funnel's first step).
    pub traffic: Option<i64>,
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

/// Counts one chunk adds to its batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    pub rows: i32,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub suppressed: i32,
}

impl ChunkCounts {
    pub fn add(&mut self, other: ChunkCounts) {
        self.rows += other.rows;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.duplicates += other.duplicates;
        self.suppressed += other.suppressed;
    }
}

/// Adds a committed chunk's counts; `rows_total` grows with `rows_done` while streaming.
pub fn add_counts(conn: &mut AnyConnection, batch_id: &str, c: ChunkCounts) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set((
            batches::rows_done.eq(batches::rows_done + c.rows),
            batches::rows_total.eq(batches::rows_total + c.rows),
            batches::accepted.eq(batches::accepted + c.accepted),
            batches::rejected.eq(batches::rejected + c.rejected),
            batches::duplicates.eq(batches::duplicates + c.duplicates),
            batches::suppressed.eq(batches::suppressed + c.suppressed),
        ))
        .execute(conn)
}

pub fn set_header(
    conn: &mut AnyConnection,
    batch_id: &str,
    headers: &str,
    unknown: &str,
) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set((
            batches::headers.eq(headers),
            batches::unknown_columns.eq(unknown),
        ))
        .execute(conn)
}

pub fn finish(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set((
            batches::status.eq(BatchStatus::Done),
            batches::finished_at.eq(super::now()),
            batches::locked_by.eq(None::<String>),
            batches::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

pub fn fail(conn: &mut AnyConnection, batch_id: &str, reason: &str) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set((
            batches::status.eq(BatchStatus::Failed),
            batches::error.eq(reason),
            batches::finished_at.eq(super::now()),
            batches::locked_by.eq(None::<String>),
            batches::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Claims the oldest processing batch whose lease is free or expired; the guarded UPDATE
/// makes the claim safe between several `serve` processes.
pub fn claim_next(
    conn: &mut AnyConnection,
    worker: &str,
    lease: chrono::TimeDelta,
) -> QueryResult<Option<BatchRow>> {
    let now = super::now();
    let candidates: Vec<String> = batches::table
        .filter(batches::status.eq(BatchStatus::Processing))
        .filter(
            batches::locked_until
                .is_null()
                .or(batches::locked_until.lt(now)),
        )
        .order(batches::created_at.asc())
        .select(batches::id)
        .limit(5)
        .load(conn)?;
    for id in candidates {
        let claimed = diesel::update(
            batches::table
                .filter(batches::id.eq(&id))
                .filter(batches::status.eq(BatchStatus::Processing))
                .filter(
                    batches::locked_until
                        .is_null()
                        .or(batches::locked_until.lt(now)),
                ),
        )
        .set((
            batches::locked_by.eq(worker),
            batches::locked_until.eq(now + lease),
        ))
        .execute(conn)?;
        if claimed == 1 {
            return batches::table
                .find(&id)
                .select(BatchRow::as_select())
                .first(conn)
                .optional();
        }
    }
    Ok(None)
}

/// Extends the lease while a worker still holds it; `false` when it was lost.
pub fn renew_lease(
    conn: &mut AnyConnection,
    batch_id: &str,
    worker: &str,
    lease: chrono::TimeDelta,
) -> QueryResult<bool> {
    diesel::update(
        batches::table
            .filter(batches::id.eq(batch_id))
            .filter(batches::locked_by.eq(worker))
            .filter(batches::status.eq(BatchStatus::Processing)),
    )
    .set(batches::locked_until.eq(super::now() + lease))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn find(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<BatchRow> {
    batches::table
        .find(batch_id)
        .select(BatchRow::as_select())
        .first(conn)
}

/// Today's real-time API batch with exactly these terms, for single-lead posts.
pub fn find_realtime(
    conn: &mut AnyConnection,
    template: &BatchRow,
    since: NaiveDateTime,
) -> QueryResult<Option<BatchRow>> {
    let mut q = batches::table
        .filter(batches::agency_id.eq(&template.agency_id))
        .filter(batches::source.eq("api-realtime"))
        .filter(batches::kind.eq(template.kind))
        .filter(batches::price_cents.eq(template.price_cents))
        .filter(batches::max_sales.eq(template.max_sales))
        .filter(batches::billing.eq(&template.billing))
        .filter(batches::consent_text.eq(&template.consent_text))
        .filter(batches::created_at.ge(since))
        .into_boxed();
    q = match &template.order_id {
        Some(o) => q.filter(batches::order_id.eq(o)),
        None => q.filter(batches::order_id.is_null()),
    };
    q = match &template.segment {
        Some(s) => q.filter(batches::segment.eq(s)),
        None => q.filter(batches::segment.is_null()),
    };
    q = match &template.channel {
        Some(c) => q.filter(batches::channel.eq(c)),
        None => q.filter(batches::channel.is_null()),
    };
    q = match template.action_price_cents {
        Some(a) => q.filter(batches::action_price_cents.eq(a)),
        None => q.filter(batches::action_price_cents.is_null()),
    };
    q.select(BatchRow::as_select()).first(conn).optional()
}

pub fn set_file_size(conn: &mut AnyConnection, batch_id: &str, size: i64) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set(batches::file_size.eq(size))
        .execute(conn)
}

/// Marks a batch as held by `worker` (the CLI importing it itself).
pub fn hold(
    conn: &mut AnyConnection,
    batch_id: &str,
    worker: &str,
    lease: chrono::TimeDelta,
) -> QueryResult<usize> {
    diesel::update(batches::table.find(batch_id))
        .set((
            batches::locked_by.eq(worker),
            batches::locked_until.eq(super::now() + lease),
        ))
        .execute(conn)
}

pub fn list_for_agency(
    conn: &mut AnyConnection,
    agency_id: &str,
    limit: i64,
) -> QueryResult<Vec<BatchRow>> {
    recent_for_agency(conn, agency_id, limit)
}
