//! Allocation: accepted leads are bought at once by the active standing orders that
//! match them, highest ceiling first and ties in turn (the order served longest ago
//! first), within each order's cap, budget and hours and its buyer's credit. Each sale is
//! the manual purchase's own (`store::purchases::take_sale` + `market::settle`), in its
//! own short transaction, so an order that cannot buy is passed over without undoing the
//! others. One transaction per sale, not one per allocation: two allocations that meet
//! the same orders in different turns would otherwise each hold one order's row and wait
//! for the other's, a deadlock PostgreSQL breaks by failing one sale. A sale locks its
//! order, then the lead, then the buyer's ledger, always in that order, so sales queue
//! instead. What the reads before it saw is checked again by the sale itself
//! (`take_order`'s cap and budget, `take_sale`, one purchase per lead and buyer).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::book::{Candidate, OrderRules};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::OrgStatus;
use crate::domain::catalogue::LeadFacts;
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::standing_order::{Allowance, DeliveryChannel, local_day, local_minute};
use crate::error::AppError;
use crate::services::market::{quote_for, rules, settle};
use crate::store;
use crate::store::allocation::AllocationLead;
use crate::store::deliveries::DeliveryRow;

/// How many orders bought each lead (leads no order took are absent).
pub type Sold = HashMap<String, usize>;

/// An order as one allocation sees it: its parsed rules and its counters, kept up to
/// date in memory as it buys.
struct Order {
    row: store::standing_orders::StandingOrderRow,
    /// Its parsed filter, zone and hours, from the order book.
    rules: Arc<OrderRules>,
    tz: chrono_tz::Tz,
    /// Within this call: when it last bought (round robin between leads of one call).
    served: Option<u64>,
    /// Its open offers' counters, as read (`store::pings::Held`).
    held: store::pings::Held,
}

impl Order {
    fn allowance(&self) -> Allowance<'_> {
        self.row.allowance()
    }
}

/// Allocates the accepted leads `lead_ids`, each sale in its own transaction (call it
/// after the intake's commit, outside any transaction). Without any active order this
/// is one cheap query.
pub fn allocate(
    conn: &mut AnyConnection,
    commission_bp: i64,
    lead_ids: &[String],
    now: NaiveDateTime,
) -> Result<Sold, AppError> {
    if lead_ids.is_empty() || !store::allocation::any_active(conn)? {
        return Ok(Sold::new());
    }
    allocate_in(conn, commission_bp, lead_ids, now)
}

/// [`allocate`] for intake's hooks: an allocation error is logged, never the intake's.
pub fn allocate_logged(
    conn: &mut AnyConnection,
    commission_bp: i64,
    lead_ids: &[String],
    now: NaiveDateTime,
) -> Sold {
    match allocate(conn, commission_bp, lead_ids, now) {
        Ok(sold) => sold,
        Err(e) => {
            tracing::error!(error = %e, leads = lead_ids.len(), "allocation to standing orders failed");
            Sold::new()
        }
    }
}

