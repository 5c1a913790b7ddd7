//! What the allocation of accepted leads to standing orders reads and writes: the active
//! orders and their counters, the facts of the leads it allocates, who
//! holds them already, and an order's counters moved by one checked UPDATE.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{batches, leads, organisations, purchases, standing_orders, suppressions};
use crate::domain::OrgStatus;
use crate::store::purchases::{SaleFacts, sale_facts_columns};
use crate::store::standing_orders::StandingOrderRow;

/// Whether any order could take a lead at all: the one query intake pays when no buyer
/// has an active order.
pub fn any_active(conn: &mut AnyConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        standing_orders::table
            .filter(standing_orders::active.eq(true))
            .filter(standing_orders::deleted_at.is_null()),
    ))
    .get_result(conn)
}

/// Every active order of an active buyer, with the buyer's time zone: what the order
/// book (`services::standing_orders::book`) keeps between its stamp's bumps.
pub fn active_orders(conn: &mut AnyConnection) -> QueryResult<Vec<(StandingOrderRow, String)>> {
    standing_orders::table
        .inner_join(organisations::table.on(organisations::id.eq(standing_orders::buyer_id)))
        .filter(standing_orders::active.eq(true))
        .filter(standing_orders::deleted_at.is_null())
        .filter(organisations::status.eq(OrgStatus::Active))
        .select((StandingOrderRow::as_select(), organisations::time_zone))
        .load(conn)
}

/// What sales and offers move on an order, read fresh for the orders an allocation or a
/// ping may use.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = standing_orders)]
pub struct OrderCounters {
    pub id: String,
    pub spent_cents: i64,
    pub cap_day: Option<String>,
    pub today_count: i32,
    pub last_allocated_at: Option<NaiveDateTime>,
    pub held_offers: i32,
    pub held_cents: i64,
}

/// The counters of `order_ids`.
pub fn counters(conn: &mut AnyConnection, order_ids: &[&str]) -> QueryResult<Vec<OrderCounters>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    standing_orders::table
        .filter(crate::db::one_of(standing_orders::id, order_ids))
        .select(OrderCounters::as_select())
        .load(conn)
}

/// The counters of every active order, in one scan: cheaper than looking most of them
/// up by id (PostgreSQL's generic plan probes the key once per id).
pub fn active_counters(conn: &mut AnyConnection) -> QueryResult<Vec<OrderCounters>> {
    standing_orders::table
        .filter(standing_orders::active.eq(true))
        .filter(standing_orders::deleted_at.is_null())
        .select(OrderCounters::as_select())
        .load(conn)
}

/// A lead as the allocation reads it: what a sale needs, what filters read, and
/// whether it may be sold at all.
#[derive(Debug, Clone, Queryable)]
pub struct AllocationLead {
    pub sale: SaleFacts,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_key: Option<String>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    pub list_price_cents: i64,
    pub agency_status: OrgStatus,
    /// The person's email or phone is on the suppression list.
    pub suppressed: bool,
}

impl AllocationLead {
    pub fn facts(&self) -> crate::domain::catalogue::LeadFacts<'_> {
        crate::domain::catalogue::LeadFacts {
            segment: &self.sale.segment,
            country: &self.sale.country,
            region: self.region.as_deref(),
            city: self.city.as_deref(),
            postal_key: self.postal_key.as_deref(),
            age: self.age,
            income_cents: self.income_cents,
            warmth: &self.sale.warmth,
            contact_type: &self.contact_type,
            verified: self.verified,
            score: self.score,
            list_price_cents: self.list_price_cents,
            captured_at: self.sale.captured_at,
            max_sales: self.sale.max_sales,
        }
    }
}

pub fn leads(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<AllocationLead>> {
    let suppressed = diesel::dsl::exists(
        suppressions::table.filter(
            suppressions::key_hash
                .nullable()
                .eq(leads::email_key)
                .or(suppressions::key_hash.nullable().eq(leads::phone_key)),
        ),
    );
    leads::table
        .inner_join(batches::table)
        .inner_join(organisations::table.on(organisations::id.eq(leads::agency_id)))
        .filter(leads::id.eq_any(lead_ids))
        .select((
            sale_facts_columns!(),
            leads::region,
            leads::city,
            leads::postal_key,
            leads::age,
            leads::income_cents,
            leads::contact_type,
            leads::verified,
            leads::score,
            leads::list_price_cents,
            organisations::status,
            suppressed,
        ))
        .load(conn)
}

/// `(lead_id, buyer_id)` of every purchase of these leads.
pub fn holders(
    conn: &mut AnyConnection,
    lead_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    purchases::table
        .filter(purchases::lead_id.eq_any(lead_ids))
        .select((purchases::lead_id, purchases::buyer_id))
        .load(conn)
}

/// Counts one lead at `price_cents` against the order, in the caller's transaction, only
/// while the order is active and within its daily cap (of the buyer's local day `today`,
/// `YYYY-MM-DD`; a count of another day starts again at 1) and budget: `false` otherwise.
/// Checked in the UPDATE itself, so two processes cannot both pass a cap.
pub fn take_order(
    conn: &mut AnyConnection,
    order_id: &str,
    today: &str,
    price_cents: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use diesel::dsl::case_when;
    use standing_orders as so;
    let same_day = so::cap_day.eq(today).assume_not_null();
    let n = diesel::update(so::table.find(order_id))
        .filter(so::active.eq(true))
        .filter(so::deleted_at.is_null())
        .filter(
            so::budget_cents
                .is_null()
                .or((so::spent_cents + price_cents).le(so::budget_cents.assume_not_null())),
        )
        .filter(
            so::daily_cap
                .is_null()
                .or(so::cap_day.is_null())
                .or(so::cap_day.ne(today).assume_not_null())
                .or(so::today_count.lt(so::daily_cap.assume_not_null())),
        )
        .set((
            so::today_count.eq(case_when(same_day, so::today_count + 1).otherwise(1)),
            so::cap_day.eq(Some(today)),
            so::spent_cents.eq(so::spent_cents + price_cents),
            so::last_allocated_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
