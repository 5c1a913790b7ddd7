//! The mail outbox's stored status: written in the sending transaction, sent after commit.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

/// `outbox.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Pending,
    Sent,
    /// Gave up after the last retry.
    Failed,
}
text_enum!(OutboxStatus { Pending => "pending", Sent => "sent", Failed => "failed" });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn outbox_statuses_are_their_stored_text() {
        assert_text_enum(OutboxStatus::ALL, OutboxStatus::as_str);
    }
}
