//! Unapplied payments: money received that matched no invoice, until it is applied or
//! refunded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::unapplied_payments;
use crate::domain::ledger::UnappliedStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unapplied_payments)]
pub struct UnappliedRow {
    pub id: String,
    pub buyer_id: String,
    pub method: String,
    pub amount_cents: i64,
    pub applied_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: String,
    pub reason: String,
    pub status: UnappliedStatus,
    pub transaction_id: String,
    pub refund_transaction_id: Option<String>,
    pub settled_by: Option<String>,
    pub settled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl UnappliedRow {
    /// What is still to apply or refund.
    pub fn left_cents(&self) -> i64 {
        if self.status == UnappliedStatus::Unapplied {
            self.amount_cents - self.applied_cents
        } else {
            0
        }
    }
}

pub fn insert(conn: &mut AnyConnection, row: &UnappliedRow) -> QueryResult<()> {
    diesel::insert_into(unapplied_payments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<UnappliedRow> {
    unapplied_payments::table
        .find(id)
        .select(UnappliedRow::as_select())
        .first(conn)
}

/// Unapplied payments, newest first; `only_open` keeps those with something left.
pub fn list(conn: &mut AnyConnection, only_open: bool) -> QueryResult<Vec<UnappliedRow>> {
    let mut q = unapplied_payments::table.into_boxed();
    if only_open {
        q = q.filter(unapplied_payments::status.eq(UnappliedStatus::Unapplied));
    }
    q.order((
        unapplied_payments::created_at.desc(),
        unapplied_payments::id.desc(),
    ))
    .select(UnappliedRow::as_select())
    .load(conn)
}

/// Takes `amount` of what is left (false when less is left: someone applied or refunded
/// it first); the row turns `applied` once nothing is left.
pub fn take(
    conn: &mut AnyConnection,
    id: &str,
    amount: i64,
    by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        unapplied_payments::table
            .find(id)
            .filter(unapplied_payments::status.eq(UnappliedStatus::Unapplied))
            .filter(
                (unapplied_payments::applied_cents + amount).le(unapplied_payments::amount_cents),
            ),
    )
    .set((
        unapplied_payments::applied_cents.eq(unapplied_payments::applied_cents + amount),
        unapplied_payments::settled_by.eq(by),
        unapplied_payments::settled_at.eq(now),
    ))
    .execute(conn)?
        == 1;
    if taken {
        diesel::update(
            unapplied_payments::table
                .find(id)
                .filter(unapplied_payments::applied_cents.eq(unapplied_payments::amount_cents)),
        )
        .set(unapplied_payments::status.eq(UnappliedStatus::Applied))
        .execute(conn)?;
    }
    Ok(taken)
}

/// Marks what is left refunded (false when nothing was left to refund).
pub fn mark_refunded(
    conn: &mut AnyConnection,
    id: &str,
    refund_transaction_id: &str,
    by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(diesel::update(
        unapplied_payments::table
            .find(id)
            .filter(unapplied_payments::status.eq(UnappliedStatus::Unapplied)),
    )
    .set((
        unapplied_payments::status.eq(UnappliedStatus::Refunded),
        unapplied_payments::refund_transaction_id.eq(refund_transaction_id),
        unapplied_payments::settled_by.eq(by),
        unapplied_payments::settled_at.eq(now),
    ))
    .execute(conn)?
        == 1)
}
