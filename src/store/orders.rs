//! Buyer orders that targeted batches are uploaded against (minimal until standing
//! orders arrive).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::orders;
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
}

pub fn insert(conn: &mut AnyConnection, row: &OrderRow) -> QueryResult<usize> {
    diesel::insert_into(orders::table).values(row).execute(conn)
}

pub fn find_open(conn: &mut AnyConnection, order_id: &str) -> QueryResult<Option<OrderRow>> {
    orders::table
        .filter(orders::id.eq(order_id))
        .filter(orders::status.eq(OrderStatus::Open))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}
