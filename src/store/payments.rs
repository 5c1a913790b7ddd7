//! Payments applied to invoices.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::payments;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub invoice_id: String,
    pub buyer_id: String,
    pub method: String,
    pub amount_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: String,
    pub transaction_id: String,
    pub recorded_by: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<PaymentRow> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
}

pub fn list(
    conn: &mut AnyConnection,
    invoice_id: Option<&str>,
    buyer_id: Option<&str>,
) -> QueryResult<Vec<PaymentRow>> {
    let mut q = payments::table.into_boxed();
    if let Some(i) = invoice_id {
        q = q.filter(payments::invoice_id.eq(i.to_string()));
    }
    if let Some(b) = buyer_id {
        q = q.filter(payments::buyer_id.eq(b.to_string()));
    }
    q.order(payments::received_on.desc())
        .select(PaymentRow::as_select())
        .load(conn)
}
