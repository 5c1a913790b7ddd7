//! Standing orders (issue 20): a buyer's saved criteria, their counters (today's count
//! against the daily cap, the spend against the budget) and their signing secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::standing_orders;

/// One stored order. `secret` never leaves the services for a page or a body except
/// once, when it is made or rotated.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = standing_orders)]
#[diesel(treat_none_as_default_value = false)]
pub struct StandingOrderRow {
    pub id: String,
    pub buyer_id: String,
    pub name: String,
    /// The catalogue filter as a query string (`domain::catalogue` parses it).
    pub filter_query: String,
    /// Copied from the filter for the allocation's index (NULL: any).
    pub segment: Option<String>,
    pub country: Option<String>,
    pub max_price_cents: i64,
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    pub cap_day: Option<String>,
    pub today_count: i32,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub secret: String,
    pub active: bool,
    pub active_from_minute: Option<i32>,
    pub active_to_minute: Option<i32>,
    pub last_allocated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl StandingOrderRow {
    /// The counters as the domain's rules read them.
    pub fn allowance(&self) -> crate::domain::standing_order::Allowance<'_> {
        crate::domain::standing_order::Allowance {
            daily_cap: self.daily_cap,
            budget_cents: self.budget_cents,
            spent_cents: self.spent_cents,
            cap_day: self.cap_day.as_deref(),
            today_count: self.today_count,
        }
    }

    pub fn active_hours(&self) -> Option<crate::domain::standing_order::ActiveHours> {
        crate::domain::standing_order::ActiveHours::from_stored(
            self.active_from_minute,
            self.active_to_minute,
        )
    }
}

use crate::db::AnyConnection;
use crate::db::schema::purchases;

/// What an order's owner may change; the counters and the secret change elsewhere.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = standing_orders)]
#[diesel(treat_none_as_null = true)]
pub struct OrderChanges<'a> {
    pub name: &'a str,
    pub filter_query: &'a str,
    pub segment: Option<&'a str>,
    pub country: Option<&'a str>,
    pub max_price_cents: i64,
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub deliver_email: Option<&'a str>,
    pub callback_url: Option<&'a str>,
    pub active: bool,
    pub active_from_minute: Option<i32>,
    pub active_to_minute: Option<i32>,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &StandingOrderRow) -> QueryResult<usize> {
    diesel::insert_into(standing_orders::table)
        .values(row)
        .execute(conn)
}

/// A buyer's order that was not deleted; another buyer's id is `NotFound`.
pub fn find_for_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
) -> QueryResult<StandingOrderRow> {
    standing_orders::table
        .filter(standing_orders::id.eq(id))
        .filter(standing_orders::buyer_id.eq(buyer_id))
        .filter(standing_orders::deleted_at.is_null())
        .select(StandingOrderRow::as_select())
        .get_result(conn)
}

/// Any order by id, deleted or not (the demo's inbox checks signatures with it).
pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<StandingOrderRow> {
    standing_orders::table
        .find(id)
        .select(StandingOrderRow::as_select())
        .get_result(conn)
}

/// A buyer's orders that were not deleted, newest first.
pub fn list_for_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
) -> QueryResult<Vec<StandingOrderRow>> {
    standing_orders::table
        .filter(standing_orders::buyer_id.eq(buyer_id))
        .filter(standing_orders::deleted_at.is_null())
        .select(StandingOrderRow::as_select())
        .order(standing_orders::id.desc())
        .load(conn)
}

/// `false` when no such order of this buyer is left.
pub fn update(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    changes: &OrderChanges<'_>,
) -> QueryResult<bool> {
    let n = diesel::update(
        standing_orders::table
            .filter(standing_orders::id.eq(id))
            .filter(standing_orders::buyer_id.eq(buyer_id))
            .filter(standing_orders::deleted_at.is_null()),
    )
    .set(changes)
    .execute(conn)?;
    Ok(n == 1)
}

/// Soft delete: the row stays for its purchases and deliveries, inactive.
pub fn delete(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        standing_orders::table
            .filter(standing_orders::id.eq(id))
            .filter(standing_orders::buyer_id.eq(buyer_id))
            .filter(standing_orders::deleted_at.is_null()),
    )
    .set((
        standing_orders::deleted_at.eq(Some(now)),
        standing_orders::active.eq(false),
        standing_orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_active(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    active: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        standing_orders::table
            .filter(standing_orders::id.eq(id))
            .filter(standing_orders::buyer_id.eq(buyer_id))
            .filter(standing_orders::deleted_at.is_null()),
    )
    .set((
        standing_orders::active.eq(active),
        standing_orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_secret(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    secret: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        standing_orders::table
            .filter(standing_orders::id.eq(id))
            .filter(standing_orders::buyer_id.eq(buyer_id))
            .filter(standing_orders::deleted_at.is_null()),
    )
    .set((
        standing_orders::secret.eq(secret),
        standing_orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Purchases an order made in `[from, to)` (UTC): its count for a local day.
pub fn purchases_between(
    conn: &mut AnyConnection,
    order_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    purchases::table
        .filter(purchases::standing_order_id.eq(order_id))
        .filter(purchases::created_at.ge(from))
        .filter(purchases::created_at.lt(to))
        .count()
        .get_result(conn)
}

/// What an order has spent over its life, from its purchases.
pub fn spent_cents(conn: &mut AnyConnection, order_id: &str) -> QueryResult<i64> {
    // Cast: diesel types a SUM of BIGINT as NUMERIC, which `AnyConnection` cannot read.
    let sum: Option<i64> = purchases::table
        .filter(purchases::standing_order_id.eq(order_id))
        .select(crate::db::fixed::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("CAST(SUM(purchases.price_cents) AS BIGINT)"))
        .get_result(conn)?;
    Ok(sum.unwrap_or(0))
}
