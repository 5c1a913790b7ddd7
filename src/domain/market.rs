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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn price_rule_kinds_and_order_statuses_are_their_stored_text() {
        assert_text_enum(PriceRuleKind::ALL, PriceRuleKind::as_str);
        assert_text_enum(OrderStatus::ALL, OrderStatus::as_str);
    }
}
