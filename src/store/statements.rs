//! Agency statements: what the platform owes each agency for a period, and its payout.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{actions, purchases, statements};
use crate::domain::ledger::StatementStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statements)]
pub struct StatementRow {
    pub id: String,
    pub agency_id: String,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub gross_cents: i64,
    pub commission_cents: i64,
    pub returns_cents: i64,
    pub net_cents: i64,
    pub status: StatementStatus,
    pub paid_on: Option<NaiveDateTime>,
    pub paid_reference: Option<String>,
    pub payout_transaction_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &StatementRow) -> QueryResult<()> {
    diesel::insert_into(statements::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn update_totals(conn: &mut AnyConnection, row: &StatementRow) -> QueryResult<()> {
    diesel::update(statements::table.find(&row.id))
        .set((
            statements::gross_cents.eq(row.gross_cents),
            statements::commission_cents.eq(row.commission_cents),
            statements::returns_cents.eq(row.returns_cents),
            statements::net_cents.eq(row.net_cents),
        ))
        .execute(conn)
        .map(drop)
}

/// Drops a statement that claimed nothing (a run found the agency's entries billed by then).
pub fn delete(conn: &mut AnyConnection, id: &str) -> QueryResult<()> {
    diesel::delete(statements::table.find(id))
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<StatementRow> {
    statements::table
        .find(id)
        .select(StatementRow::as_select())
        .first(conn)
}

/// An agency's statements of the period starting at `period_start`.
pub fn for_period(
    conn: &mut AnyConnection,
    agency_id: &str,
    period_start: NaiveDateTime,
) -> QueryResult<Vec<StatementRow>> {
    statements::table
        .filter(statements::agency_id.eq(agency_id))
        .filter(statements::period_start.eq(period_start))
        .select(StatementRow::as_select())
        .load(conn)
}

pub fn list(
    conn: &mut AnyConnection,
    agency_id: Option<&str>,
    only_open: bool,
) -> QueryResult<Vec<StatementRow>> {
    let mut q = statements::table.into_boxed();
    if let Some(a) = agency_id {
        q = q.filter(statements::agency_id.eq(a.to_string()));
    }
    if only_open {
        q = q.filter(statements::status.eq(StatementStatus::Open));
    }
    q.order((
        statements::period_start.desc(),
        statements::created_at.desc(),
    ))
    .select(StatementRow::as_select())
    .load(conn)
}

/// Marks a statement paid: false when it was paid already.
pub fn mark_paid(
    conn: &mut AnyConnection,
    id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
    transaction_id: &str,
) -> QueryResult<bool> {
    Ok(diesel::update(
        statements::table
            .find(id)
            .filter(statements::status.eq(StatementStatus::Open)),
    )
    .set((
        statements::status.eq(StatementStatus::Paid),
        statements::paid_on.eq(paid_on),
        statements::paid_reference.eq(reference),
        statements::payout_transaction_id.eq(transaction_id),
    ))
    .execute(conn)?
        == 1)
}

/// (gross, commission) of an agency's sales and actions in these transactions.
pub fn agency_gross(
    conn: &mut AnyConnection,
    agency_id: &str,
    transaction_ids: &[String],
) -> QueryResult<(i64, i64)> {
    let (mut gross, mut commission) = (0, 0);
    for ids in transaction_ids.chunks(5000) {
        let sold: Vec<(i64, i64)> = purchases::table
            .filter(purchases::agency_id.eq(agency_id))
            .filter(purchases::transaction_id.eq_any(ids))
            .select((purchases::price_cents, purchases::commission_cents))
            .load(conn)?;
        let acted: Vec<(i64, i64)> = actions::table
            .filter(actions::agency_id.eq(agency_id))
            .filter(actions::transaction_id.eq_any(ids))
            .select((actions::price_cents, actions::commission_cents))
            .load(conn)?;
        for (p, c) in sold.into_iter().chain(acted) {
            gross += p;
            commission += c;
        }
    }
    Ok((gross, commission))
}
