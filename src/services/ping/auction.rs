//! `POST /ping`: the active standing orders that want the pinged lead bid their ceilings;
//! one short write transaction stores the ping, its bids and the winner's offer. The
//! bids are read before it, so pings read side by side (on SQLite too, where writers
//! take turns). The offer counts against the winner's cap and budget while it holds, so
//! two pings cannot promise the same budget twice: in the write transaction the
//! winner's row is claimed (`store::pings::claim_turn`, a row lock on PostgreSQL; SQLite
//! has one writer) and its counters and offers read again before the offer is stored.
//! The ping and its bids are stored before that lock is taken, so it is held briefly.
//! On SQLite that transaction is a savepoint in a group of auctions committed together
//! (`db::Group`); what each sees and checks is the same.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use std::time::Instant;

use parking_lot::Mutex;

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, Group, Job};
use crate::domain::catalogue::LeadFacts;
use crate::domain::ping::{
    Bid, PingLead, PingStatus, bid_for, bid_window, expires_at, run_auction,
};
use crate::domain::scoring::{self, ScoreInput};
use crate::domain::standing_order::{Allowance, local_day, local_minute};
use crate::error::AppError;
use crate::services::known::Known;
use crate::services::standing_orders::book;
use crate::store;
use crate::store::pings::{BidRow, Held, PingRow};
use crate::store::standing_orders::StandingOrderRow;

/// The answer to a ping: an offer, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingAnswer {
    Offer {
        ping_id: String,
        price_cents: i64,
        expires_at: NaiveDateTime,
    },
    NoOffer {
        ping_id: String,
    },
}

/// A bidder as this ping sees it.
struct Bidder {
    row: StandingOrderRow,
    tz: chrono_tz::Tz,
    bid_cents: i64,
}

/// A bid window (`domain::ping::bid_window`) and the buyers noted in it.
type Window = (String, HashSet<String>);

/// Buyers whose row for the newest bid window this process has committed, per database:
/// a ping notes only the buyers new to its window, and most pings none.
static NOTED: LazyLock<Mutex<HashMap<String, Window>>> = LazyLock::new(Default::default);

/// The auctions' writes, committed in groups on SQLite (`db::Group`): under a crowd of
/// pings each paid BEGIN, COMMIT and the same tail pages of the log on its own.
static AUCTIONS: Group<PingAnswer, AppError> = Group::new();

/// Databases whose noted buyers are kept; past it they start again.
const MAX_NOTED: usize = 64;

/// Runs the auction for `lead` pinged by `agency_id` at `now`, stores it and answers;
/// `known`: the reference data the lead was parsed against (`services::known`).
pub fn ping(
    conn: &mut AnyConnection,
    known: &Known,
    agency_id: &str,
    lead: &PingLead,
    now: NaiveDateTime,
) -> Result<PingAnswer, AppError> {
    let started = Instant::now();
    let (asked, bidders) = bidders(conn, &known.rules.tree, lead, now)?;
    let ping_id = store::new_id();
    let window = bid_window(&ping_id).map(|(w, _)| w);
    let note = to_note(&known.database, window.as_deref(), &bidders);
    let job: Job<PingAnswer, AppError> = {
        let (ping_id, agency_id, lead, note) = (
            ping_id.clone(),
            agency_id.to_string(),
            lead.clone(),
            note.clone(),
        );
        Box::new(move |conn| {
            auction(
                conn, &ping_id, &agency_id, &lead, asked, bidders, &note, now, started,
            )
        })
    };
    let answer = AUCTIONS.run(conn, &known.database, job)?;
    if let Some(window) = window {
        noted(&known.database, window, note);
    }
    Ok(answer)
}

