//! The auction log as each role may see it: an agency its own pings with every bid and
//! bidder; a buyer the auctions its orders bid in, with its own bid, whether it won and
//! the price, never another bidder's name; finance and admin everything.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::domain::ping::{BidOutcome, PingStatus};
use crate::error::AppError;
use crate::store;
use crate::store::pings::Scope;

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    Agency(&'a str),
    Buyer(&'a str),
    Platform,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BidView {
    /// The bidding buyer; absent for a buyer looking at others' bids (never shown).
    pub buyer: Option<String>,
    /// The standing order that bid (its name), to its own buyer and the platform.
    pub order: Option<String>,
    pub bid_cents: i64,
    /// `won`, `lost` or `under_reserve`.
    #[schema(value_type = String)]
    pub outcome: BidOutcome,
}

/// One auction; no contact data exists in it to show.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PingView {
    pub id: String,
    #[serde(skip)]
    pub created: NaiveDateTime,
    pub created_at: String,
    pub segment: String,
    pub country: String,
    pub region: Option<String>,
    /// The postal code's first characters, as the catalogue shows them.
    pub postal_prefix: Option<String>,
    pub age: i32,
    pub income_band: Option<String>,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub channel: Option<String>,
    pub reserve_cents: i64,
    /// Active orders whose segment and country fit.
    pub orders_asked: i32,
    pub bids_count: usize,
    /// What the winner pays; null without an offer.
    pub price_cents: Option<i64>,
    /// `open`, `no_offer`, `posted` or `expired`.
    #[schema(value_type = String)]
    pub status: PingStatus,
    pub expires_at: Option<String>,
    /// Time the auction took on the server.
    pub took_ms: f64,
    /// The posted lead (to the agency and the platform).
    pub lead_id: Option<String>,
    /// For a buyer: whether its order won.
    pub won: Option<bool>,
    pub bids: Vec<BidView>,
}

/// The newest `limit` pings the viewer may see, before the id `before`.
pub fn list(
    conn: &mut AnyConnection,
    viewer: Viewer<'_>,
    before: Option<&str>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<PingView>, AppError> {
    let scope = match viewer {
        Viewer::Agency(a) => Scope::Agency(a),
        Viewer::Buyer(b) => Scope::Buyer(b),
        Viewer::Platform => Scope::All,
    };
    let pings = store::pings::list(conn, scope, before, limit)?;
    views(conn, viewer, pings, now)
}

/// One ping, if the viewer may see it (404 otherwise).
pub fn one(
    conn: &mut AnyConnection,
    viewer: Viewer<'_>,
    ping_id: &str,
    now: NaiveDateTime,
) -> Result<PingView, AppError> {
    if uuid::Uuid::parse_str(ping_id).is_err() {
        return Err(AppError::NotFound);
    }
    let ping = store::pings::find(conn, ping_id)?.ok_or(AppError::NotFound)?;
    let bids = store::pings::bids(conn, std::slice::from_ref(&ping.id))?;
    let visible = match viewer {
        Viewer::Agency(a) => ping.agency_id == a,
        Viewer::Buyer(b) => bids.iter().any(|x| x.buyer_id == b),
        Viewer::Platform => true,
    };
    if !visible {
        return Err(AppError::NotFound);
    }
    views(conn, viewer, vec![ping], now)?
        .pop()
        .ok_or(AppError::NotFound)
}

fn views(
    conn: &mut AnyConnection,
    viewer: Viewer<'_>,
    pings: Vec<store::pings::PingRow>,
    now: NaiveDateTime,
) -> Result<Vec<PingView>, AppError> {
    let ids: Vec<String> = pings.iter().map(|p| p.id.clone()).collect();
    let mut by_ping: HashMap<String, Vec<store::pings::BidRow>> = HashMap::new();
    for b in store::pings::bids(conn, &ids)? {
        by_ping.entry(b.ping_id.clone()).or_default().push(b);
    }
    let all_bids = by_ping.values().flatten();
    let mut buyer_ids: Vec<String> = all_bids.clone().map(|b| b.buyer_id.clone()).collect();
    let mut order_ids: Vec<String> = all_bids.map(|b| b.order_id.clone()).collect();
    buyer_ids.sort();
    buyer_ids.dedup();
    order_ids.sort();
    order_ids.dedup();
    let buyers = store::organisations::names(conn, &buyer_ids)?;
    let orders = store::pings::order_names(conn, &order_ids)?;
    let mut out = Vec::with_capacity(pings.len());
    for p in pings {
        let bids = by_ping.remove(&p.id).unwrap_or_default();
        let bids_count = bids.len();
        let won = match viewer {
            Viewer::Buyer(b) => Some(p.winner_buyer_id.as_deref() == Some(b)),
            _ => None,
        };
        let bids: Vec<BidView> = bids
            .into_iter()
            .filter_map(|b| {
                let buyer = buyers.get(&b.buyer_id).cloned();
                let order = orders.get(&b.order_id).cloned();
                match viewer {
                    Viewer::Buyer(me) if b.buyer_id != me => None,
                    Viewer::Buyer(_) => Some(BidView {
                        buyer,
                        order,
                        bid_cents: b.bid_cents,
                        outcome: b.outcome,
                    }),
                    // The seller sees who was asked and what they bid.
                    Viewer::Agency(_) => Some(BidView {
                        buyer,
                        order: None,
                        bid_cents: b.bid_cents,
                        outcome: b.outcome,
                    }),
                    Viewer::Platform => Some(BidView {
                        buyer,
                        order,
                        bid_cents: b.bid_cents,
                        outcome: b.outcome,
                    }),
                }
            })
            .collect();
        let postal_prefix = p
            .postal_key
            .as_deref()
            .and_then(|k| k.get(2..))
            .and_then(|code| crate::domain::catalogue::postal_prefix(Some(code)));
        let lead_id = match viewer {
            Viewer::Buyer(_) => None,
            _ => p.lead_id.clone(),
        };
        out.push(PingView {
            created_at: crate::domain::time::rfc3339(p.created_at),
            created: p.created_at,
            status: p.status.at(p.expires_at, now),
            expires_at: p.expires_at.map(crate::domain::time::rfc3339),
            took_ms: p.took_micros as f64 / 1000.0,
            income_band: crate::domain::catalogue::income_band(p.income_cents),
            id: p.id,
            segment: p.segment,
            country: p.country,
            region: p.region,
            postal_prefix,
            age: p.age,
            warmth: p.warmth,
            contact_type: p.contact_type,
            verified: p.verified,
            channel: p.channel,
            reserve_cents: p.reserve_cents,
            orders_asked: p.orders_asked,
            bids_count,
            price_cents: p.price_cents,
            lead_id,
            won,
            bids,
        });
    }
    Ok(out)
}
