//! The funnel's rollup (`funnel_counts`, one row per batch and lead segment, channel and
//! warmth, kept by the job loop) and the reads behind the funnel, buyers' outcomes and
//! the platform's daily figures. Sums are cast to BIGINT: PostgreSQL sums into NUMERIC.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::AnyConnection;
use crate::db::schema::{actions, batches, funnel_counts, funnel_refresh, leads, purchases};
use crate::domain::funnel::CountRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = funnel_counts)]
pub struct FunnelCountRow {
    pub batch_id: String,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub qualified: i64,
    pub sold: i64,
    pub converted: i64,
}

impl From<FunnelCountRow> for CountRow {
    fn from(r: FunnelCountRow) -> Self {
        CountRow {
            batch_id: r.batch_id,
            segment: r.segment,
            channel: r.channel,
            warmth: r.warmth,
            qualified: r.qualified,
            sold: r.sold,
            converted: r.converted,
        }
    }
}

/// Takes the refresh lease when no live process holds it; returns how far the rollup was
/// refreshed (`None` inside: never, so every batch is counted).
pub fn claim_refresh(
    conn: &mut AnyConnection,
    worker: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
) -> QueryResult<Option<Option<NaiveDateTime>>> {
    let taken = diesel::update(funnel_refresh::table.find(1))
        .filter(
            funnel_refresh::locked_until
                .is_null()
                .or(funnel_refresh::locked_until.lt(now)),
        )
        .set((
            funnel_refresh::locked_by.eq(worker),
            funnel_refresh::locked_until.eq(now + lease),
        ))
        .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    funnel_refresh::table
        .find(1)
        .select(funnel_refresh::refreshed_to)
        .first(conn)
        .map(Some)
}

