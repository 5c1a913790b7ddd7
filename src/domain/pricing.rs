//! Lead pricing: the batch's base price times the modifiers the admin tunes (warmth,
//! freshness with a floor, exclusivity, segment competition, country, quantity tiers).
//! Factors are basis points (10000 = x1.0); the buyer sees every step.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::market::PriceRuleKind;
use super::reference::SegmentTree;

#[derive(Debug, Clone, Default)]
pub struct PriceRules {
    pub warmth: HashMap<String, i64>,
    /// Applied to leads sold to one buyer only (`max_sales` 1).
    pub exclusive_bp: Option<i64>,
    /// Value lost per day since capture, in basis points of the price.
    pub freshness_per_day_bp: i64,
    /// The freshness factor never drops below this.
    pub freshness_floor_bp: i64,
    /// By segment slug; the most specific match wins (`insurance.car` over `insurance`).
    pub segment: HashMap<String, i64>,
    pub country: HashMap<String, i64>,
    /// (minimum quantity in one purchase, factor), any order.
    pub quantity: Vec<(i64, i64)>,
    /// Where a segment with no rule of its own finds its parent's.
    pub tree: SegmentTree,
}

impl PriceRules {
    /// From `(kind, match_value, factor_bp)` rows.
    pub fn from_rows(rows: impl IntoIterator<Item = (PriceRuleKind, String, i64)>) -> Self {
        let mut r = PriceRules {
            freshness_floor_bp: 10_000,
            ..Default::default()
        };
        for (kind, value, bp) in rows {
            match kind {
                PriceRuleKind::Warmth => {
                    r.warmth.insert(value, bp);
                }
                PriceRuleKind::Exclusive => r.exclusive_bp = Some(bp),
                PriceRuleKind::FreshnessPerDay => r.freshness_per_day_bp = bp,
                PriceRuleKind::FreshnessFloor => r.freshness_floor_bp = bp,
                PriceRuleKind::Segment => {
                    r.segment.insert(value, bp);
                }
                PriceRuleKind::Country => {
                    r.country.insert(value, bp);
                }
                PriceRuleKind::Quantity => {
                    if let Ok(q) = value.parse() {
                        r.quantity.push((q, bp));
                    }
                }
            }
        }
        r
    }
}

/// What the price depends on.
#[derive(Debug, Clone)]
pub struct PriceFacts<'a> {
    pub base_cents: i64,
    pub warmth: &'a str,
    pub max_sales: i32,
    pub segment: &'a str,
    pub country: &'a str,
    pub captured_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Step {
    pub label: String,
    pub factor_bp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub base_cents: i64,
    pub steps: Vec<Step>,
    pub unit_cents: i64,
}

