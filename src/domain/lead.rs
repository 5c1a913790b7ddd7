//! A lead's stored kind and status, and what the agency reports it did after capture.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

/// Who a lead is for; a batch has the same kind as its leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadKind {
    /// Sold in the marketplace to any buyer.
    Consumer,
    /// Captured for one buyer's order, never listed.
    Targeted,
}
text_enum!(LeadKind { Consumer => "consumer", Targeted => "targeted" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadStatus {
    Available,
    /// Taken off sale (the agency flagged it, or the person asked to be suppressed).
    Withdrawn,
    /// The person's data is gone; the row stays for the books.
    Erased,
}
text_enum!(LeadStatus { Available => "available", Withdrawn => "withdrawn", Erased => "erased" });

/// A `lead_events` kind: engagement the agency reports, which adds to the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngagementKind {
    Opened,
    Clicked,
    Answered,
}
text_enum!(EngagementKind { Opened => "opened", Clicked => "clicked", Answered => "answered" });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn lead_kinds_statuses_and_engagements_are_their_stored_text() {
        assert_text_enum(LeadKind::ALL, LeadKind::as_str);
        assert_text_enum(LeadStatus::ALL, LeadStatus::as_str);
        assert_text_enum(EngagementKind::ALL, EngagementKind::as_str);
    }
}
