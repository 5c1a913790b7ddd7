//! Prices: the rules, a lead's quote and list price, the daily repricing and tuning a rule.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::market::PriceRuleKind;
use crate::domain::pricing::{self, PriceFacts, PriceRules, Quote};
use crate::error::{AppError, FieldProblem};
use crate::services;
use crate::store;
use crate::store::purchases::SaleFacts;

/// The price rules with the segment tree, as this process keeps them (`services::known`).
pub fn rules(conn: &mut AnyConnection) -> Result<std::sync::Arc<PriceRules>, AppError> {
    Ok(services::known::known(conn)?.rules.clone())
}

pub fn quote_for(
    facts: &SaleFacts,
    rules: &PriceRules,
    quantity: i64,
    now: NaiveDateTime,
) -> Quote {
    pricing::quote(
        &PriceFacts {
            base_cents: facts.base_cents,
            warmth: &facts.warmth,
            max_sales: facts.max_sales,
            segment: &facts.segment,
            country: &facts.country,
            captured_at: facts.captured_at,
        },
        rules,
        quantity,
        now,
    )
}

/// A new lead's unit price today (its stored list price), from its batch's base price.
pub fn list_price(
    lead: &store::leads::NewLeadRow,
    base_cents: i64,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> i64 {
    pricing::quote(
        &PriceFacts {
            base_cents,
            warmth: lead.warmth.as_str(),
            max_sales: lead.max_sales,
            segment: &lead.segment,
            country: &lead.country,
            captured_at: lead.captured_at,
        },
        rules,
        1,
        now,
    )
    .unit_cents
}

/// The quantity discount for buying `quantity` at once, in basis points (10,000 = none).
pub(super) fn tier_bp(rules: &PriceRules, quantity: i64) -> i64 {
    rules
        .quantity
        .iter()
        .filter(|(min, _)| quantity >= *min)
        .max_by_key(|(min, _)| *min)
        .map_or(10_000, |(_, bp)| (*bp).clamp(1, 10_000))
}

/// Brings every open lead's stored list price up to date with `rules` as of `now`, in
/// chunks (each its own short transaction, so intake and purchases keep going).
/// Returns how many prices changed.
pub fn reprice(
    conn: &mut AnyConnection,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut after = String::new();
    let mut changed = 0;
    loop {
        // Small chunks: each is a short write transaction that purchases can slip between.
        let chunk = store::pricing::chunk(conn, &after, 1000)?;
        let Some((last, _)) = chunk.last() else {
            crate::services::planner_stats::after_repricing(conn, changed);
            return Ok(changed);
        };
        after = last.id.clone();
        let mut by_price: HashMap<i64, Vec<String>> = HashMap::new();
        for (facts, stored) in chunk {
            let price = quote_for(&facts, rules, 1, now).unit_cents;
            if price != stored {
                by_price.entry(price).or_default().push(facts.id);
            }
        }
        changed += write_transaction(conn, |conn| -> Result<usize, AppError> {
            let mut n = 0;
            for (price, ids) in &by_price {
                n += store::pricing::set_list_prices(conn, *price, ids)?;
            }
            Ok(n)
        })?;
    }
}

/// Reprices once a day (freshness decays by the day): the first process to claim the
/// new day does it. `None` when another process has it, or it was done today.
pub fn reprice_if_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Option<usize>, AppError> {
    let today = now.date();
    if !store::pricing::claim_repricing(conn, today)? {
        return Ok(None);
    }
    let result = rules(conn).and_then(|rules| reprice(conn, &rules, now));
    if result.is_err() {
        // Let the next pass (here or in another process) try again.
        let _ = store::pricing::set_priced_on(conn, today.pred_opt().unwrap_or(today));
    }
    result.map(Some)
}

/// Sets or removes (`factor` empty) a price rule, as the admin tunes them. `factor` is a
/// multiplier such as `1.15`; stored in basis points. A change is audited with its
/// before and after.
pub fn tune_price_rule(
    conn: &mut AnyConnection,
    who: &Who,
    kind: &str,
    match_value: &str,
    factor: &str,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    // `None` (an unknown kind) is a problem; its other checks run as for a plain rule.
    let kind: Option<PriceRuleKind> = kind.parse().ok();
    if kind.is_none() {
        let kinds: Vec<&str> = PriceRuleKind::ALL
            .iter()
            .map(PriceRuleKind::as_str)
            .collect();
        problems.push(FieldProblem::new(
            "kind",
            format!("must be one of {}", kinds.join(", ")),
        ));
    }
    let match_value = match kind {
        Some(PriceRuleKind::Exclusive) => "1".to_string(),
        Some(PriceRuleKind::FreshnessPerDay | PriceRuleKind::FreshnessFloor) => String::new(),
        Some(PriceRuleKind::Country) => match_value.trim().to_ascii_uppercase(),
        _ => match_value.trim().to_string(),
    };
    match kind {
        Some(PriceRuleKind::Warmth) if !matches!(match_value.as_str(), "cold" | "warm" | "hot") => {
            problems.push(FieldProblem::new(
                "match_value",
                "a warmth rule matches cold, warm or hot",
            ))
        }
        Some(PriceRuleKind::Segment | PriceRuleKind::Country) if match_value.is_empty() => problems
            .push(FieldProblem::new(
                "match_value",
                "name the segment or country",
            )),
        Some(PriceRuleKind::Quantity) if match_value.parse::<u32>().map_or(true, |q| q < 2) => {
            problems.push(FieldProblem::new(
                "match_value",
                "a quantity tier starts at a whole number of 2 or more",
            ))
        }
        _ => {}
    }
    let factor = factor.trim();
    let factor_bp = if factor.is_empty() {
        None
    } else {
        // Freshness per day is a loss per day (0.02 = 2%); the others are multipliers.
        match factor.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 && f <= 10.0 => Some((f * 10_000.0).round() as i32),
            _ => {
                problems.push(FieldProblem::new(
                    "factor",
                    "must be a number above 0 and at most 10, such as 1.15",
                ));
                None
            }
        }
    };
    let (Some(kind), true) = (kind, problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    write_transaction(conn, |conn| -> Result<(), AppError> {
        let before = store::pricing::price_rules(conn)?
            .into_iter()
            .find(|(k, v, _)| *k == kind && *v == match_value)
            .map(|(_, _, bp)| bp);
        match factor_bp {
            Some(bp) => store::pricing::set_price_rule(conn, kind, &match_value, bp)?,
            None => store::pricing::delete_price_rule(conn, kind, &match_value)?,
        };
        if before != factor_bp.map(i64::from) {
            let factor = |bp: Option<i64>| {
                bp.map_or("none".to_string(), |bp| {
                    format!("{:.4}", bp as f64 / 10_000.0)
                })
            };
            let rule = if match_value.is_empty() {
                kind.to_string()
            } else {
                format!("{kind} {match_value}")
            };
            let detail = format!(
                "{rule}: {} -> {}",
                factor(before),
                factor(factor_bp.map(i64::from))
            );
            services::audit::record(
                conn,
                who,
                AuditAction::PriceRuleChanged,
                None,
                &detail,
                store::now(),
            )?;
        }
        Ok(())
    })?;
    // Buyers filter and sort by the new prices at once.
    let rules = rules(conn)?;
    reprice(conn, &rules, store::now())?;
    Ok(())
}
