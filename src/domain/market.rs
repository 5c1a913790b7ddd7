//! The marketplace's stored kinds: price rules and buyers' orders.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

/// What a price rule matches (`price_rules.kind`); `domain::pricing` applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceRuleKind {
    Warmth,
    Exclusive,
    FreshnessPerDay,
    FreshnessFloor,
    Segment,
    Country,
    Quantity,
}
text_enum!(PriceRuleKind {
    Warmth => "warmth",
    Exclusive => "exclusive",
    FreshnessPerDay => "freshness_per_day",
    FreshnessFloor => "freshness_floor",
    Segment => "segment",
    Country => "country",
    Quantity => "quantity",
});

/// A buyer's order for targeted leads (`orders.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Open,
    Closed,
}
text_enum!(OrderStatus { Open => "open", Closed => "closed" });

impl OrderStatus {
    /// The status as of `now`: an open order past its deadline is closed, stored or not.
    pub fn at(self, deadline: Option<chrono::NaiveDateTime>, now: chrono::NaiveDateTime) -> Self {
        match (self, deadline) {
            (OrderStatus::Open, Some(d)) if d <= now => OrderStatus::Closed,
            (s, _) => s,
        }
    }
}

/// Why a row of a targeted batch was not taken by its order (the rejects file's codes).
pub mod targeted_reasons {
    /// The order has its quantity.
    pub const ORDER_FILLED: &str = "order_filled";
    /// The row misses the order's criteria.
    pub const OUT_OF_CRITERIA: &str = "out_of_criteria";
    /// The buyer closed the order, or its deadline passed.
    pub const ORDER_CLOSED: &str = "order_closed";
}

/// How a batch's leads are charged (`batches.billing`): when bought, or per reported action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingModel {
    PerLead,
    PerAction,
}
text_enum!(BillingModel { PerLead => "per_lead", PerAction => "per_action" });

impl BillingModel {
    /// For people: "per lead" / "per action".
    pub fn label(self) -> &'static str {
        match self {
            BillingModel::PerLead => "per lead",
            BillingModel::PerAction => "per action",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn price_rule_kinds_and_order_statuses_are_their_stored_text() {
        assert_text_enum(PriceRuleKind::ALL, PriceRuleKind::as_str);
        assert_text_enum(OrderStatus::ALL, OrderStatus::as_str);
        assert_text_enum(BillingModel::ALL, BillingModel::as_str);
    }

    #[test]
    fn an_open_order_past_its_deadline_is_closed() {
        let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let deadline = Some(t("2026-12-02 12:00"));
        assert_eq!(
            OrderStatus::Open.at(deadline, t("2026-12-02 11:59")),
            OrderStatus::Open
        );
        assert_eq!(
            OrderStatus::Open.at(deadline, t("2026-12-02 12:00")),
            OrderStatus::Closed
        );
        assert_eq!(
            OrderStatus::Open.at(None, t("2030-01-01 00:00")),
            OrderStatus::Open
        );
    }
}