/// The bidders' buyers this process has not noted in `window` yet (all of them for a
/// database in memory, which has no name to keep them under).
fn to_note(database: &str, window: Option<&str>, bidders: &[Bidder]) -> Vec<String> {
    let noted = NOTED.lock();
    let here = noted
        .get(database)
        .filter(|(w, _)| !database.is_empty() && Some(w.as_str()) == window)
        .map(|(_, buyers)| buyers);
    bidders
        .iter()
        .map(|b| &b.row.buyer_id)
        .filter(|b| here.is_none_or(|h| !h.contains(*b)))
        .cloned()
        .collect()
}

/// Keeps `buyers` as noted in `window`, once their rows are committed.
fn noted(database: &str, window: String, buyers: Vec<String>) {
    if database.is_empty() || buyers.is_empty() {
        return;
    }
    let mut noted = NOTED.lock();
    if noted.len() >= MAX_NOTED && !noted.contains_key(database) {
        noted.clear();
    }
    let entry = noted.entry(database.to_string()).or_default();
    // A ping of an older window, committed late, leaves the newer one as it is.
    if entry.0 < window {
        *entry = (window, buyers.into_iter().collect());
    } else if entry.0 == window {
        entry.1.extend(buyers);
    }
}

/// The orders that bid on `lead` at `now` and how many were asked, read outside the
/// write transaction: what they saw is checked again for the winner (`confirm_winner`).
fn bidders(
    conn: &mut AnyConnection,
    tree: &crate::domain::reference::SegmentTree,
    lead: &PingLead,
    now: NaiveDateTime,
) -> Result<(usize, Vec<Bidder>), AppError> {
    let segments = tree.lineage_owned(&lead.segment);
    let score = scoring::score(&ScoreInput {
        // The post carries the contact; a ping vouches for a name and its hashes.
        has_name: true,
        has_phone: lead.phone_key.is_some(),
        has_email: lead.email_key.is_some(),
        has_address: false,
        warmth: lead.warmth,
        contact_type: lead.contact_type,
        verified: lead.verified,
        age_days: (now.date() - lead.captured_at.date()).num_days(),
        soft_flags: 0,
        engagement: Default::default(),
    });
    let facts = LeadFacts {
        segment: &lead.segment,
        country: &lead.country,
        region: lead.region.as_deref(),
        city: lead.city.as_deref(),
        postal_key: lead.postal_key.as_deref(),
        age: lead.age,
        income_cents: lead.income_cents,
        warmth: lead.warmth.as_str(),
        contact_type: lead.contact_type.as_str(),
        verified: lead.verified,
        score,
        list_price_cents: lead.reserve_cents,
        captured_at: lead.captured_at,
        // Ping-post sells to the winner alone.
        max_sales: 1,
    };
    // The orders asked: those whose filter and hours want the lead (the order book
    // keeps their filters parsed); only their counters are read.
    let candidates = book::candidates(
        conn,
        &segments,
        std::slice::from_ref(&lead.country),
        |_, rules| {
            rules.filter.matches(&facts, tree, now)
                && rules
                    .hours
                    .is_none_or(|h| h.contains(local_minute(now, rules.tz)))
        },
    )?;
    let asked = candidates.len();
    let bought: HashSet<String> =
        if asked > 0 && (lead.phone_key.is_some() || lead.email_key.is_some()) {
            store::pings::buyers_of_person(conn, lead.phone_key.as_ref(), lead.email_key.as_ref())?
                .into_iter()
                .collect()
        } else {
            HashSet::new()
        };
    let wanting: Vec<(StandingOrderRow, chrono_tz::Tz, Held)> = candidates
        .into_iter()
        .filter(|c| !bought.contains(&c.order.buyer_id))
        .map(|c| (c.order, c.rules.tz, c.held))
        .collect();
    let buyer_ids: Vec<&str> = wanting
        .iter()
        .map(|(o, _, _)| o.buyer_id.as_str())
        .collect();
    let credit = store::credit::available_of(conn, &buyer_ids)?;
    // Counters of offers marked open, less those past their time (few: the winner's
    // are swept at each win).
    let limited: Vec<&str> = wanting
        .iter()
        .filter(|(o, _, held)| {
            held.offers > 0 && (o.daily_cap.is_some() || o.budget_cents.is_some())
        })
        .map(|(o, _, _)| o.id.as_str())
        .collect();
    let lapsed = store::pings::lapsed_by(conn, &limited, now)?;
    let mut bidders: Vec<Bidder> = Vec::new();
    for (row, tz, held) in wanting {
        let held = held.less(lapsed.get(&row.id));
        let credit_left = credit.get(&row.buyer_id).copied().unwrap_or(0);
        if let Some(bid_cents) = bid_of(&row, held, tz, credit_left, now) {
            bidders.push(Bidder { row, tz, bid_cents });
        }
    }
    // A buyer bids once, with its best order: its orders never raise its own price.
    bidders.sort_by(|a, b| {
        a.row
            .buyer_id
            .cmp(&b.row.buyer_id)
            .then(b.bid_cents.cmp(&a.bid_cents))
            .then(
                a.row
                    .last_allocated_at
                    .is_some()
                    .cmp(&b.row.last_allocated_at.is_some()),
            )
            .then(a.row.last_allocated_at.cmp(&b.row.last_allocated_at))
            .then(a.row.id.cmp(&b.row.id))
    });
    bidders.dedup_by(|later, first| later.row.buyer_id == first.row.buyer_id);
    Ok((asked, bidders))
}

