//! `POST /leads` with `ping_id`: the full lead goes through intake as any real-time lead
//! (invalid, duplicate and suppressed are refused the same way), and, in the same
//! transaction, is sold to the ping's winner alone at the quoted price through the
//! purchase path of allocation (the order's counters, the sale, `market::settle`, the
//! deliveries outbox). A lead that no longer fits what was pinged is refused (422) and
//! not kept; the offer is used once.

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::intake::Header;
use crate::domain::intake::csv_file::RawRecord;
use crate::domain::ping::{PingStatus, Pinged, changed_fields};
use crate::domain::problem::FieldProblem;
use crate::domain::standing_order::{local_day, parse_time_zone};
use crate::error::AppError;
use crate::services::intake::{self, IntakeSettings, RowOutcome};
use crate::services::market::settle;
use crate::services::standing_orders::allocate::enqueue_deliveries;
use crate::store;
use crate::store::batches::BatchRow;
use crate::store::pings::PingRow;

/// What a post against a ping became.
#[derive(Debug)]
pub enum Posted {
    /// Accepted and sold to the winner at `price_cents`.
    Sold {
        lead_id: String,
        score: i32,
        price_cents: i64,
    },
    /// Refused by intake as it would be without a ping: the offer still holds.
    Refused(RowOutcome),
}

fn used() -> AppError {
    AppError::Conflict {
        code: "ping_used",
        message: "this ping's offer was used already: ping again for another lead".into(),
    }
}

fn expired() -> AppError {
    AppError::Conflict {
        code: "ping_expired",
        message: "this ping's offer has expired (it holds 60 seconds): ping again".into(),
    }
}

/// The ping of `agency_id` by id, if it still holds an offer at `now` (404 when it is not
/// the agency's; 409 `ping_used`, `ping_expired`, or `no_offer` when it made none).
pub fn open_ping(
    conn: &mut AnyConnection,
    agency_id: &str,
    ping_id: &str,
    now: NaiveDateTime,
) -> Result<PingRow, AppError> {
    if uuid::Uuid::parse_str(ping_id).is_err() {
        return Err(AppError::NotFound);
    }
    let ping =
        store::pings::find_for_agency(conn, agency_id, ping_id)?.ok_or(AppError::NotFound)?;
    match ping.status.at(ping.expires_at, now) {
        PingStatus::Open => Ok(ping),
        PingStatus::Posted => Err(used()),
        PingStatus::Expired => {
            // Marked expired with the winner's other lapsed offers, off its counters.
            if let Some(order_id) = &ping.winner_order_id {
                write_transaction(conn, |conn| {
                    store::pings::lock_order(conn, order_id)?;
                    store::pings::sweep(conn, order_id, now)
                })?;
            }
            Err(expired())
        }
        PingStatus::NoOffer => Err(AppError::Conflict {
            code: "no_offer",
            message: "no order bid on this ping: post the lead without `ping_id`".into(),
        }),
    }
}

/// Intake and sale of the posted lead, all in one transaction (see the module), checked
/// against `reference` (`services::known`).
#[expect(
    clippy::too_many_arguments,
    reason = "the real-time intake's inputs and the ping"
)]
pub fn post(
    conn: &mut AnyConnection,
    settings: &IntakeSettings,
    commission_bp: i64,
    ping: &PingRow,
    batch: &BatchRow,
    header: &Header,
    reference: &intake::Reference,
    rows: &[(i32, RawRecord)],
    now: NaiveDateTime,
) -> Result<Posted, AppError> {
    write_transaction(conn, |conn| {
        let (_, mut outcomes) =
            intake::process_chunk(conn, settings, batch, header, reference, rows, now)?;
        let outcome = outcomes.pop().expect("one row, one outcome");
        let RowOutcome::Accepted { lead_id, score, .. } = &outcome else {
            return Ok(Posted::Refused(outcome));
        };
        let lead = store::allocation::leads(conn, std::slice::from_ref(lead_id))?
            .pop()
            .ok_or(AppError::NotFound)?;
        let pinged = Pinged {
            segment: &ping.segment,
            country: &ping.country,
            region: ping.region.as_deref(),
            postal_key: ping.postal_key.as_deref(),
            age: ping.age,
            income_cents: ping.income_cents,
            warmth: &ping.warmth,
            contact_type: &ping.contact_type,
            verified: ping.verified,
            captured_at: ping.captured_at,
        };
        let posted = Pinged {
            segment: &lead.sale.segment,
            country: &lead.sale.country,
            region: lead.region.as_deref(),
            postal_key: lead.postal_key.as_deref(),
            age: lead.age,
            income_cents: lead.income_cents,
            warmth: &lead.sale.warmth,
            contact_type: &lead.contact_type,
            verified: lead.verified,
            captured_at: lead.sale.captured_at,
        };
        let changed = changed_fields(&pinged, &posted);
        if !changed.is_empty() {
            return Err(AppError::Validation(
                changed
                    .into_iter()
                    .map(|f| FieldProblem::new(f, "differs from what was pinged; ping again"))
                    .collect(),
            ));
        }
        let (Some(order_id), Some(price)) = (&ping.winner_order_id, ping.price_cents) else {
            return Err(expired());
        };
        // The order's row first, as an auction takes it: its offers change status only
        // under it, so its counters of open offers stay right.
        store::pings::lock_order(conn, order_id)?;
        if !store::pings::mark_posted(conn, &ping.id, lead_id, now)? {
            // Another post took it (or it ran out) since `open_ping` looked.
            return Err(
                match store::pings::find(conn, &ping.id)?.map(|p| p.status) {
                    Some(PingStatus::Posted) => used(),
                    _ => expired(),
                },
            );
        }
        store::pings::release(conn, order_id, price)?;
        let order = store::standing_orders::find(conn, order_id)?;
        let tz = parse_time_zone(&store::organisations::time_zone(conn, &order.buyer_id)?)
            .unwrap_or(chrono_tz::UTC);
        let today = local_day(now, tz).format("%Y-%m-%d").to_string();
        let withdrawn = || {
            AppError::Conflict {
            code: "offer_withdrawn",
            message: "the order that bid can no longer buy (paused, or its buyer's credit is used up): ping again".into(),
        }
        };
        // Its own offer held the cap and budget until now: the offer becomes the count.
        if !store::allocation::take_order(conn, &order.id, &today, price, now)? {
            return Err(withdrawn());
        }
        store::leads::make_exclusive(conn, lead_id)?;
        if !store::purchases::take_sale(conn, lead_id)? {
            return Err(withdrawn());
        }
        let mut sale = lead.sale.clone();
        sale.max_sales = sale.sales_count + 1;
        let (lines, _) = match settle(
            conn,
            commission_bp,
            &order.buyer_id,
            &[(&sale, price)],
            now,
            Some(&order.id),
        ) {
            Ok(done) => done,
            Err(AppError::InsufficientCredit { .. }) => return Err(withdrawn()),
            Err(e) => return Err(e),
        };
        enqueue_deliveries(conn, &order, &lines, now)?;
        Ok(Posted::Sold {
            lead_id: lead_id.clone(),
            score: *score,
            price_cents: price,
        })
    })
}