/// Records how far the rollup is refreshed and frees the lease (if still ours).
pub fn finish_refresh(
    conn: &mut AnyConnection,
    worker: &str,
    refreshed_to: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(funnel_refresh::table.find(1))
        .filter(funnel_refresh::locked_by.eq(worker))
        .set((
            funnel_refresh::refreshed_to.eq(refreshed_to),
            funnel_refresh::locked_by.eq(None::<String>),
            funnel_refresh::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// Batches whose rollup may have changed since `since`: still processing, finished, or
/// with a lead sold or acted on since. All batches when `since` is `None`.
pub fn changed_batches(
    conn: &mut AnyConnection,
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<String>> {
    let Some(since) = since else {
        return batches::table.select(batches::id).load(conn);
    };
    let mut ids: Vec<String> = batches::table
        .filter(
            batches::status
                .eq(crate::domain::intake::BatchStatus::Processing)
                .or(batches::finished_at.ge(since)),
        )
        .select(batches::id)
        .load(conn)?;
    // Per agency, so `purchases_agency_idx (agency_id, created_at)` serves the range.
    for (agency, _) in &super::organisations::agencies(conn)? {
        ids.extend(
            purchases::table
                .inner_join(leads::table)
                .filter(purchases::agency_id.eq(agency))
                .filter(purchases::created_at.ge(since))
                .select(leads::batch_id)
                .distinct()
                .load::<String>(conn)?,
        );
    }
    ids.extend(
        actions::table
            .inner_join(leads::table.on(leads::id.eq(actions::lead_id)))
            .filter(actions::created_at.ge(since))
            .select(leads::batch_id)
            .distinct()
            .load::<String>(conn)?,
    );
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// One batch's rollup rows, counted from its leads now.
pub fn count_batch(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<Vec<FunnelCountRow>> {
    let rows: Vec<(String, String, String, i64, i64, i64)> = leads::table
        .filter(leads::batch_id.eq(batch_id))
        .group_by((leads::segment, leads::channel, leads::warmth))
        .select((
            leads::segment,
            leads::channel,
            leads::warmth,
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM purchases p \
                 WHERE p.lead_id = leads.id) THEN 1 ELSE 0 END) AS BIGINT)",
            ),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM actions a \
                 WHERE a.lead_id = leads.id) THEN 1 ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(segment, channel, warmth, qualified, sold, converted)| FunnelCountRow {
                batch_id: batch_id.to_string(),
                segment,
                channel,
                warmth,
                qualified,
                sold,
                converted,
            },
        )
        .collect())
}

/// Replaces a batch's rollup rows.
pub fn replace_counts(
    conn: &mut AnyConnection,
    batch_id: &str,
    rows: &[FunnelCountRow],
) -> QueryResult<usize> {
    diesel::delete(funnel_counts::table.filter(funnel_counts::batch_id.eq(batch_id)))
        .execute(conn)?;
    let mut n = 0;
    // Well under both backends' bind limits (7 values a row).
    for chunk in rows.chunks(500) {
        n += crate::insert_many!(conn, funnel_counts::table, chunk)?;
    }
    Ok(n)
}

/// How far the rollup has taken in sales and actions.
pub fn refreshed_to(conn: &mut AnyConnection) -> QueryResult<Option<NaiveDateTime>> {
    Ok(funnel_refresh::table
        .find(1)
        .select(funnel_refresh::refreshed_to)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// What the funnel needs of a batch.
#[derive(Debug, Clone, Queryable)]
pub struct BatchLine {
    pub id: String,
    pub agency_id: String,
    pub created_at: NaiveDateTime,
    pub filename: Option<String>,
    pub source: String,
    pub traffic: Option<i64>,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub suppressed: i32,
}

impl BatchLine {
    pub fn received(&self) -> i64 {
        i64::from(self.accepted + self.rejected + self.duplicates + self.suppressed)
    }
}

/// The batches uploaded in `[start, end)`, of one agency or of all of them.
pub fn batches_in(
    conn: &mut AnyConnection,
    agency: Option<&str>,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<BatchLine>> {
    let mut q = batches::table
        .filter(batches::created_at.ge(start))
        .filter(batches::created_at.lt(end))
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(batches::agency_id.eq(a));
    }
    q.order((batches::created_at, batches::id))
        .select((
            batches::id,
            batches::agency_id,
            batches::created_at,
            batches::filename,
            batches::source,
            batches::traffic,
            batches::accepted,
            batches::rejected,
            batches::duplicates,
            batches::suppressed,
        ))
        .load(conn)
}

/// The rollup rows of the same batches.
pub fn counts_in(
    conn: &mut AnyConnection,
    agency: Option<&str>,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<CountRow>> {
    let mut q = funnel_counts::table
        .inner_join(batches::table)
        .filter(batches::created_at.ge(start))
        .filter(batches::created_at.lt(end))
        .into_boxed();
    if let Some(a) = agency {
        q = q.filter(batches::agency_id.eq(a));
    }
    Ok(q.select(FunnelCountRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CountRow::from)
        .collect())
}

/// A buyer's purchases of one agency and segment in a range, with what followed them.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct OutcomeRow {
    pub agency_id: String,
    pub segment: String,
    pub bought: i64,
    pub lead_spend_cents: i64,
    pub actions: i64,
    pub action_spend_cents: i64,
    pub disputes: i64,
    pub returns: i64,
}

/// The buyer's purchases made in `[start, end)`, by agency and segment. Actions and
/// disputes count against the purchase they follow, whenever they came.
pub fn buyer_outcomes(
    conn: &mut AnyConnection,
    buyer_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<OutcomeRow>> {
    purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::created_at.ge(start))
        .filter(purchases::created_at.lt(end))
        .group_by((purchases::agency_id, leads::segment))
        .select((
            purchases::agency_id,
            leads::segment,
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(purchases.price_cents) AS BIGINT)"),
            sql::<BigInt>(
                "CAST(SUM((SELECT COUNT(*) FROM actions a \
                 WHERE a.purchase_id = purchases.id)) AS BIGINT)",
            ),
            sql::<BigInt>(
                "CAST(SUM((SELECT COALESCE(SUM(a.price_cents), 0) FROM actions a \
                 WHERE a.purchase_id = purchases.id)) AS BIGINT)",
            ),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM disputes d \
                 WHERE d.purchase_id = purchases.id) THEN 1 ELSE 0 END) AS BIGINT)",
            ),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM disputes d \
                 WHERE d.purchase_id = purchases.id AND d.status = 'approved') \
                 THEN 1 ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load(conn)
}

/// The marketplace's sales of one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct DayRow {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub sales: i64,
    pub gross_cents: i64,
    pub commission_cents: i64,
    pub returns: i64,
}

/// Sales per day in `[start, end)`: count, gross, the platform's commission, and how many
/// of that day's sales were returned (an approved dispute).
pub fn platform_days(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<DayRow>> {
    purchases::table
        .filter(purchases::created_at.ge(start))
        .filter(purchases::created_at.lt(end))
        .group_by(sql::<Text>("CAST(date(purchases.created_at) AS TEXT)"))
        .select((
            sql::<Text>("CAST(date(purchases.created_at) AS TEXT)"),
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(purchases.price_cents) AS BIGINT)"),
            sql::<BigInt>("CAST(SUM(purchases.commission_cents) AS BIGINT)"),
            sql::<BigInt>(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM disputes d \
                 WHERE d.purchase_id = purchases.id AND d.status = 'approved') \
                 THEN 1 ELSE 0 END) AS BIGINT)",
            ),
        ))
        .load(conn)
}

/// Commission on actions charged per day in `[start, end)` (`YYYY-MM-DD`, cents).
pub fn action_commission_days(
    conn: &mut AnyConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    actions::table
        .filter(actions::created_at.ge(start))
        .filter(actions::created_at.lt(end))
        .group_by(sql::<Text>("CAST(date(actions.created_at) AS TEXT)"))
        .select((
            sql::<Text>("CAST(date(actions.created_at) AS TEXT)"),
            sql::<BigInt>("CAST(SUM(actions.commission_cents) AS BIGINT)"),
        ))
        .load(conn)
}
