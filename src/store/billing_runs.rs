//! Billing runs: one claim per period, so two processes never bill the same period.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::billing_runs;

/// Claims `period` for a billing run: false while another run holds it. A claim older
/// than `stale_before` is taken over (its process died mid-run). Commits on its own, so
/// other processes see the claim while the run works in many transactions.
pub fn claim(
    conn: &mut AnyConnection,
    period: &str,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        // PostgreSQL re-checks this WHERE after waiting for a concurrent claimer's row
        // lock, so of two runs only one sees the row free.
        let retaken = diesel::update(
            billing_runs::table.find(period).filter(
                billing_runs::finished_at
                    .is_not_null()
                    .or(billing_runs::started_at.lt(stale_before)),
            ),
        )
        .set((
            billing_runs::started_at.eq(now),
            billing_runs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        if retaken == 1 {
            return Ok(true);
        }
        let exists = billing_runs::table
            .find(period)
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if exists {
            return Ok(false);
        }
        super::insert_unless_taken(conn, |c| {
            diesel::insert_into(billing_runs::table)
                .values((
                    billing_runs::period.eq(period),
                    billing_runs::started_at.eq(now),
                    billing_runs::finished_at.eq(None::<NaiveDateTime>),
                ))
                .execute(c)
        })
    })
}

pub fn finish(conn: &mut AnyConnection, period: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(billing_runs::table.find(period))
        .set(billing_runs::finished_at.eq(now))
        .execute(conn)
        .map(drop)
}
