//! The stored kinds and statuses of money's records: ledger transactions, billable
//! actions, statements, unapplied payments and the one-time claims of finance forms.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

/// What a balanced ledger transaction records (`ledger_transactions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    Purchase,
    Action,
    InvoiceTax,
    CreditNote,
    Payment,
    Payout,
    Refund,
    DisputeCredit,
}
text_enum!(TransactionKind {
    Purchase => "purchase",
    Action => "action",
    InvoiceTax => "invoice_tax",
    CreditNote => "credit_note",
    Payment => "payment",
    Payout => "payout",
    Refund => "refund",
    DisputeCredit => "dispute_credit",
});

/// A billable action a buyer reports on a bought lead (`actions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Call,
    Consultation,
    Purchase,
}
text_enum!(ActionKind { Call => "call", Consultation => "consultation", Purchase => "purchase" });

/// An agency's payout statement (`statements.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementStatus {
    Open,
    Paid,
}
text_enum!(StatementStatus { Open => "open", Paid => "paid" });

/// Money received that no invoice took yet (`unapplied_payments.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnappliedStatus {
    Unapplied,
    Applied,
    Refunded,
}
text_enum!(UnappliedStatus { Unapplied => "unapplied", Applied => "applied", Refunded => "refunded" });

/// What a one-time token was spent on (`once_keys.kind`), so a resubmitted finance form
/// or a repeated Stripe event does its work once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnceKind {
    Issue,
    CreditNote,
    Payment,
    Payout,
    Apply,
    Refund,
    CardPayment,
}
text_enum!(OnceKind {
    Issue => "issue",
    CreditNote => "credit_note",
    Payment => "payment",
    Payout => "payout",
    Apply => "apply",
    Refund => "refund",
    CardPayment => "card_payment",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn ledger_kinds_and_finance_statuses_are_their_stored_text() {
        assert_text_enum(TransactionKind::ALL, TransactionKind::as_str);
        assert_text_enum(ActionKind::ALL, ActionKind::as_str);
        assert_text_enum(StatementStatus::ALL, StatementStatus::as_str);
        assert_text_enum(UnappliedStatus::ALL, UnappliedStatus::as_str);
        assert_text_enum(OnceKind::ALL, OnceKind::as_str);
    }
}