fn allocate_in(
    conn: &mut AnyConnection,
    commission_bp: i64,
    lead_ids: &[String],
    now: NaiveDateTime,
) -> Result<Sold, AppError> {
    let mut leads: Vec<AllocationLead> = store::allocation::leads(conn, lead_ids)?
        .into_iter()
        // Targeted leads belong to their order's buyer; suppressed and suspended never sell.
        .filter(|l| {
            l.sale.kind == LeadKind::Consumer
                && l.sale.status == LeadStatus::Available
                && l.sale.sales_count < l.sale.max_sales
                && !l.suppressed
                && l.agency_status == OrgStatus::Active
        })
        .collect();
    if leads.is_empty() {
        return Ok(Sold::new());
    }
    // In the caller's order (file order for a batch), so earlier leads are served first.
    leads.sort_by_key(|l| lead_ids.iter().position(|id| *id == l.sale.id));
    let rules = rules(conn)?;
    let mut segments: Vec<String> = leads
        .iter()
        .flat_map(|l| rules.tree.lineage_owned(&l.sale.segment))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    segments.sort();
    let mut countries: Vec<String> = leads
        .iter()
        .map(|l| l.sale.country.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    countries.sort();
    let prices: Vec<i64> = leads
        .iter()
        .map(|l| quote_for(&l.sale, &rules, 1, now).unit_cents)
        .collect();
    let facts: Vec<_> = leads.iter().map(AllocationLead::facts).collect();
    // Whether an order would buy a lead at its price, before its counters.
    let fits = |row: &store::standing_orders::StandingOrderRow,
                r: &OrderRules,
                f: &LeadFacts<'_>,
                price: i64| {
        row.max_price_cents >= price
            && r.filter.matches(f, &rules.tree, now)
            && r.hours.is_none_or(|h| h.contains(local_minute(now, r.tz)))
    };
    // Orders that want at least one of the leads; only their counters are read.
    let wants = |row: &store::standing_orders::StandingOrderRow, r: &OrderRules| {
        facts
            .iter()
            .zip(&prices)
            .any(|(f, &price)| fits(row, r, f, price))
    };
    let mut orders: Vec<Order> = super::book::candidates(conn, &segments, &countries, wants)?
        .into_iter()
        .map(order)
        .collect();
    if orders.is_empty() {
        return Ok(Sold::new());
    }
    count_held_offers(conn, &mut orders, now)?;
    let ids: Vec<String> = leads.iter().map(|l| l.sale.id.clone()).collect();
    let mut held: HashSet<(String, String)> = store::allocation::holders(conn, &ids)?
        .into_iter()
        .collect();
    let mut sold = Sold::new();
    let mut turn: u64 = 0;
    for ((lead, facts), &price) in leads.iter().zip(&facts).zip(&prices) {
        let mut eligible: Vec<usize> = (0..orders.len())
            .filter(|&i| {
                let o = &orders[i];
                fits(&o.row, &o.rules, facts, price)
                    && o.allowance().admits(local_day(now, o.tz), price)
                    && !held.contains(&(lead.sale.id.clone(), o.row.buyer_id.clone()))
            })
            .collect();
        eligible.sort_by(|&a, &b| {
            let (a, b) = (&orders[a], &orders[b]);
            // Highest ceiling; then served longest ago (never first: NULL sorts first
            // in `Option`), this call's own turns after any earlier call's; then id.
            b.row
                .max_price_cents
                .cmp(&a.row.max_price_cents)
                .then(a.served.is_some().cmp(&b.served.is_some()))
                .then(a.served.cmp(&b.served))
                .then(a.row.last_allocated_at.cmp(&b.row.last_allocated_at))
                .then(a.row.id.cmp(&b.row.id))
        });
        let mut left = (lead.sale.max_sales - lead.sale.sales_count).max(0) as usize;
        let mut buyers: HashSet<String> = HashSet::new();
        for i in eligible {
            if left == 0 {
                break;
            }
            let o = &orders[i];
            if buyers.contains(&o.row.buyer_id) {
                continue;
            }
            let today = local_day(now, o.tz).format("%Y-%m-%d").to_string();
            let attempt = |conn: &mut AnyConnection| {
                write_transaction(conn, |conn| {
                    sell(conn, commission_bp, o, lead, price, &today, now)
                })
            };
            // A deadlock victim's sale was rolled back whole: once more, it may well pass.
            let outcome = match attempt(conn) {
                Err(Refused::Failed(e)) if e.is_transient() => attempt(conn),
                outcome => outcome,
            };
            match outcome {
                Ok(()) => {
                    let o = &mut orders[i];
                    turn += 1;
                    o.served = Some(turn);
                    o.row.today_count = if o.row.cap_day.as_deref() == Some(today.as_str()) {
                        o.row.today_count + 1
                    } else {
                        1
                    };
                    o.row.cap_day = Some(today);
                    o.row.spent_cents += price;
                    o.row.last_allocated_at = Some(now);
                    buyers.insert(o.row.buyer_id.clone());
                    held.insert((lead.sale.id.clone(), o.row.buyer_id.clone()));
                    *sold.entry(lead.sale.id.clone()).or_default() += 1;
                    left -= 1;
                }
                // Someone else took the last sale (or the person was suppressed since).
                Err(Refused::SoldOut) => break,
                Err(Refused::Order) => {}
                Err(Refused::Failed(AppError::InsufficientCredit { .. })) => {
                    tracing::debug!(order = %o.row.id, "standing order's buyer is at its credit limit");
                }
                Err(Refused::Failed(AppError::Unsellable { .. })) => {}
                Err(Refused::Failed(e)) => {
                    tracing::warn!(order = %o.row.id, error = %e, "standing order could not buy; passed over");
                }
            }
        }
    }
    Ok(sold)
}

/// The offers an order holds from pings (`services::ping`) count against its cap and
/// budget as bought, until they are posted or expire: in memory, for this allocation's
/// checks. Its counters say what its offers marked open hold; the few of them past their
/// time are taken off (one query), and orders without cap or budget need no look.
fn count_held_offers(
    conn: &mut AnyConnection,
    orders: &mut [Order],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let limited: Vec<&str> = orders
        .iter()
        .filter(|o| {
            o.held.offers > 0 && (o.row.daily_cap.is_some() || o.row.budget_cents.is_some())
        })
        .map(|o| o.row.id.as_str())
        .collect();
    if limited.is_empty() {
        return Ok(());
    }
    let lapsed = store::pings::lapsed_by(conn, &limited, now)?;
    for o in orders.iter_mut() {
        if o.row.daily_cap.is_none() && o.row.budget_cents.is_none() {
            continue;
        }
        let held = o.held.less(lapsed.get(&o.row.id));
        if held.offers == 0 {
            continue;
        }
        let today = local_day(now, o.tz).format("%Y-%m-%d").to_string();
        if o.row.cap_day.as_deref() != Some(today.as_str()) {
            o.row.cap_day = Some(today);
            o.row.today_count = 0;
        }
        o.row.today_count = o.row.today_count.saturating_add(held.offers);
        o.row.spent_cents += held.cents;
    }
    Ok(())
}

/// An order's stored criteria as rules; an order whose filter or zone no longer parses
/// is passed over (and said so), never allowed to buy under a wider filter.
fn order(c: Candidate) -> Order {
    Order {
        row: c.order,
        tz: c.rules.tz,
        rules: c.rules,
        served: None,
        held: c.held,
    }
}

/// Why one order's sale was rolled back to its savepoint.
enum Refused {
    /// The lead has no sale left.
    SoldOut,
    /// The order's cap or budget was reached (by another process) or it was paused.
    Order,
    Failed(AppError),
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

/// One order's purchase of one lead: its counters, the sale, the ledger and purchase
/// row, and its deliveries, all or nothing.
fn sell(
    conn: &mut AnyConnection,
    commission_bp: i64,
    o: &Order,
    lead: &AllocationLead,
    price: i64,
    today: &str,
    now: NaiveDateTime,
) -> Result<(), Refused> {
    if !store::allocation::take_order(conn, &o.row.id, today, price, now)? {
        return Err(Refused::Order);
    }
    if !store::purchases::take_sale(conn, &lead.sale.id)? {
        return Err(Refused::SoldOut);
    }
    let (lines, _) = settle(
        conn,
        commission_bp,
        &o.row.buyer_id,
        &[(&lead.sale, price)],
        now,
        Some(&o.row.id),
    )
    .map_err(Refused::Failed)?;
    enqueue_deliveries(conn, &o.row, &lines, now)?;
    Ok(())
}

/// The outbox rows of an order's purchases, one per channel it delivers by, in the
/// purchase's transaction. Allocation and ping-post (`services::ping`) share it.
pub(crate) fn enqueue_deliveries(
    conn: &mut AnyConnection,
    order: &store::standing_orders::StandingOrderRow,
    lines: &[crate::services::market::PurchaseLine],
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    let mut deliveries = Vec::new();
    for line in lines {
        let channels = [
            (order.deliver_email.is_some(), DeliveryChannel::Email),
            (order.callback_url.is_some(), DeliveryChannel::Callback),
        ];
        for (wanted, channel) in channels {
            if wanted {
                deliveries.push(DeliveryRow::pending(
                    &order.id,
                    &line.id,
                    &line.lead_id,
                    &order.buyer_id,
                    channel,
                    now,
                ));
            }
        }
    }
    store::deliveries::enqueue(conn, &deliveries)
}