/// The auction on what the bidders saw, and its log, in the caller's write transaction;
/// `note`: the bidders to note in the ping's window.
#[expect(
    clippy::too_many_arguments,
    reason = "the ping, what was read before the transaction, and the clock"
)]
fn auction(
    conn: &mut AnyConnection,
    ping_id: &str,
    agency_id: &str,
    lead: &PingLead,
    asked: usize,
    mut bidders: Vec<Bidder>,
    note: &[String],
    now: NaiveDateTime,
    started: Instant,
) -> Result<PingAnswer, AppError> {
    let ping_id = ping_id.to_string();
    let note: Vec<&str> = note.iter().map(String::as_str).collect();
    // Each round drops a winner that can no longer pay once its row is locked and
    // read again (another ping won it in between): rare, and bounded by the bidders.
    loop {
        let bids: Vec<Bid<'_>> = bidders
            .iter()
            .map(|b| Bid {
                order_id: &b.row.id,
                bid_cents: b.bid_cents,
                served_at: b.row.last_allocated_at,
            })
            .collect();
        let auction = run_auction(&bids, lead.reserve_cents);
        let winner = auction.winner.zip(auction.price_cents);
        let row = ping_row(
            &ping_id,
            agency_id,
            lead,
            asked,
            winner.map(|(w, _)| &bidders[w].row),
            winner.map(|(_, price)| price),
            now,
            started,
        );
        // Stored before the winner's row is locked, so other pings that want the same
        // winner (the highest ceiling wins most) wait on it for as short as can be.
        store::pings::insert(
            conn,
            &row,
            &bid_rows(&ping_id, &bidders, &auction.outcomes),
            &note,
        )?;
        let Some((w, price)) = winner else {
            return Ok(PingAnswer::NoOffer { ping_id });
        };
        if !confirm_winner(conn, &bidders[w].row, bidders[w].tz, price, now)? {
            store::pings::forget(conn, &ping_id)?;
            bidders.remove(w);
            continue;
        }
        return Ok(PingAnswer::Offer {
            ping_id,
            price_cents: price,
            expires_at: expires_at(now),
        });
    }
}

/// The order's allowance with the offers it holds counted as bought.
fn allowance_with(
    row: &StandingOrderRow,
    held: Held,
    today: chrono::NaiveDate,
) -> (Allowance<'_>, bool) {
    let a = row.allowance();
    let count = a.count_on(today).saturating_add(held.offers);
    let cap_left = a.daily_cap.is_none_or(|cap| count < cap);
    let spent = a.spent_cents + held.cents;
    (
        Allowance {
            spent_cents: spent,
            ..a
        },
        cap_left,
    )
}

