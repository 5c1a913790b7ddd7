//! Pings (issue 21): the auction log (each ping's anonymised fields, its bids, winner,
//! price and outcome), the offers a standing order holds, and who bought a person before.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{leads, ping_bids, pings, purchases, standing_orders};
use crate::domain::dedup::Key;
use crate::domain::ping::{BidOutcome, PingStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pings)]
#[diesel(treat_none_as_default_value = false)]
pub struct PingRow {
    pub id: String,
    pub agency_id: String,
    pub segment: String,
    pub country: String,
    pub region: Option<String>,
    pub postal_key: Option<String>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub channel: Option<String>,
    pub captured_at: NaiveDateTime,
    pub reserve_cents: i64,
    pub orders_asked: i32,
    pub winner_order_id: Option<String>,
    pub winner_buyer_id: Option<String>,
    pub price_cents: Option<i64>,
    pub status: PingStatus,
    pub expires_at: Option<NaiveDateTime>,
    pub took_micros: i64,
    pub lead_id: Option<String>,
    pub posted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ping_bids)]
#[diesel(treat_none_as_default_value = false)]
pub struct BidRow {
    pub ping_id: String,
    pub order_id: String,
    pub buyer_id: String,
    pub bid_cents: i64,
    pub outcome: BidOutcome,
}

pub fn insert(conn: &mut AnyConnection, ping: &PingRow, bids: &[BidRow]) -> QueryResult<()> {
    diesel::insert_into(pings::table)
        .values(ping)
        .execute(conn)?;
    if !bids.is_empty() {
        crate::copy_in!(conn, ping_bids::table, bids)?;
    }
    Ok(())
}

/// The prices of the offers `order_id` holds at `now` (open and not expired): they
/// count against its cap and budget as if bought.
pub fn held(conn: &mut AnyConnection, order_id: &str, now: NaiveDateTime) -> QueryResult<Vec<i64>> {
    let prices: Vec<Option<i64>> = pings::table
        .filter(pings::winner_order_id.eq(order_id))
        .filter(pings::status.eq(PingStatus::Open))
        .filter(pings::expires_at.gt(now))
        .select(pings::price_cents)
        .load(conn)?;
    Ok(prices.into_iter().flatten().collect())
}

/// Orders among `order_ids` that hold any offer at `now`: most hold none, so one query
/// tells which need [`held`].
pub fn holding(
    conn: &mut AnyConnection,
    order_ids: &[&str],
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Option<String>> = pings::table
        .filter(pings::status.eq(PingStatus::Open))
        .filter(pings::expires_at.gt(now))
        .filter(pings::winner_order_id.eq_any(order_ids))
        .select(pings::winner_order_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Buyers who bought a lead of this person (by either dedup key) before.
pub fn buyers_of_person(
    conn: &mut AnyConnection,
    phone_key: Option<&Key>,
    email_key: Option<&Key>,
) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for (key, by_phone) in [(phone_key, true), (email_key, false)] {
        let Some(key) = key else { continue };
        let q = purchases::table
            .inner_join(leads::table)
            .select(purchases::buyer_id)
            .distinct();
        let found: Vec<String> = if by_phone {
            q.filter(leads::phone_key.eq(key)).load(conn)?
        } else {
            q.filter(leads::email_key.eq(key)).load(conn)?
        };
        out.extend(found);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Marks the winner as served at `now` (its turn in ties) and, on PostgreSQL, locks its
/// row until the caller's commit, so two pings check its cap and budget one after the
/// other. `false` when the order is no longer active.
pub fn claim_turn(
    conn: &mut AnyConnection,
    order_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(standing_orders::table.find(order_id))
        .filter(standing_orders::active.eq(true))
        .filter(standing_orders::deleted_at.is_null())
        .set(standing_orders::last_allocated_at.eq(Some(now)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn find_for_agency(
    conn: &mut AnyConnection,
    agency_id: &str,
    ping_id: &str,
) -> QueryResult<Option<PingRow>> {
    pings::table
        .filter(pings::id.eq(ping_id))
        .filter(pings::agency_id.eq(agency_id))
        .select(PingRow::as_select())
        .first(conn)
        .optional()
}

/// Uses an open offer for `lead_id`, once: `false` when it was used or has expired.
pub fn mark_posted(
    conn: &mut AnyConnection,
    ping_id: &str,
    lead_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(pings::table.find(ping_id))
        .filter(pings::status.eq(PingStatus::Open))
        .filter(pings::expires_at.gt(now))
        .set((
            pings::status.eq(PingStatus::Posted),
            pings::lead_id.eq(Some(lead_id)),
            pings::posted_at.eq(Some(now)),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Stores what an open offer past its time became.
pub fn mark_expired(
    conn: &mut AnyConnection,
    ping_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(pings::table.find(ping_id))
        .filter(pings::status.eq(PingStatus::Open))
        .filter(pings::expires_at.le(now))
        .set(pings::status.eq(PingStatus::Expired))
        .execute(conn)
}

/// Whose auction log a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// An agency's own pings.
    Agency(&'a str),
    /// The auctions a buyer's orders bid in.
    Buyer(&'a str),
    /// Finance and admin: every ping.
    All,
}

/// Newest first; `before`: the id of the last one seen (v7 ids are time-ordered).
pub fn list(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<PingRow>> {
    let mut q = pings::table
        .select(PingRow::as_select())
        .order(pings::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(pings::id.lt(b.to_string()));
    }
    match scope {
        Scope::Agency(a) => q = q.filter(pings::agency_id.eq(a.to_string())),
        Scope::Buyer(b) => {
            q = q.filter(
                pings::id.eq_any(
                    ping_bids::table
                        .filter(ping_bids::buyer_id.eq(b.to_string()))
                        .select(ping_bids::ping_id),
                ),
            )
        }
        Scope::All => {}
    }
    q.load(conn)
}

pub fn find(conn: &mut AnyConnection, ping_id: &str) -> QueryResult<Option<PingRow>> {
    pings::table
        .find(ping_id)
        .select(PingRow::as_select())
        .first(conn)
        .optional()
}

/// The bids of these pings, highest first.
pub fn bids(conn: &mut AnyConnection, ping_ids: &[String]) -> QueryResult<Vec<BidRow>> {
    if ping_ids.is_empty() {
        return Ok(Vec::new());
    }
    ping_bids::table
        .filter(ping_bids::ping_id.eq_any(ping_ids))
        .select(BidRow::as_select())
        .order((ping_bids::ping_id, ping_bids::bid_cents.desc()))
        .load(conn)
}

/// Names of standing orders by id (for the auction log).
pub fn order_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(standing_orders::table
        .filter(standing_orders::id.eq_any(ids))
        .select((standing_orders::id, standing_orders::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
