//! Pings (issue 21): the auction log (each ping's anonymised fields, its bids, winner,
//! price and outcome), the offers a standing order holds, and who bought a person before.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{leads, ping_bid_windows, ping_bids, pings, purchases, standing_orders};
use crate::domain::dedup::Key;
use crate::domain::ping::{BidOutcome, PingStatus, bid_window, window_bounds};

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

/// Stores a ping with its bids, and notes that the buyers `note` bid in its window (the
/// caller leaves out those it knows are noted already).
pub fn insert(
    conn: &mut AnyConnection,
    ping: &PingRow,
    bids: &[BidRow],
    note: &[&str],
) -> QueryResult<()> {
    diesel::insert_into(pings::table)
        .values(ping)
        .execute(conn)?;
    if !bids.is_empty() {
        use crate::db::JsonKind::{BigInt, Text};
        let rows: Vec<serde_json::Value> = bids
            .iter()
            .map(|b| {
                serde_json::json!([
                    b.ping_id,
                    b.order_id,
                    b.buyer_id,
                    b.bid_cents,
                    b.outcome.as_str()
                ])
            })
            .collect();
        crate::db::insert_json_rows(
            conn,
            "ping_bids",
            &[
                ("ping_id", Text),
                ("order_id", Text),
                ("buyer_id", Text),
                ("bid_cents", BigInt),
                ("outcome", Text),
            ],
            serde_json::Value::Array(rows).to_string(),
        )?;
    }
    if !note.is_empty()
        && let Some((window, _)) = bid_window(&ping.id)
    {
        note_windows(conn, &window, note)?;
    }
    Ok(())
}

/// Takes back a ping stored in this transaction with a winner that could not pay after
/// all (its auction runs again without it). Its bidders' window rows stay: a window
/// with no bid of its buyer is read and passed over.
pub fn forget(conn: &mut AnyConnection, ping_id: &str) -> QueryResult<()> {
    diesel::delete(ping_bids::table.filter(ping_bids::ping_id.eq(ping_id))).execute(conn)?;
    diesel::delete(pings::table.find(ping_id)).execute(conn)?;
    Ok(())
}

/// Notes that `buyers` bid in `window`: a new row for a buyer's first bid in it,
/// nothing written for the others.
fn note_windows(conn: &mut AnyConnection, window: &str, buyers: &[&str]) -> QueryResult<()> {
    let rows: Vec<_> = buyers
        .iter()
        .map(|&b| {
            (
                ping_bid_windows::buyer_id.eq(b),
                ping_bid_windows::window_start.eq(window),
            )
        })
        .collect();
    crate::insert_new!(conn, ping_bid_windows::table, &rows).map(|_| ())
}

/// Offers an order holds: how many, and what they would pay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub offers: i32,
    pub cents: i64,
}

impl Held {
    /// What is left of `self` once `lapsed` is taken off (never below nothing).
    pub fn less(self, lapsed: Option<&Held>) -> Held {
        let Some(l) = lapsed else { return self };
        Held {
            offers: self.offers.saturating_sub(l.offers).max(0),
            cents: self.cents.saturating_sub(l.cents).max(0),
        }
    }
}

/// The offers of `order_ids` still marked open but past their time at `now` ("lapsed",
/// not swept yet), in one grouped query through `pings_held_idx`; orders with none are
/// absent. What an order holds at `now` is its counters (`held_offers`, `held_cents`,
/// every offer marked open) less these, so an auction never counts each bidder's
/// offers: only the few that lapsed since its last win.
pub fn lapsed_by(
    conn: &mut AnyConnection,
    order_ids: &[&str],
    now: NaiveDateTime,
) -> QueryResult<std::collections::HashMap<String, Held>> {
    use diesel::sql_types::{BigInt, Nullable};
    if order_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Option<String>, i64, Option<i64>)> = pings::table
        .filter(crate::db::one_of(pings::winner_order_id, order_ids))
        .filter(pings::status.eq(PingStatus::Open))
        .filter(pings::expires_at.le(now))
        .group_by(pings::winner_order_id)
        .select((
            pings::winner_order_id,
            crate::db::fixed::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
            // Cast: diesel types a SUM of BIGINT as NUMERIC, which `AnyConnection` cannot read.
            crate::db::fixed::<Nullable<BigInt>>("CAST(SUM(pings.price_cents) AS BIGINT)"),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, offers, cents)| {
            Some((
                id?,
                Held {
                    offers: i32::try_from(offers).unwrap_or(i32::MAX),
                    cents: cents.unwrap_or(0),
                },
            ))
        })
        .collect())
}

/// Locks the order's row until the caller's commit (PostgreSQL; SQLite's write
/// transaction has the file): its offers change status only under this lock, so its
/// counters stay the sum of its open offers.
pub fn lock_order(conn: &mut AnyConnection, order_id: &str) -> QueryResult<()> {
    crate::db::load_claimed::<_, String>(
        conn,
        standing_orders::table
            .filter(standing_orders::id.eq(order_id))
            .select(standing_orders::id),
        crate::db::Held::Wait,
    )
    .map(drop)
}