/// What the order bids at `now`, or `None` when its cap, budget or its buyer's credit
/// leaves it nothing to bid.
fn bid_of(
    row: &StandingOrderRow,
    held: Held,
    tz: chrono_tz::Tz,
    credit_left: i64,
    now: NaiveDateTime,
) -> Option<i64> {
    let (allowance, cap_left) = allowance_with(row, held, local_day(now, tz));
    if !cap_left {
        return None;
    }
    let budget_left = allowance.budget_left_cents();
    let can_pay = Some(budget_left.map_or(credit_left, |b| b.min(credit_left)));
    bid_for(row.max_price_cents, can_pay)
}

/// Locks the winner's row and checks again, on what is committed now, that it can take
/// one more lead at `price` (its zone `tz` as the bidders' read found it: a zone changed
/// since moves the day boundary by hours, never the counters); then counts the offer on
/// it. Its offers past their time are swept first, under the lock, so its counters stay
/// the sum of its open offers.
fn confirm_winner(
    conn: &mut AnyConnection,
    winner: &StandingOrderRow,
    tz: chrono_tz::Tz,
    price: i64,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    if !store::pings::claim_turn(conn, &winner.id, now)? {
        return Ok(false);
    }
    let held = store::pings::sweep(conn, &winner.id, now)?;
    if winner.daily_cap.is_some() || winner.budget_cents.is_some() {
        let fresh = store::standing_orders::find(conn, &winner.id)?;
        let (allowance, cap_left) = allowance_with(&fresh, held, local_day(now, tz));
        let can_pay = allowance
            .budget_left_cents()
            .is_none_or(|left| left >= price);
        if !cap_left || !can_pay {
            return Ok(false);
        }
    }
    store::pings::hold(conn, &winner.id, price)?;
    Ok(true)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one row's fields from the auction"
)]
fn ping_row(
    ping_id: &str,
    agency_id: &str,
    lead: &PingLead,
    asked: usize,
    winner: Option<&StandingOrderRow>,
    price: Option<i64>,
    now: NaiveDateTime,
    started: Instant,
) -> PingRow {
    PingRow {
        id: ping_id.to_string(),
        agency_id: agency_id.to_string(),
        segment: lead.segment.clone(),
        country: lead.country.clone(),
        region: lead.region.clone(),
        postal_key: lead.postal_key.clone(),
        age: lead.age,
        income_cents: lead.income_cents,
        warmth: lead.warmth.as_str().to_string(),
        contact_type: lead.contact_type.as_str().to_string(),
        verified: lead.verified,
        channel: lead.channel.clone(),
        captured_at: lead.captured_at,
        reserve_cents: lead.reserve_cents,
        orders_asked: i32::try_from(asked).unwrap_or(i32::MAX),
        winner_order_id: winner.map(|w| w.id.clone()),
        winner_buyer_id: winner.map(|w| w.buyer_id.clone()),
        price_cents: price,
        status: if winner.is_some() {
            PingStatus::Open
        } else {
            PingStatus::NoOffer
        },
        expires_at: winner.map(|_| expires_at(now)),
        took_micros: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        lead_id: None,
        posted_at: None,
        created_at: now,
    }
}

fn bid_rows(
    ping_id: &str,
    bidders: &[Bidder],
    outcomes: &[crate::domain::ping::BidOutcome],
) -> Vec<BidRow> {
    // One bid per order (the primary key); an order is a bidder once.
    let mut seen: HashSet<&str> = HashSet::new();
    bidders
        .iter()
        .zip(outcomes)
        .filter(|(b, _)| seen.insert(b.row.id.as_str()))
        .map(|(b, outcome)| BidRow {
            ping_id: ping_id.to_string(),
            order_id: b.row.id.clone(),
            buyer_id: b.row.buyer_id.clone(),
            bid_cents: b.bid_cents,
            outcome: *outcome,
        })
        .collect()
}
