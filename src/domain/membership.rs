//! Who may bring people into an organisation and change what they may do: the life of an
//! invitation, who may send one, role changes and disabling.
//!
//! There is no organisation-level admin role. A customer organisation (agency, buyer) has
//! exactly one role, so any of its users may invite colleagues into it: the invitee gets
//! no more than the inviter has. The platform's admins manage every organisation's people;
//! finance staff manage no one. Role changes and disabling are the platform admins' alone.

use chrono::NaiveDateTime;

use super::org::{OrgKind, Role, check_role_fits};

/// How long an invitation's link works after it was (last) sent.
pub const INVITATION_VALID_HOURS: i64 = 72;

/// Where an invitation stands; derived from its timestamps, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Expired,
    Accepted,
    Revoked,
}

impl InvitationStatus {
    pub fn of(
        accepted_at: Option<NaiveDateTime>,
        revoked_at: Option<NaiveDateTime>,
        expires_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Self {
        match (accepted_at, revoked_at) {
            (Some(_), _) => InvitationStatus::Accepted,
            (None, Some(_)) => InvitationStatus::Revoked,
            (None, None) if expires_at > now => InvitationStatus::Pending,
            (None, None) => InvitationStatus::Expired,
        }
    }

    /// A pending or expired invitation can still be resent or revoked.
    pub fn is_open(self) -> bool {
        matches!(self, InvitationStatus::Pending | InvitationStatus::Expired)
    }

    pub fn label(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Expired => "expired",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
        }
    }
}

/// Why someone may not invite into an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteRefusal {
    /// Their role manages no one (finance).
    NotAllowed,
    /// Another organisation: to them it does not exist.
    OtherOrganisation,
    /// The role does not fit the organisation.
    Role(String),
}

/// Checks that a user with `actor_role` in `actor_org_id` may invite someone with `role`
/// into the organisation `org_id` of `org_kind`.
pub fn check_invite(
    actor_role: Role,
    actor_org_id: &str,
    org_id: &str,
    org_kind: OrgKind,
    role: Role,
) -> Result<(), InviteRefusal> {
    match actor_role {
        Role::Admin => {}
        Role::Agency | Role::Buyer if actor_org_id == org_id => {}
        Role::Agency | Role::Buyer => return Err(InviteRefusal::OtherOrganisation),
        Role::Finance => return Err(InviteRefusal::NotAllowed),
    }
    check_role_fits(role, org_kind).map_err(InviteRefusal::Role)
}

/// Checks an admin's change of `target`'s role from `from` to `to` in an organisation of
/// `org_kind`. An admin cannot change their own role, so the platform always keeps the
/// admin who could undo a change.
pub fn check_role_change(
    actor_id: &str,
    target_id: &str,
    org_kind: OrgKind,
    to: Role,
) -> Result<(), String> {
    if actor_id == target_id {
        return Err("you cannot change your own role: ask another admin".into());
    }
    check_role_fits(to, org_kind).map_err(|_| {
        let allowed: Vec<&str> = Role::ALL
            .iter()
            .filter(|r| r.org_kind() == org_kind)
            .map(Role::as_str)
            .collect();
        format!(
            "a {org_kind} organisation's users can only have the role {}; `{to}` is not one of them",
            allowed.join(" or ")
        )
    })
}

/// Checks that an admin may disable `target`: not themselves (they would lock themselves
/// out mid-task).
pub fn check_disable(actor_id: &str, target_id: &str) -> Result<(), String> {
    if actor_id == target_id {
        Err("you cannot disable your own account: ask another admin".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn an_invitation_is_pending_until_it_expires_is_accepted_or_is_revoked() {
        let expires = t0() + TimeDelta::hours(INVITATION_VALID_HOURS);
        let s = |a, r, now| InvitationStatus::of(a, r, expires, now);
        assert_eq!(s(None, None, t0()), InvitationStatus::Pending);
        assert_eq!(
            s(None, None, expires - TimeDelta::seconds(1)),
            InvitationStatus::Pending
        );
        assert_eq!(s(None, None, expires), InvitationStatus::Expired);
        assert_eq!(s(Some(t0()), None, expires), InvitationStatus::Accepted);
        assert_eq!(s(None, Some(t0()), t0()), InvitationStatus::Revoked);
        assert!(InvitationStatus::Expired.is_open());
        assert!(!InvitationStatus::Revoked.is_open());
        assert!(!InvitationStatus::Accepted.is_open());
    }

    #[test]
    fn customers_invite_only_into_their_own_organisation_and_admins_anywhere() {
        assert_eq!(
            check_invite(Role::Buyer, "b1", "b1", OrgKind::Buyer, Role::Buyer),
            Ok(())
        );
        assert_eq!(
            check_invite(Role::Buyer, "b1", "b2", OrgKind::Buyer, Role::Buyer),
            Err(InviteRefusal::OtherOrganisation)
        );
        assert!(matches!(
            check_invite(Role::Agency, "a1", "a1", OrgKind::Agency, Role::Admin),
            Err(InviteRefusal::Role(_))
        ));
        assert_eq!(
            check_invite(Role::Finance, "p", "p", OrgKind::Platform, Role::Finance),
            Err(InviteRefusal::NotAllowed)
        );
        assert_eq!(
            check_invite(Role::Admin, "p", "a1", OrgKind::Agency, Role::Agency),
            Ok(())
        );
        assert_eq!(
            check_invite(Role::Admin, "p", "p", OrgKind::Platform, Role::Finance),
            Ok(())
        );
        assert!(matches!(
            check_invite(Role::Admin, "p", "b1", OrgKind::Buyer, Role::Finance),
            Err(InviteRefusal::Role(_))
        ));
    }

    #[test]
    fn roles_change_only_within_the_organisations_kind_and_never_ones_own() {
        assert_eq!(
            check_role_change("admin", "u", OrgKind::Platform, Role::Finance),
            Ok(())
        );
        let err = check_role_change("admin", "u", OrgKind::Buyer, Role::Admin).unwrap_err();
        assert_eq!(
            err,
            "a buyer organisation's users can only have the role buyer; `admin` is not one of them"
        );
        let err = check_role_change("admin", "u", OrgKind::Platform, Role::Agency).unwrap_err();
        assert!(err.contains("finance or admin"), "{err}");
        assert!(check_role_change("admin", "admin", OrgKind::Platform, Role::Finance).is_err());
        assert!(check_disable("admin", "admin").is_err());
        assert!(check_disable("admin", "u").is_ok());
    }
}
