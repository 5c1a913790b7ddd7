//! The funnel, buyers' outcomes and the platform's daily figures, and the job that keeps
//! the funnel's rollup up to date.
//!
//! A funnel read never scans leads: the rollup holds one row per batch and lead segment,
//! channel and warmth, recounted by [`refresh`] for the batches that changed since the last
//! run (new leads, sales, actions). Any `serve` process may run it; a lease in
//! `funnel_refresh` lets one at a time.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::db::{AnyConnection, write_transaction};
use crate::domain::funnel::{self, BatchFacts, Funnel, GroupBy, Outcome, PlatformDay, Range};
use crate::error::AppError;
use crate::store;
use crate::store::funnel::BatchLine;

/// How long a refresh may hold the lease before another process takes over.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// A sale is stamped when its transaction starts and seen once it commits: each run looks
/// this far back before the last one, so a slow commit is still counted.
const OVERLAP: TimeDelta = TimeDelta::minutes(2);

/// Brings the rollup up to date. Returns how many batches were recounted, or `None` when
/// another process holds the lease.
pub fn refresh(conn: &mut AnyConnection, worker: &str) -> Result<Option<usize>, AppError> {
    let now = store::now();
    let claimed = write_transaction(conn, |c| {
        store::funnel::claim_refresh(c, worker, now, LEASE)
    })?;
    let Some(since) = claimed else {
        return Ok(None);
    };
    let changed = store::funnel::changed_batches(conn, since.map(|s| s - OVERLAP))?;
    for batch_id in &changed {
        // Counted outside the write lock; replaced in one short transaction.
        let rows = store::funnel::count_batch(conn, batch_id)?;
        write_transaction(conn, |c| store::funnel::replace_counts(c, batch_id, &rows))?;
    }
    write_transaction(conn, |c| store::funnel::finish_refresh(c, worker, now))?;
    Ok(Some(changed.len()))
}

/// Whose funnel: one agency's, or the platform's (every agency, or one an admin picked).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Agency(&'a str),
    Platform { agency: Option<&'a str> },
}

impl Scope<'_> {
    fn agency(&self) -> Option<&str> {
        match self {
            Scope::Agency(a) => Some(a),
            Scope::Platform { agency } => *agency,
        }
    }
}

pub struct FunnelReport {
    pub funnel: Funnel,
    /// The batches of the range, for the labels of batch groups.
    pub batches: Vec<BatchLine>,
    /// How far the rollup had taken in sales and actions; `None` before its first run.
    pub as_of: Option<NaiveDateTime>,
}

pub fn funnel(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    range: Range,
    group_by: GroupBy,
) -> Result<FunnelReport, AppError> {
    let (start, end) = range.bounds();
    let agency = scope.agency();
    let batches = store::funnel::batches_in(conn, agency, start, end)?;
    let rows = store::funnel::counts_in(conn, agency, start, end)?;
    let facts: Vec<BatchFacts> = batches
        .iter()
        .map(|b| BatchFacts {
            id: b.id.clone(),
            day: b.created_at.date(),
            traffic: b.traffic,
            received: b.received(),
        })
        .collect();
    Ok(FunnelReport {
        funnel: funnel::build(&facts, &rows, group_by, Some(range.days())),
        batches,
        as_of: store::funnel::refreshed_to(conn)?,
    })
}

pub struct BuyerOutcomes {
    /// By agency id, biggest spend first.
    pub by_agency: Vec<(String, Outcome)>,
    /// By segment slug, biggest spend first.
    pub by_segment: Vec<(String, Outcome)>,
    pub total: Outcome,
}

/// What the buyer's purchases in the range came to, by agency and by segment; `agency`
/// narrows them to one agency's leads.
pub fn buyer_outcomes(
    conn: &mut AnyConnection,
    buyer_id: &str,
    range: Range,
    agency: Option<&str>,
) -> Result<BuyerOutcomes, AppError> {
    let (start, end) = range.bounds();
    let rows: Vec<_> = store::funnel::buyer_outcomes(conn, buyer_id, start, end)?
        .into_iter()
        .filter(|r| agency.is_none_or(|a| r.agency_id == a))
        .map(|r| {
            let o = Outcome {
                bought: r.bought,
                lead_spend_cents: r.lead_spend_cents,
                actions: r.actions,
                action_spend_cents: r.action_spend_cents,
                disputes: r.disputes,
                returns: r.returns,
            };
            (r.agency_id, r.segment, o)
        })
        .collect();
    let mut total = Outcome::default();
    for (_, _, o) in &rows {
        total.add(o);
    }
    Ok(BuyerOutcomes {
        by_agency: funnel::outcomes_by(rows.iter().map(|(a, _, o)| (a.clone(), *o))),
        by_segment: funnel::outcomes_by(rows.iter().map(|(_, s, o)| (s.clone(), *o))),
        total,
    })
}

/// The platform's sales, revenue and returns for every day of the range, in order.
pub fn platform_days(
    conn: &mut AnyConnection,
    range: Range,
) -> Result<Vec<(NaiveDate, PlatformDay)>, AppError> {
    let (start, end) = range.bounds();
    let mut days: BTreeMap<NaiveDate, PlatformDay> = range
        .from
        .iter_days()
        .take_while(|d| *d <= range.to)
        .map(|d| (d, PlatformDay::default()))
        .collect();
    let day = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok();
    for r in store::funnel::platform_days(conn, start, end)? {
        if let Some(d) = day(&r.day).and_then(|d| days.get_mut(&d)) {
            d.sales += r.sales;
            d.gross_cents += r.gross_cents;
            d.revenue_cents += r.commission_cents;
            d.returns += r.returns;
        }
    }
    for (s, commission) in store::funnel::action_commission_days(conn, start, end)? {
        if let Some(d) = day(&s).and_then(|d| days.get_mut(&d)) {
            d.revenue_cents += commission;
        }
    }
    Ok(days.into_iter().collect())
}