/// Marks the order's lapsed offers expired and takes them off its counters; returns
/// what it still holds at `now`. The caller holds the order's row (`claim_turn` or
/// [`lock_order`]).
pub fn sweep(conn: &mut AnyConnection, order_id: &str, now: NaiveDateTime) -> QueryResult<Held> {
    if let Some(lapsed) = lapsed_by(conn, &[order_id], now)?.remove(order_id) {
        diesel::update(pings::table)
            .filter(pings::winner_order_id.eq(order_id))
            .filter(pings::status.eq(PingStatus::Open))
            .filter(pings::expires_at.le(now))
            .set(pings::status.eq(PingStatus::Expired))
            .execute(conn)?;
        move_counters(conn, order_id, -lapsed.offers, -lapsed.cents)?;
    }
    let (offers, cents) = standing_orders::table
        .find(order_id)
        .select((standing_orders::held_offers, standing_orders::held_cents))
        .get_result(conn)?;
    Ok(Held { offers, cents })
}

/// Counts a new open offer at `price_cents` on the order (its row is the caller's).
pub fn hold(conn: &mut AnyConnection, order_id: &str, price_cents: i64) -> QueryResult<()> {
    move_counters(conn, order_id, 1, price_cents)
}

/// Takes a posted offer at `price_cents` off the order's counters (its row is the
/// caller's): from now on the sale counts instead.
pub fn release(conn: &mut AnyConnection, order_id: &str, price_cents: i64) -> QueryResult<()> {
    move_counters(conn, order_id, -1, -price_cents)
}

fn move_counters(
    conn: &mut AnyConnection,
    order_id: &str,
    offers: i32,
    cents: i64,
) -> QueryResult<()> {
    use standing_orders as so;
    diesel::update(so::table.find(order_id))
        .set((
            so::held_offers.eq(so::held_offers + offers),
            so::held_cents.eq(so::held_cents + cents),
        ))
        .execute(conn)
        .map(drop)
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
        .get_result(conn)
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
            let ids = bid_in(conn, b, before, limit)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            q = q.filter(pings::id.eq_any(ids))
        }
        Scope::All => {}
    }
    q.load(conn)
}

/// How many of a buyer's windows one query reads.
const WINDOWS_AT_ONCE: i64 = 32;

/// The newest `limit` pings `buyer` bid in, before the id `before`, newest first: its
/// windows newest first, and in each the bids of the window's pings (a range of the
/// bids' primary key) that are its own.
fn bid_in(
    conn: &mut AnyConnection,
    buyer: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let want = usize::try_from(limit).unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    // Windows at or before the cursor's, then strictly before the last one read.
    let mut upto = before.and_then(bid_window).map(|(from, _)| (from, true));
    while out.len() < want {
        let mut q = ping_bid_windows::table
            .filter(ping_bid_windows::buyer_id.eq(buyer))
            .select(ping_bid_windows::window_start)
            .order(ping_bid_windows::window_start.desc())
            .limit(WINDOWS_AT_ONCE)
            .into_boxed();
        q = match &upto {
            Some((w, true)) => q.filter(ping_bid_windows::window_start.le(w.clone())),
            Some((w, false)) => q.filter(ping_bid_windows::window_start.lt(w.clone())),
            None => q,
        };
        let windows: Vec<String> = q.load(conn)?;
        for w in &windows {
            let Some((from, until)) = window_bounds(w) else {
                continue;
            };
            let mut q = ping_bids::table
                .filter(ping_bids::ping_id.ge(from))
                .filter(ping_bids::ping_id.lt(until))
                .filter(ping_bids::buyer_id.eq(buyer))
                .select(ping_bids::ping_id)
                .order(ping_bids::ping_id.desc())
                .limit(i64::try_from(want - out.len()).unwrap_or(i64::MAX))
                .into_boxed();
            if let Some(b) = before {
                q = q.filter(ping_bids::ping_id.lt(b.to_string()));
            }
            for id in q.load::<String>(conn)? {
                // A buyer bids once a ping; an id is kept once all the same.
                if out.last() != Some(&id) {
                    out.push(id);
                }
            }
            if out.len() >= want {
                break;
            }
        }
        match windows.last() {
            Some(last) if windows.len() as i64 == WINDOWS_AT_ONCE => {
                upto = Some((last.clone(), false));
            }
            _ => break,
        }
    }
    Ok(out)
}

pub fn find(conn: &mut AnyConnection, ping_id: &str) -> QueryResult<Option<PingRow>> {
    pings::table
        .find(ping_id)
        .select(PingRow::as_select())
        .get_result(conn)
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
