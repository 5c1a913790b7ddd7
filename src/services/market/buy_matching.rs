//! Buying by filter: the leads are chosen and claimed inside the purchase's transaction, so
//! a lead another buyer holds is passed over; fills what it can.

use super::pricing::{quote_for, rules, tier_bp};
use super::purchase::{PurchaseLine, settle};
use crate::db::{AnyConnection, Held, write_transaction};
use crate::domain::catalogue::Sort;
use crate::error::AppError;
use crate::store;
use crate::store::purchases::SaleFacts;

/// Buys up to `quantity` leads matching a catalogue filter at `max_price_cents` or less
/// each, the first in the catalogue's order `sort` (what the buyer was shown), and returns what was bought (possibly fewer than asked; 409
/// `nothing_available` when none). The leads are chosen and claimed inside the purchase's
/// transaction (`store::catalogue::claim_first`), so a lead another buyer holds is
/// passed over, never a reason to fail.
pub fn buy_matching(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    sort: Sort,
    quantity: i64,
    max_price_cents: i64,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    if !(1..=1000).contains(&quantity) {
        return Err(AppError::invalid("quantity", "must be from 1 to 1000"));
    }
    if max_price_cents < 0 {
        return Err(AppError::invalid("max_price_cents", "must be 0 or more"));
    }
    // Claimed leads that could not be sold after all (on PostgreSQL, a suppression or
    // this buyer's own concurrent purchase committed in between): left out next time.
    let mut refused: Vec<String> = Vec::new();
    for _attempt in 0..3 {
        let result = write_transaction(conn, |conn| {
            buy_matching_once(
                conn,
                commission_bp,
                buyer_id,
                filter,
                sort,
                quantity,
                max_price_cents,
                &refused,
            )
        });
        match result {
            Ok(bought) => return Ok(bought),
            Err(Attempt::Refused(ids)) => refused.extend(ids),
            // Rolled back whole by PostgreSQL: nothing was bought, so choose again.
            Err(Attempt::Failed(e)) if e.is_transient() => {
                tracing::info!("filter purchase rolled back by the database; trying again");
            }
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(AppError::Conflict {
        code: "nothing_available",
        message: "other buyers took the matching leads first; try again".into(),
    })
}

/// How one filter purchase's transaction ended when it did not commit.
enum Attempt {
    /// These claimed leads could not be sold: roll back and choose again without them.
    Refused(Vec<String>),
    Failed(AppError),
}

impl From<diesel::result::Error> for Attempt {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl From<AppError> for Attempt {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one attempt of buy_matching, with its inputs and what was refused"
)]
fn buy_matching_once(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    sort: Sort,
    quantity: i64,
    max_price_cents: i64,
    refused: &[String],
) -> Result<(Vec<PurchaseLine>, i64), Attempt> {
    let now = store::now();
    let rules = rules(conn)?;
    // The stored list price (one lead) narrows the search, widened by this quantity's
    // discount tier; the exact quote below decides.
    let list_cap = max_price_cents.saturating_mul(10_000) / tier_bp(&rules, quantity) + 1;
    let mut filter = filter.clone();
    filter.max_price_cents = Some(filter.max_price_cents.map_or(list_cap, |p| p.min(list_cap)));
    let scope = store::catalogue::scope(conn, &filter, &rules.tree)?;
    // Claim only as many as are still wanted, so other buyers are not kept from leads
    // this one would not buy; a claimed lead over the price is passed and the next tried.
    let mut passed: Vec<String> = refused.to_vec();
    let mut candidates: Vec<SaleFacts> = Vec::new();
    let mut held = Held::Skip;
    loop {
        let wanted = quantity - candidates.len() as i64;
        let ids = store::catalogue::claim_first(
            conn, buyer_id, &filter, sort, &scope, &passed, wanted, held, now,
        )?;
        let claimed_before = passed.len() > refused.len();
        let mut facts = store::purchases::sale_facts(conn, &ids)?;
        facts.sort_by_key(|f| ids.iter().position(|id| *id == f.id));
        for f in facts {
            passed.push(f.id.clone());
            if quote_for(&f, &rules, quantity, now).unit_cents <= max_price_cents {
                candidates.push(f);
            }
        }
        if candidates.len() as i64 >= quantity {
            break;
        }
        if (ids.len() as i64) < wanted {
            // Leads other purchases hold were passed over, and a shared one may have a
            // sale left once they commit. With nothing claimed yet, wait for them rather
            // than refuse: holding no lead, this wait cannot close a deadlock.
            if held == Held::Skip && !claimed_before && ids.is_empty() {
                held = Held::Wait;
                continue;
            }
            break;
        }
    }
    // Fewer than asked are priced at their own (smaller) quantity's tier, which may put
    // some over the cap: drop those until every price holds.
    let mut count = candidates.len();
    let priced: Vec<(&SaleFacts, i64)> = loop {
        let priced: Vec<(&SaleFacts, i64)> = candidates
            .iter()
            .map(|f| (f, quote_for(f, &rules, count as i64, now).unit_cents))
            .filter(|(_, price)| *price <= max_price_cents)
            .take(count)
            .collect();
        if priced.len() == count {
            break priced;
        }
        count = priced.len();
    };
    if priced.is_empty() {
        return Err(AppError::Conflict {
            code: "nothing_available",
            message: "no lead matches this filter at or under that price".into(),
        }
        .into());
    }
    for (f, _) in &priced {
        // The same checked UPDATE an id purchase takes (sales left, not suppressed).
        if !store::purchases::take_sale(conn, &f.id)? {
            return Err(Attempt::Refused(vec![f.id.clone()]));
        }
    }
    match settle(conn, commission_bp, buyer_id, &priced, now, None) {
        // This buyer's own concurrent purchase took one of them: choose again without.
        Err(AppError::Unsellable { details, .. }) => Err(Attempt::Refused(
            details.into_iter().map(|d| d.field).collect(),
        )),
        other => Ok(other?),
    }
}
