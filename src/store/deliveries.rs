//! Deliveries of standing orders' purchases: an outbox written in the purchase's
//! transaction (one row per purchase and channel) and worked after commit.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{deliveries, standing_orders};
use crate::domain::standing_order::{DeliveryChannel, DeliveryEvent, DeliveryStatus};

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
    /// When a buyer last chose "retry now": the day of retries counts from then.
    pub retrying_since: Option<NaiveDateTime>,
    /// What the delivery tells: the lead, or that it was erased.
    pub event: DeliveryEvent,
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
            retrying_since: None,
            event: DeliveryEvent::Delivered,
        }
    }

    /// A `lead.erased` callback to make now (inside the erasure's transaction).
    pub fn erased(
        order_id: &str,
        purchase_id: &str,
        lead_id: &str,
        buyer_id: &str,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            event: DeliveryEvent::Erased,
            ..Self::pending(
                order_id,
                purchase_id,
                lead_id,
                buyer_id,
                DeliveryChannel::Callback,
                now,
            )
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

/// Claims up to `limit` deliveries due at `now` for one worker: pending or failed, due,
/// and not leased (a lease that ran out is free again: its worker died or hung). The
/// claim is its own short transaction that leases the rows until `now + lease`; on
/// PostgreSQL the rows are taken `FOR UPDATE SKIP LOCKED`, so concurrent workers get
/// different rows without waiting for each other.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease: TimeDelta,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    crate::db::write_transaction(conn, |conn| {
        let q = deliveries::table
            .filter(deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Failed]))
            .filter(deliveries::next_attempt_at.le(now))
            .filter(
                deliveries::locked_until
                    .is_null()
                    .or(deliveries::locked_until.lt(now)),
            )
            .order(deliveries::next_attempt_at.asc())
            .limit(limit)
            .select(DeliveryRow::as_select());
        let mut rows: Vec<DeliveryRow> = crate::db::load_claimed(conn, q, crate::db::Held::Skip)?;
        if rows.is_empty() {
            return Ok(rows);
        }
        let until = now + lease;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(ids)))
            .set(deliveries::locked_until.eq(until))
            .execute(conn)?;
        for row in &mut rows {
            row.locked_until = Some(until);
        }
        Ok(rows)
    })
}

/// Records a delivery that went through. `false` when it was no longer waiting (a
/// worker whose lease ran out finished it first): nothing changes then.
pub fn mark_delivered(
    conn: &mut AnyConnection,
    id: &str,
    status_code: Option<i32>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        deliveries::table
            .find(id)
            .filter(deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Failed])),
    )
    .set((
        deliveries::status.eq(DeliveryStatus::Delivered),
        deliveries::attempts.eq(deliveries::attempts + 1),
        deliveries::last_status_code.eq(status_code),
        deliveries::last_error.eq(None::<String>),
        deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
        deliveries::locked_until.eq(None::<NaiveDateTime>),
        deliveries::delivered_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Most characters of an answer or error kept with a failed delivery.
pub const EXCERPT_CHARS: usize = 200;

/// Records a failed try: tried again at `retry_at`, or dead (`None`). `error` is cut
/// to [`EXCERPT_CHARS`]. `false` when the delivery was no longer waiting.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    status_code: Option<i32>,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let excerpt: String = error.chars().take(EXCERPT_CHARS).collect();
    let n = diesel::update(
        deliveries::table
            .find(id)
            .filter(deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Failed])),
    )
    .set((
        deliveries::status.eq(if retry_at.is_some() {
            DeliveryStatus::Failed
        } else {
            DeliveryStatus::Dead
        }),
        deliveries::attempts.eq(deliveries::attempts + 1),
        deliveries::last_status_code.eq(status_code),
        deliveries::last_error.eq(excerpt),
        deliveries::next_attempt_at.eq(retry_at),
        deliveries::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// One delivery of one of `buyer_id`'s live orders, or `None` (not there, or not theirs).
pub fn find_for_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    id: &str,
) -> QueryResult<Option<DeliveryRow>> {
    deliveries::table
        .find(id)
        .filter(deliveries::order_id.eq(order_id))
        .filter(deliveries::buyer_id.eq(buyer_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// Whether `order_id` is a live (not deleted) standing order of `buyer_id`.
pub fn order_is_buyers(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        standing_orders::table
            .find(order_id)
            .filter(standing_orders::buyer_id.eq(buyer_id))
            .filter(standing_orders::deleted_at.is_null()),
    ))
    .get_result(conn)
}

/// "Retry now": a dead delivery waits again, due at `now`, its attempts kept, with a new
/// day of retries from `now`. `false` when it is not dead (any more).
pub fn retry_now(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        deliveries::table
            .find(id)
            .filter(deliveries::status.eq(DeliveryStatus::Dead)),
    )
    .set((
        deliveries::status.eq(DeliveryStatus::Pending),
        deliveries::next_attempt_at.eq(now),
        deliveries::locked_until.eq(None::<NaiveDateTime>),
        deliveries::retrying_since.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Where the standing order sends its leads, as a delivery needs it.
#[derive(Debug, Clone, Queryable)]
pub struct Destination {
    pub order_name: String,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub secret: String,
}

pub fn destination(conn: &mut AnyConnection, order_id: &str) -> QueryResult<Destination> {
    standing_orders::table
        .find(order_id)
        .select((
            standing_orders::name,
            standing_orders::deliver_email,
            standing_orders::callback_url,
            standing_orders::secret,
        ))
        .first(conn)
}
