//! Deliveries of standing orders' purchases: an outbox written in the purchase's
//! transaction (one row per purchase and channel) and worked after commit.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::deliveries;
use crate::domain::standing_order::{DeliveryChannel, DeliveryStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
#[diesel(treat_none_as_default_value = false)]
pub struct DeliveryRow {
    pub id: String,
    pub order_id: String,
    pub purchase_id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub channel: DeliveryChannel,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    /// A short excerpt of the last answer or error.
    pub last_error: Option<String>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

impl DeliveryRow {
    /// A delivery to make now (call inside the purchase's transaction).
    pub fn pending(
        order_id: &str,
        purchase_id: &str,
        lead_id: &str,
        buyer_id: &str,
        channel: DeliveryChannel,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: super::new_id(),
            order_id: order_id.to_string(),
            purchase_id: purchase_id.to_string(),
            lead_id: lead_id.to_string(),
            buyer_id: buyer_id.to_string(),
            channel,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_status_code: None,
            last_error: None,
            next_attempt_at: Some(now),
            locked_until: None,
            created_at: now,
            delivered_at: None,
        }
    }
}

/// Writes deliveries in the caller's (purchase) transaction.
pub fn enqueue(conn: &mut AnyConnection, rows: &[DeliveryRow]) -> QueryResult<usize> {
    let mut n = 0;
    for row in rows {
        n += diesel::insert_into(deliveries::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(n)
}

/// An order's newest deliveries first, for its page and the API (`before`: the id
/// of the last one seen, v7 ids being time-ordered).
pub fn recent_for_order(
    conn: &mut AnyConnection,
    order_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = deliveries::table
        .filter(deliveries::order_id.eq(order_id))
        .select(DeliveryRow::as_select())
        .order(deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(deliveries::id.lt(before));
    }
    q.load(conn)
}
