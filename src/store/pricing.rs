//! Price rules and the daily repricing of open leads' stored list prices.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{batches, leads, price_rules, pricing_state};

use super::purchases::{SaleFacts, sale_facts_columns};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::market::PriceRuleKind;

pub fn price_rules(conn: &mut AnyConnection) -> QueryResult<Vec<(PriceRuleKind, String, i64)>> {
    let rows: Vec<(PriceRuleKind, String, i32)> = price_rules::table
        .select((
            price_rules::kind,
            price_rules::match_value,
            price_rules::factor_bp,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(k, v, b)| (k, v, i64::from(b)))
        .collect())
}

/// Sets one price rule (insert or update).
pub fn set_price_rule(
    conn: &mut AnyConnection,
    kind: PriceRuleKind,
    match_value: &str,
    factor_bp: i32,
) -> QueryResult<usize> {
    let updated = diesel::update(price_rules::table.find((kind, match_value)))
        .set(price_rules::factor_bp.eq(factor_bp))
        .execute(conn)?;
    if updated == 1 {
        return Ok(1);
    }
    diesel::insert_into(price_rules::table)
        .values((
            price_rules::kind.eq(kind),
            price_rules::match_value.eq(match_value),
            price_rules::factor_bp.eq(factor_bp),
        ))
        .execute(conn)
}

pub fn delete_price_rule(
    conn: &mut AnyConnection,
    kind: PriceRuleKind,
    match_value: &str,
) -> QueryResult<usize> {
    diesel::delete(price_rules::table.find((kind, match_value))).execute(conn)
}

/// Up to `limit` open consumer leads after `after_id` (id order), with their stored list
/// price: one step of repricing.
pub fn chunk(
    conn: &mut AnyConnection,
    after_id: &str,
    limit: i64,
) -> QueryResult<Vec<(SaleFacts, i64)>> {
    leads::table
        .inner_join(batches::table)
        .filter(leads::kind.eq(LeadKind::Consumer))
        .filter(leads::status.eq(LeadStatus::Available))
        .filter(leads::sales_count.lt(leads::max_sales))
        .filter(leads::id.gt(after_id))
        .order(leads::id.asc())
        .limit(limit)
        .select((sale_facts_columns!(), leads::list_price_cents))
        .load(conn)
}

/// Sets one list price on many leads (repricing groups leads by their new price).
pub fn set_list_prices(
    conn: &mut AnyConnection,
    list_price_cents: i64,
    lead_ids: &[String],
) -> QueryResult<usize> {
    let mut n = 0;
    // SQLite binds each id; stay well under its limit of variables.
    for ids in lead_ids.chunks(10_000) {
        n += diesel::update(leads::table.filter(leads::id.eq_any(ids)))
            .set(leads::list_price_cents.eq(list_price_cents))
            .execute(conn)?;
    }
    Ok(n)
}

/// Claims today's repricing: true for the one process that moves `priced_on` to `today`.
pub fn claim_repricing(conn: &mut AnyConnection, today: chrono::NaiveDate) -> QueryResult<bool> {
    Ok(diesel::update(
        pricing_state::table
            .filter(pricing_state::id.eq(1))
            .filter(pricing_state::priced_on.lt(today)),
    )
    .set(pricing_state::priced_on.eq(today))
    .execute(conn)?
        == 1)
}

pub fn set_priced_on(conn: &mut AnyConnection, day: chrono::NaiveDate) -> QueryResult<()> {
    diesel::update(pricing_state::table.filter(pricing_state::id.eq(1)))
        .set(pricing_state::priced_on.eq(day))
        .execute(conn)
        .map(drop)
}
