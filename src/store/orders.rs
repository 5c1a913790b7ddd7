//! Targeted orders (issue 21): a buyer's order for leads captured for it (criteria as a
//! catalogue filter, quantity, price per lead, deadline) that agencies fill with
//! targeted batches; `delivered` counts the leads taken, moved by one checked UPDATE.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{orders, organisations};
use crate::domain::market::OrderStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
#[diesel(treat_none_as_default_value = false)]
pub struct OrderRow {
    pub id: String,
    pub buyer_id: String,
    pub name: String,
    pub segment: Option<String>,
    pub status: OrderStatus,
    pub created_at: NaiveDateTime,
    /// The criteria: a catalogue filter's query string (empty: any lead of the segment).
    pub filter_query: String,
    pub quantity: i32,
    pub delivered: i32,
    pub price_cents: i64,
    /// Past it the order is closed (NULL: none).
    pub deadline: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut AnyConnection, row: &OrderRow) -> QueryResult<usize> {
    diesel::insert_into(orders::table).values(row).execute(conn)
}

/// The order if it takes leads now: open and before its deadline.
pub fn find_open(conn: &mut AnyConnection, order_id: &str) -> QueryResult<Option<OrderRow>> {
    find_open_at(conn, order_id, crate::store::now())
}

pub fn find_open_at(
    conn: &mut AnyConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(order_id))
        .filter(orders::status.eq(OrderStatus::Open))
        .filter(orders::deadline.is_null().or(orders::deadline.gt(now)))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut AnyConnection, order_id: &str) -> QueryResult<Option<OrderRow>> {
    orders::table
        .find(order_id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_for_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(order_id))
        .filter(orders::buyer_id.eq(buyer_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

/// A buyer's orders, newest first.
pub fn list_for_buyer(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<Vec<OrderRow>> {
    orders::table
        .filter(orders::buyer_id.eq(buyer_id))
        .order(orders::created_at.desc())
        .select(OrderRow::as_select())
        .load(conn)
}

/// Every order that takes leads at `now`, soonest deadline first, with its buyer's name.
pub fn list_open(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(OrderRow, String)>> {
    orders::table
        .inner_join(organisations::table.on(organisations::id.eq(orders::buyer_id)))
        .filter(orders::status.eq(OrderStatus::Open))
        .filter(orders::deadline.is_null().or(orders::deadline.gt(now)))
        .filter(orders::delivered.lt(orders::quantity))
        .order((orders::deadline.asc(), orders::created_at.asc()))
        .select((OrderRow::as_select(), organisations::name))
        .load(conn)
}

/// Closes the buyer's open order: `false` when it is not theirs or not open.
pub fn close(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(orders::table.find(order_id))
        .filter(orders::buyer_id.eq(buyer_id))
        .filter(orders::status.eq(OrderStatus::Open))
        .set((
            orders::status.eq(OrderStatus::Closed),
            orders::closed_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Stores the close of every open order whose deadline has passed (at its deadline).
pub fn close_past_deadline(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(orders::table)
        .filter(orders::status.eq(OrderStatus::Open))
        .filter(orders::deadline.le(now))
        .set((
            orders::status.eq(OrderStatus::Closed),
            orders::closed_at.eq(orders::deadline),
        ))
        .execute(conn)
}

/// Counts one lead against the order, in the caller's transaction, only while it is
/// open, before its deadline and short of its quantity: `false` otherwise. Checked in
/// the UPDATE itself, so two batches cannot both take the last one.
pub fn take_slot(
    conn: &mut AnyConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(orders::table.find(order_id))
        .filter(orders::status.eq(OrderStatus::Open))
        .filter(orders::deadline.is_null().or(orders::deadline.gt(now)))
        .filter(orders::delivered.lt(orders::quantity))
        .set(orders::delivered.eq(orders::delivered + 1))
        .execute(conn)
        .map(|n| n == 1)
}
