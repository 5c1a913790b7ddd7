//! Buyer credit: the limit a buyer may owe up to and what it owes now.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::buyer_accounts;

/// (credit limit, owed) of a buyer; a buyer without an account row has neither.
pub fn buyer_account(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<(i64, i64)> {
    Ok(buyer_accounts::table
        .find(buyer_id)
        .select((
            buyer_accounts::credit_limit_cents,
            buyer_accounts::owed_cents,
        ))
        .first(conn)
        .optional()?
        .unwrap_or((0, 0)))
}

/// What each of these buyers may still spend (limit minus owed); buyers without an
/// account row are absent (they may spend nothing).
pub fn available_of(
    conn: &mut AnyConnection,
    buyer_ids: &[&str],
) -> QueryResult<std::collections::HashMap<String, i64>> {
    if buyer_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, i64, i64)> = buyer_accounts::table
        .filter(crate::db::one_of(
            buyer_accounts::organisation_id,
            buyer_ids,
        ))
        .select((
            buyer_accounts::organisation_id,
            buyer_accounts::credit_limit_cents,
            buyer_accounts::owed_cents,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, limit, owed)| (id, limit - owed))
        .collect())
}

pub fn set_credit_limit(
    conn: &mut AnyConnection,
    buyer_id: &str,
    limit_cents: i64,
) -> QueryResult<usize> {
    let now = super::now();
    let updated = diesel::update(buyer_accounts::table.find(buyer_id))
        .set((
            buyer_accounts::credit_limit_cents.eq(limit_cents),
            buyer_accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 1 {
        return Ok(1);
    }
    diesel::insert_into(buyer_accounts::table)
        .values((
            buyer_accounts::organisation_id.eq(buyer_id),
            buyer_accounts::credit_limit_cents.eq(limit_cents),
            buyer_accounts::owed_cents.eq(0i64),
            buyer_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Adds to what a buyer owes only while it stays within the credit limit; `false` when
/// it would not (or the buyer has no credit at all). The guard in the WHERE clause makes
/// concurrent purchases of one buyer safe on both backends.
pub fn charge_within_limit(
    conn: &mut AnyConnection,
    buyer_id: &str,
    amount_cents: i64,
) -> QueryResult<bool> {
    ChargeWithinLimit {
        buyer_id,
        amount_cents,
        now: super::now(),
    }
    .execute(conn)
    .map(|n| n == 1)
}

/// Adds to what a buyer owes without the credit check (an action already happened).
pub fn add_owed(conn: &mut AnyConnection, buyer_id: &str, amount_cents: i64) -> QueryResult<()> {
    let n = diesel::update(buyer_accounts::table.find(buyer_id))
        .set(buyer_accounts::owed_cents.eq(buyer_accounts::owed_cents + amount_cents))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(buyer_accounts::table)
            .values((
                buyer_accounts::organisation_id.eq(buyer_id),
                buyer_accounts::credit_limit_cents.eq(0i64),
                buyer_accounts::owed_cents.eq(amount_cents),
                buyer_accounts::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// Diesel prepares an UPDATE afresh every time (a changeset's SQL may vary), so
// PostgreSQL would parse and plan this on every sale. Written as a fixed statement it
// is prepared once per connection (as `purchases::take_sale` is).

struct ChargeWithinLimit<'a> {
    buyer_id: &'a str,
    amount_cents: i64,
    now: NaiveDateTime,
}

impl QueryId for ChargeWithinLimit<'_> {
    type QueryId = ChargeWithinLimit<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for ChargeWithinLimit<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE buyer_accounts SET owed_cents = owed_cents + ");
        out.push_bind_param::<BigInt, i64>(&self.amount_cents)?;
        out.push_sql(", updated_at = ");
        out.push_bind_param::<Timestamp, NaiveDateTime>(&self.now)?;
        out.push_sql(" WHERE organisation_id = ");
        out.push_bind_param::<Text, str>(self.buyer_id)?;
        out.push_sql(" AND owed_cents + ");
        out.push_bind_param::<BigInt, i64>(&self.amount_cents)?;
        out.push_sql(" <= credit_limit_cents");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for ChargeWithinLimit<'_> {}
