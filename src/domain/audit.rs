//! The kinds of entry in the audit log (`audit_events`) and who can act. The log is
//! append-only and never holds a lead's contact data.

use std::fmt;
use std::str::FromStr;

use super::org::text_enum;

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
});

/// `audit_events.actor`: who acted (an admin and a user also have their user id). A
/// `User` is an agency's or a buyer's user inviting a colleague, or accepting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditActor {
    Consumer,
    Admin,
    System,
    User,
}
text_enum!(AuditActor { Consumer => "consumer", Admin => "admin", System => "system", User => "user" });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn audit_kinds_and_actors_are_their_stored_text() {
        assert_text_enum(AuditAction::ALL, AuditAction::as_str);
        assert_text_enum(AuditActor::ALL, AuditActor::as_str);
    }
}
