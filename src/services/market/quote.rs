//! What a purchase would cost, before the buyer confirms it: the leads, each at the price
//! it would be bought at (the quantity discount included), how each is billed, and the
//! total. Reads only; the purchase itself checks and prices again.

use super::pricing::{quote_for, rules, tier_bp};
use crate::db::AnyConnection;
use crate::domain::catalogue::{Filter, Sort};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::market::BillingModel;
use crate::domain::pricing::PriceRules;
use crate::error::AppError;
use crate::store;
use crate::store::purchases::SaleFacts;

/// One lead of a quote.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteLine {
    pub lead_id: String,
    pub segment: String,
    pub warmth: String,
    /// The price it would be bought at, in this purchase.
    pub unit_cents: i64,
    /// Its price bought alone (the catalogue's price).
    pub list_cents: i64,
    pub billing: BillingModel,
    /// Per reported action, for per-action leads.
    pub action_price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseQuote {
    pub lines: Vec<QuoteLine>,
    pub total_cents: i64,
    /// What the same leads cost bought one by one (the total before the discount).
    pub list_total_cents: i64,
    /// The quantity tier's factor in basis points (10,000: no discount).
    pub discount_bp: i64,
    /// Ticked leads that cannot be bought any more (sold out, withdrawn, not in the open
    /// catalogue).
    pub unavailable: usize,
}

/// Quotes buying exactly `lead_ids` (the ticked leads).
pub fn quote_leads(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_ids: &[String],
) -> Result<PurchaseQuote, AppError> {
    let mut ids: Vec<String> = lead_ids.iter().map(|s| s.trim().to_string()).collect();
    ids.sort();
    ids.dedup();
    let checked = store::purchases::purchase_facts(conn, buyer_id, &ids)?;
    // Only what the open catalogue would show this buyer is quoted; the purchase names
    // the others' reasons.
    let open: Vec<SaleFacts> = checked
        .into_iter()
        .filter(|c| {
            !c.bought
                && !c.suppressed
                && !c.agency_suspended()
                && c.sale.kind == LeadKind::Consumer
                && c.sale.status == LeadStatus::Available
                && c.sale.sales_count < c.sale.max_sales
        })
        .map(|c| c.sale)
        .collect();
    let rules = rules(conn)?;
    let quantity = ids.len() as i64;
    let unavailable = ids.len() - open.len();
    let mut quote = priced(conn, &rules, &open, quantity)?;
    quote.unavailable = unavailable;
    Ok(quote)
}

/// Quotes "buy the first `quantity` at most `max_price_cents` each" the way
/// `buy_matching` would choose them (the same order `sort`, the same tier rule), without
/// claiming any lead.
pub fn quote_matching(
    conn: &mut AnyConnection,
    buyer_id: &str,
    filter: &Filter,
    sort: Sort,
    quantity: i64,
    max_price_cents: i64,
) -> Result<PurchaseQuote, AppError> {
    let now = store::now();
    let rules = rules(conn)?;
    let list_cap = max_price_cents.saturating_mul(10_000) / tier_bp(&rules, quantity) + 1;
    let mut filter = filter.clone();
    filter.max_price_cents = Some(filter.max_price_cents.map_or(list_cap, |p| p.min(list_cap)));
    let scope = store::catalogue::scope(conn, &filter, &rules.tree)?;
    let mut passed: Vec<String> = Vec::new();
    let mut candidates: Vec<SaleFacts> = Vec::new();
    loop {
        let wanted = quantity - candidates.len() as i64;
        let ids = store::catalogue::first_ids(
            conn, buyer_id, &filter, sort, &scope, &passed, wanted, now,
        )?;
        let mut facts = store::purchases::sale_facts(conn, &ids)?;
        facts.sort_by_key(|f| ids.iter().position(|id| *id == f.id));
        for f in facts {
            passed.push(f.id.clone());
            if quote_for(&f, &rules, quantity, now).unit_cents <= max_price_cents {
                candidates.push(f);
            }
        }
        if candidates.len() as i64 >= quantity || (ids.len() as i64) < wanted {
            break;
        }
    }
    // As the purchase does: fewer than asked take their own (smaller) tier.
    let mut count = candidates.len();
    let chosen: Vec<SaleFacts> = loop {
        let kept: Vec<SaleFacts> = candidates
            .iter()
            .filter(|f| quote_for(f, &rules, count as i64, now).unit_cents <= max_price_cents)
            .take(count)
            .cloned()
            .collect();
        if kept.len() == count {
            break kept;
        }
        count = kept.len();
    };
    priced(conn, &rules, &chosen, chosen.len() as i64)
}

fn priced(
    conn: &mut AnyConnection,
    rules: &PriceRules,
    facts: &[SaleFacts],
    quantity: i64,
) -> Result<PurchaseQuote, AppError> {
    let now = store::now();
    let batch_ids: Vec<&String> = facts.iter().map(|f| &f.batch_id).collect();
    let terms = store::catalogue::billing_terms(conn, &batch_ids)?;
    let lines: Vec<QuoteLine> = facts
        .iter()
        .map(|f| {
            let (billing, action_price_cents) = billing_of(terms.get(&f.batch_id));
            QuoteLine {
                lead_id: f.id.clone(),
                segment: f.segment.clone(),
                warmth: f.warmth.clone(),
                unit_cents: quote_for(f, rules, quantity, now).unit_cents,
                list_cents: quote_for(f, rules, 1, now).unit_cents,
                billing,
                action_price_cents,
            }
        })
        .collect();
    Ok(PurchaseQuote {
        total_cents: lines.iter().map(|l| l.unit_cents).sum(),
        list_total_cents: lines.iter().map(|l| l.list_cents).sum(),
        discount_bp: tier_bp(rules, quantity),
        unavailable: 0,
        lines,
    })
}

/// A batch's stored billing terms as the model and, per action, its price. Intake only
/// stores the two models; anything else reads as per lead.
pub(super) fn billing_of(terms: Option<&(String, Option<i64>)>) -> (BillingModel, Option<i64>) {
    match terms {
        Some((model, price)) if model == BillingModel::PerAction.as_str() => {
            (BillingModel::PerAction, Some(price.unwrap_or(0)))
        }
        _ => (BillingModel::PerLead, None),
    }
}
