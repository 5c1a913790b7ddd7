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
}
