//! The order book: this process's copy of the active standing orders, their parsed
//! rules (filter, zone, hours) and an index by segment, so an allocation or a ping reads
//! neither every order nor its filter text. A copy is kept per database and is right
//! while the database's `order_book_stamp` has not moved: triggers bump it on every
//! change to what is copied, from any process (an order made, edited, paused or deleted,
//! a buyer suspended or moved to another zone). The counters that sales and offers move
//! are never copied: each use reads them fresh for the orders it may use.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::AnyConnection;
use crate::domain::catalogue::{Filter, RawFilter, parse};
use crate::domain::standing_order::{ActiveHours, parse_time_zone};
use crate::services::copies::Copies;
use crate::store;
use crate::store::pings::Held;
use crate::store::standing_orders::StandingOrderRow;

/// An order's rules as parsed.
#[derive(Debug)]
pub struct OrderRules {
    pub filter: Filter,
    pub tz: chrono_tz::Tz,
    pub hours: Option<ActiveHours>,
}

/// An active order that may take the lead: its row with fresh counters, its buyer's
/// zone, its open offers' counters (lapsed ones not yet taken off) and its rules.
pub struct Candidate {
    pub order: StandingOrderRow,
    pub time_zone: String,
    pub held: Held,
    pub rules: Arc<OrderRules>,
}

struct Entry {
    order: StandingOrderRow,
    time_zone: String,
    rules: Arc<OrderRules>,
}

struct Snapshot {
    entries: Vec<Entry>,
    /// Entries without a segment (any segment).
    any_segment: Vec<usize>,
    /// The others, by their index key `segment`.
    by_segment: HashMap<String, Vec<usize>>,
}

/// Books up to this many orders are "small" for `db::scans_small_tables`.
const SCAN_WHOLE: usize = 2048;

static BOOKS: Copies<Snapshot> = Copies::new();

/// The active orders of active buyers whose index keys fit (`segment` `None` or one of
/// `segments`, the leads' segments and their parents; `country` `None` or one of
/// `countries`) and that `wants` (its filter, hours or ceiling fit), with their counters
/// as committed now. On SQLite only those orders' counters are read: a ping wants about
/// 130 of the bench's 1,000 orders, and reading and decoding every order's counters was
/// a third of its CPU; PostgreSQL reads a small book's in one scan
/// (`db::scans_small_tables`). Orders whose filter or zone does not parse are passed over
/// (never allowed to buy under a wider filter).
pub fn candidates(
    conn: &mut AnyConnection,
    segments: &[String],
    countries: &[String],
    wants: impl Fn(&StandingOrderRow, &OrderRules) -> bool,
) -> diesel::QueryResult<Vec<Candidate>> {
    let book = snapshot(conn)?;
    let mut picked: Vec<&Entry> = Vec::new();
    let keyed = segments.iter().filter_map(|s| book.by_segment.get(s));
    for list in std::iter::once(&book.any_segment).chain(keyed) {
        for &i in list {
            let e = &book.entries[i];
            if e.order
                .country
                .as_ref()
                .is_none_or(|c| countries.contains(c))
                && wants(&e.order, &e.rules)
            {
                picked.push(e);
            }
        }
    }
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = picked.iter().map(|e| e.order.id.as_str()).collect();
    // Most of a book, or a small book on PostgreSQL, is read cheaper by one scan than
    // by its ids (on PostgreSQL 0.2 ms for 1,000 orders against 1.4 ms for 700 ids).
    let scan = ids.len() * 2 > book.entries.len()
        || (book.entries.len() <= SCAN_WHOLE && crate::db::scans_small_tables(conn));
    let counters = if scan {
        store::allocation::active_counters(conn)?
    } else {
        store::allocation::counters(conn, &ids)?
    };
    let mut fresh: HashMap<&str, &store::allocation::OrderCounters> =
        counters.iter().map(|c| (c.id.as_str(), c)).collect();
    Ok(picked
        .into_iter()
        .filter_map(|e| {
            // Gone since the copy was checked: a stamp bump the next call will see.
            let c = fresh.remove(e.order.id.as_str())?;
            let mut order = e.order.clone();
            order.spent_cents = c.spent_cents;
            order.cap_day = c.cap_day.clone();
            order.today_count = c.today_count;
            order.last_allocated_at = c.last_allocated_at;
            Some(Candidate {
                order,
                time_zone: e.time_zone.clone(),
                held: Held {
                    offers: c.held_offers,
                    cents: c.held_cents,
                },
                rules: e.rules.clone(),
            })
        })
        .collect())
}

/// This database's copy, read again when its stamp has moved. The stamp is read before
/// the orders, so an edit committed in between only makes the next call read again.
fn snapshot(conn: &mut AnyConnection) -> diesel::QueryResult<Arc<Snapshot>> {
    let (database, version) = crate::db::stamp(conn, crate::db::Stamp::OrderBook)?;
    BOOKS.get(&database, version, || read(conn))
}

/// The active orders as committed now, indexed.
fn read(conn: &mut AnyConnection) -> diesel::QueryResult<Snapshot> {
    let mut entries = Vec::new();
    for (order, time_zone) in store::allocation::active_orders(conn)? {
        let Some(rules) = parse_rules(&order, &time_zone) else {
            continue;
        };
        entries.push(Entry {
            order,
            time_zone,
            rules: Arc::new(rules),
        });
    }
    let (mut any_segment, mut by_segment) = (Vec::new(), HashMap::<String, Vec<usize>>::new());
    for (i, e) in entries.iter().enumerate() {
        match &e.order.segment {
            None => any_segment.push(i),
            Some(s) => by_segment.entry(s.clone()).or_default().push(i),
        }
    }
    Ok(Snapshot {
        entries,
        any_segment,
        by_segment,
    })
}

fn parse_rules(order: &StandingOrderRow, time_zone: &str) -> Option<OrderRules> {
    let filter = RawFilter::from_query(&order.filter_query)
        .ok()
        .and_then(|raw| parse(&raw).ok())
        .map(|p| p.filter);
    let tz = parse_time_zone(time_zone).ok();
    let (Some(filter), Some(tz)) = (filter, tz) else {
        tracing::warn!(order = %order.id, "standing order's filter or time zone does not parse; passed over");
        return None;
    };
    Some(OrderRules {
        filter,
        tz,
        hours: order.active_hours(),
    })
}
