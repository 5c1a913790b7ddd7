//! Buying named leads: all or nothing, in one transaction (sales counts, the unique
//! lead/buyer rule, targeted leads to their order's buyer only, the credit check and the
//! ledger), and the settlement a filter purchase shares.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::pricing::{quote_for, rules};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::money::{self, commission};
use crate::error::{AppError, FieldProblem};
use crate::store;
use crate::store::purchases::{PurchaseFacts, PurchaseRow, SaleFacts};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PurchaseLine {
    pub id: String,
    pub lead_id: String,
    pub price_cents: i64,
}

pub(super) fn unsellable(details: Vec<FieldProblem>) -> AppError {
    let ids: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
    AppError::Unsellable {
        message: format!("these leads cannot be sold to you: {}", ids.join(", ")),
        details,
    }
}

/// Buys all of `lead_ids` or none. `expected_total_cents`, when given, must equal the
/// total now (the buyer pays exactly what it was shown).
pub fn buy(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    lead_ids: &[String],
    expected_total_cents: Option<i64>,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    let mut ids: Vec<String> = lead_ids.iter().map(|s| s.trim().to_string()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid("lead_ids", "name at least one lead"));
    }
    if ids.len() > 1000 {
        return Err(AppError::invalid(
            "lead_ids",
            "buy at most 1000 leads at once",
        ));
    }
    write_transaction(conn, |conn| {
        let now = store::now();
        let checked = store::purchases::purchase_facts(conn, buyer_id, &ids)?;
        let by_id: HashMap<&str, &PurchaseFacts> =
            checked.iter().map(|c| (c.sale.id.as_str(), c)).collect();
        let batch_ids: Vec<String> = checked
            .iter()
            .filter(|c| c.sale.kind == LeadKind::Targeted)
            .map(|c| c.sale.batch_id.clone())
            .collect();
        // Most purchases are of consumer leads: no orders to look up.
        let targeted = if batch_ids.is_empty() {
            HashMap::new()
        } else {
            store::purchases::targeted_buyers(conn, &batch_ids)?
        };
        let mut problems = Vec::new();
        for id in &ids {
            let reason = match by_id.get(id.as_str()) {
                None => Some("no such lead"),
                Some(c) if c.bought => Some("you bought this lead already"),
                Some(c)
                    if c.sale.kind == LeadKind::Targeted
                        && targeted.get(&c.sale.batch_id).map(String::as_str) != Some(buyer_id) =>
                {
                    Some("no such lead")
                }
                Some(c) if c.suppressed => {
                    Some("no longer on sale: the person asked not to be contacted")
                }
                Some(c) if c.agency_suspended() => Some("its agency's listings are suspended"),
                Some(c)
                    if c.sale.status != LeadStatus::Available
                        || c.sale.sales_count >= c.sale.max_sales =>
                {
                    Some("sold out")
                }
                _ => None,
            };
            if let Some(r) = reason {
                problems.push(FieldProblem::new(id.clone(), r));
            }
        }
        if !problems.is_empty() {
            return Err(unsellable(problems));
        }
        let rules = rules(conn)?;
        let quantity = ids.len() as i64;
        let priced: Vec<(&SaleFacts, i64)> = ids
            .iter()
            .map(|id| {
                let f = &by_id[id.as_str()].sale;
                (f, quote_for(f, &rules, quantity, now).unit_cents)
            })
            .collect();
        let total: i64 = priced.iter().map(|(_, p)| p).sum();
        if let Some(expected) = expected_total_cents
            && expected != total
        {
            return Err(AppError::Conflict {
                code: "price_changed",
                message: format!(
                    "the total is now {total} minor units, not {expected}; check the prices and buy again"
                ),
            });
        }
        // Sorted ids: every purchase locks leads in the same order, so none deadlock.
        for (f, _) in &priced {
            if !store::purchases::take_sale(conn, &f.id)? {
                return Err(unsellable(vec![FieldProblem::new(
                    f.id.clone(),
                    "sold out",
                )]));
            }
        }
        settle(conn, commission_bp, buyer_id, &priced, now, None)
    })
}

/// The rest of a purchase once its sales are taken (`store::purchases::take_sale`), in the
/// caller's transaction: the ledger, the purchase rows (the unique lead/buyer rule) and
/// the credit check. Manual purchases and standing orders (`standing_order_id`, stored on
/// the purchase) share it, so both keep the same invariants.
pub(crate) fn settle(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    priced: &[(&SaleFacts, i64)],
    now: NaiveDateTime,
    standing_order_id: Option<&str>,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    let total: i64 = priced.iter().map(|(_, p)| p).sum();
    let lines: Vec<(String, i64, i64)> = priced
        .iter()
        .map(|(f, price)| {
            (
                f.agency_id.clone(),
                *price,
                commission(*price, commission_bp),
            )
        })
        .collect();
    let postings = money::sale_postings(buyer_id, &lines)
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let tx_id = store::ledger::post(
        conn,
        crate::domain::ledger::TransactionKind::Purchase,
        &format!("{} lead(s) bought", priced.len()),
        &postings,
    )?;
    let rows: Vec<PurchaseRow> = priced
        .iter()
        .zip(&lines)
        .map(|((f, price), (_, _, commission))| PurchaseRow {
            id: store::new_id(),
            lead_id: f.id.clone(),
            buyer_id: buyer_id.to_string(),
            agency_id: f.agency_id.clone(),
            price_cents: *price,
            commission_cents: *commission,
            transaction_id: tx_id.clone(),
            created_at: now,
            standing_order_id: standing_order_id.map(str::to_string),
        })
        .collect();
    match store::purchases::insert(conn, &rows) {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            return Err(unsellable(
                rows.iter()
                    .map(|r| FieldProblem::new(r.lead_id.clone(), "you bought this lead already"))
                    .collect(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if !store::credit::charge_within_limit(conn, buyer_id, total)? {
        let (limit, owed) = store::credit::buyer_account(conn, buyer_id)?;
        return Err(AppError::InsufficientCredit {
            available_cents: (limit - owed).max(0),
            needed_cents: total,
        });
    }
    let out = rows
        .into_iter()
        .map(|r| PurchaseLine {
            id: r.id,
            lead_id: r.lead_id,
            price_cents: r.price_cents,
        })
        .collect();
    Ok((out, total))
}
