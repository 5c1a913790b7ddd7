//! The kinds of entry in the audit log (`audit_events`) and who can act. The log is
//! append-only and never holds a lead's contact data.

use std::fmt;
use std::str::FromStr;

use super::org::{Role, text_enum};

/// `audit_events.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    RightsRequested,
    RightsConfirmed,
    RightsDismissed,
    RightsErased,
    RetentionErased,
    SettingsChanged,
    OrgCreated,
    OrgSuspended,
    OrgReactivated,
    UserInvited,
    InvitationResent,
    InvitationRevoked,
    InvitationAccepted,
    UserDisabled,
    UserEnabled,
    RoleChanged,
    // The audit log of sensitive actions (issue 24, item 6).
    Login,
    LoginFailed,
    PriceRuleChanged,
    SuppressionAdded,
    SuppressionRemoved,
    DisputeDecided,
    InvoiceIssued,
    InvoiceCredited,
    PaymentRecorded,
    PaymentRefunded,
    PayoutRecorded,
    SegmentChanged,
    ChannelChanged,
}
text_enum!(AuditAction {
    RightsRequested => "rights_requested",
    RightsConfirmed => "rights_confirmed",
    RightsDismissed => "rights_dismissed",
    RightsErased => "rights_erased",
    RetentionErased => "retention_erased",
    SettingsChanged => "settings_changed",
    OrgCreated => "org_created",
    OrgSuspended => "org_suspended",
    OrgReactivated => "org_reactivated",
    UserInvited => "user_invited",
    InvitationResent => "invitation_resent",
    InvitationRevoked => "invitation_revoked",
    InvitationAccepted => "invitation_accepted",
    UserDisabled => "user_disabled",
    UserEnabled => "user_enabled",
    RoleChanged => "role_changed",
    // The audit log of sensitive actions (issue 24, item 6).
    Login => "login",
    LoginFailed => "login_failed",
    PriceRuleChanged => "price_rule_changed",
    SuppressionAdded => "suppression_added",
    SuppressionRemoved => "suppression_removed",
    DisputeDecided => "dispute_decided",
    InvoiceIssued => "invoice_issued",
    InvoiceCredited => "invoice_credited",
    PaymentRecorded => "payment_recorded",
    PaymentRefunded => "payment_refunded",
    PayoutRecorded => "payout_recorded",
    SegmentChanged => "segment_changed",
    ChannelChanged => "channel_changed",
});

/// `audit_events.actor`: who acted (a signed-in user also has its user id). `User` is an
/// agency's or a buyer's user inviting a colleague, or an invitee accepting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditActor {
    Consumer,
    Admin,
    System,
    // The audit log of sensitive actions (issue 24, item 6).
    Agency,
    Buyer,
    Finance,
    /// Someone not signed in, such as a failed login (the account tried, if it exists,
    /// is the entry's user).
    Visitor,
    User,
}
text_enum!(AuditActor {
    Consumer => "consumer",
    Admin => "admin",
    System => "system",
    User => "user",
    Agency => "agency",
    Buyer => "buyer",
    Finance => "finance",
    Visitor => "visitor",
});

impl AuditActor {
    /// A signed-in user acts as their role.
    pub fn of_role(role: Role) -> Self {
        match role {
            Role::Agency => Self::Agency,
            Role::Buyer => Self::Buyer,
            Role::Finance => Self::Finance,
            Role::Admin => Self::Admin,
        }
    }
}

/// Who does something the log records: as whom, which user (if one) and from which
/// client address (none for jobs and the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub actor: AuditActor,
    pub user_id: Option<String>,
    pub address: Option<String>,
}

impl Who {
    /// A signed-in user, from the address of their request.
    pub fn user(role: Role, user_id: &str, address: &str) -> Self {
        Self {
            actor: AuditActor::of_role(role),
            user_id: Some(user_id.to_string()),
            address: Some(address.to_string()),
        }
    }

    /// A background job, the command line or a verified webhook: no user, no address.
    pub fn system() -> Self {
        Self {
            actor: AuditActor::System,
            user_id: None,
            address: None,
        }
    }
}

/// Whether free text an admin types for the log (a removal's reason) looks like it
/// holds a contact: an `@`, or nine or more digits in a row (spaces, dots, dashes,
/// slashes and brackets between them do not break the run; a date has eight). The log
/// never holds a contact, so such text is refused rather than stored.
pub fn holds_contact(text: &str) -> bool {
    if text.contains('@') {
        return true;
    }
    let mut digits = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            if digits >= 9 {
                return true;
            }
        } else if !matches!(c, ' ' | '.' | '-' | '(' | ')' | '/') {
            digits = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn audit_kinds_and_actors_are_their_stored_text() {
        assert_text_enum(AuditAction::ALL, AuditAction::as_str);
        assert_text_enum(AuditActor::ALL, AuditActor::as_str);
    }

    #[test]
    fn a_user_acts_as_their_role() {
        let who = Who::user(Role::Finance, "u-1", "10.0.0.9");
        assert_eq!(who.actor, AuditActor::Finance);
        assert_eq!(who.user_id.as_deref(), Some("u-1"));
        assert_eq!(who.address.as_deref(), Some("10.0.0.9"));
        assert_eq!(Who::system().actor, AuditActor::System);
        assert_eq!(Who::system().user_id, None);
    }

    #[test]
    fn text_with_an_email_or_a_phone_number_is_taken_for_a_contact() {
        for contact in [
            "asked by ann@example.com",
            "call +44 7911 123456",
            "(020) 7946-0958",
            "07911123456",
        ] {
            assert!(holds_contact(contact), "{contact}");
        }
        for plain in [
            "added by mistake",
            "ticket 4711, 2026-12-03",
            "consumer withdrew the opt-out on 3 Dec",
        ] {
            assert!(!holds_contact(plain), "{plain}");
        }
    }
}