pub fn quote(f: &PriceFacts<'_>, rules: &PriceRules, quantity: i64, now: NaiveDateTime) -> Quote {
    let mut steps = Vec::new();
    if let Some(&bp) = rules.warmth.get(f.warmth) {
        steps.push(Step {
            label: format!("warmth: {}", f.warmth),
            factor_bp: bp,
        });
    }
    let days = (now.date() - f.captured_at.date()).num_days().max(0);
    if rules.freshness_per_day_bp > 0 && days > 0 {
        let bp = (10_000 - days.saturating_mul(rules.freshness_per_day_bp))
            .max(rules.freshness_floor_bp);
        steps.push(Step {
            label: format!("freshness: {days} days old"),
            factor_bp: bp,
        });
    }
    if f.max_sales == 1
        && let Some(bp) = rules.exclusive_bp
    {
        steps.push(Step {
            label: "exclusive".into(),
            factor_bp: bp,
        });
    }
    // The most specific segment rule: `a.b` before `a`.
    let mut seg = Some(f.segment);
    while let Some(s) = seg {
        if let Some(&bp) = rules.segment.get(s) {
            steps.push(Step {
                label: format!("segment: {s}"),
                factor_bp: bp,
            });
            break;
        }
        seg = rules.tree.parent(s);
    }
    if let Some(&bp) = rules.country.get(f.country) {
        steps.push(Step {
            label: format!("country: {}", f.country),
            factor_bp: bp,
        });
    }
    if let Some(&(min, bp)) = rules
        .quantity
        .iter()
        .filter(|(min, _)| quantity >= *min)
        .max_by_key(|(min, _)| *min)
    {
        steps.push(Step {
            label: format!("quantity: {min} or more"),
            factor_bp: bp,
        });
    }
    // In millionths of a cent, so the only rounding that matters is the final one.
    const SCALE: i128 = 1_000_000;
    let mut micro = i128::from(f.base_cents.max(0)) * SCALE;
    for s in &steps {
        micro = (micro * i128::from(s.factor_bp.max(0)) + 5_000) / 10_000;
    }
    let unit_cents = i64::try_from((micro + SCALE / 2) / SCALE).unwrap_or(i64::MAX);
    Quote {
        base_cents: f.base_cents,
        steps,
        unit_cents,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    fn rules() -> PriceRules {
        PriceRules::from_rows(
            [
                ("warmth", "hot", 13000),
                ("warmth", "cold", 8500),
                ("exclusive", "1", 15000),
                ("freshness_per_day", "", 200),
                ("freshness_floor", "", 5000),
                ("segment", "insurance", 11000),
                ("segment", "insurance.car", 12000),
                ("country", "GB", 10500),
                ("quantity", "10", 9500),
                ("quantity", "50", 9000),
            ]
            .map(|(k, v, b)| (k.parse().unwrap(), v.to_string(), b)),
        )
    }

    fn now() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    fn facts(
        segment: &'static str,
        warmth: &'static str,
        max_sales: i32,
        days: i64,
    ) -> PriceFacts<'static> {
        PriceFacts {
            base_cents: 1000,
            warmth,
            max_sales,
            segment,
            country: "DE",
            captured_at: now() - TimeDelta::days(days),
        }
    }

    #[test]
    fn a_plain_lead_costs_its_base_price() {
        let q = quote(&facts("travel", "warm", 3, 0), &rules(), 1, now());
        assert_eq!(q.unit_cents, 1000);
        assert!(q.steps.is_empty());
    }

    #[test]
    fn modifiers_multiply_and_are_listed() {
        let q = quote(&facts("insurance.car", "hot", 1, 0), &rules(), 1, now());
        // 1000 x 1.3 x 1.5 x 1.2 = 2340
        assert_eq!(q.unit_cents, 2340);
        let labels: Vec<&str> = q.steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["warmth: hot", "exclusive", "segment: insurance.car"]
        );
    }

    #[test]
    fn sub_segments_fall_back_to_their_parent() {
        let q = quote(&facts("insurance.health", "warm", 3, 0), &rules(), 1, now());
        assert_eq!(q.unit_cents, 1100);
        // Moved to the top, it no longer takes `insurance`'s factor.
        let moved = PriceRules {
            tree: SegmentTree::new([("insurance.health".to_string(), None)]),
            ..rules()
        };
        let q = quote(&facts("insurance.health", "warm", 3, 0), &moved, 1, now());
        assert_eq!(q.unit_cents, 1000);
    }

    #[test]
    fn freshness_decays_per_day_down_to_the_floor() {
        assert_eq!(
            quote(&facts("travel", "warm", 3, 5), &rules(), 1, now()).unit_cents,
            900
        );
        assert_eq!(
            quote(&facts("travel", "warm", 3, 400), &rules(), 1, now()).unit_cents,
            500
        );
    }

    #[test]
    fn the_biggest_quantity_tier_reached_applies() {
        assert_eq!(
            quote(&facts("travel", "warm", 3, 0), &rules(), 9, now()).unit_cents,
            1000
        );
        assert_eq!(
            quote(&facts("travel", "warm", 3, 0), &rules(), 10, now()).unit_cents,
            950
        );
        assert_eq!(
            quote(&facts("travel", "warm", 3, 0), &rules(), 80, now()).unit_cents,
            900
        );
    }

    #[test]
    fn rounding_is_half_up_to_the_cent() {
        let mut f = facts("travel", "cold", 3, 0);
        f.base_cents = 333;
        // 333 x 0.85 = 283.05 -> 283
        assert_eq!(quote(&f, &rules(), 1, now()).unit_cents, 283);
        f.base_cents = 10;
        // 10 x 0.85 = 8.5 -> 9
        assert_eq!(quote(&f, &rules(), 1, now()).unit_cents, 9);
    }
}
