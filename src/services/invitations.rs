//! Inviting people into an organisation: a one-time link mailed through the outbox, valid
//! for `INVITATION_VALID_HOURS`, stored only hashed, that sets the password of the account
//! it creates. Resending makes a new link (the old one stops); revoking stops it. Who may
//! invite whom is `domain::membership`'s rule. Every step is audited by user and
//! invitation id, never by the invitee's address.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::Config;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, AuditActor};
use crate::domain::membership::{self, INVITATION_VALID_HOURS, InvitationStatus, InviteRefusal};
use crate::domain::password::{self, NewPassword};
use crate::domain::{Email, Role, session};
use crate::error::AppError;
use crate::mail::{Email as _, Invitation};
use crate::store;
use crate::store::invitations::{InvitationRow, NewInvitation};

/// Who invites, and from where.
#[derive(Debug, Clone)]
pub struct Inviter {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub org_id: String,
    pub address: String,
}

impl Inviter {
    fn actor(&self) -> AuditActor {
        if self.role == Role::Admin {
            AuditActor::Admin
        } else {
            AuditActor::User
        }
    }
}

/// Invites `email` into `org_id` with `role`; returns the invitation's id.
pub fn invite(
    conn: &mut AnyConnection,
    config: &Config,
    inviter: &Inviter,
    org_id: &str,
    email: &str,
    role: Role,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let email: Email = email
        .trim()
        .parse()
        .map_err(|e: String| AppError::invalid("email", e))?;
    write_transaction(conn, |conn| {
        // Two invitations of one address at once would both find none open.
        crate::db::lock_key(conn, &format!("invitation:{email}"))?;
        let org = store::organisations::find(conn, org_id)?;
        membership::check_invite(inviter.role, &inviter.org_id, &org.id, org.kind, role)
            .map_err(refusal)?;
        if let Some(user) = store::users::find_by_email(conn, email.as_str())? {
            return Err(AppError::invalid(
                "email",
                if user.active {
                    "has an account already"
                } else {
                    "belongs to a disabled account: an admin can re-enable it"
                },
            ));
        }
        if store::invitations::pending_for_email(conn, email.as_str(), now)?.is_some() {
            return Err(AppError::invalid(
                "email",
                "is invited already: resend that invitation instead",
            ));
        }
        let id = store::new_id();
        let token = session::generate();
        store::invitations::create(
            conn,
            &NewInvitation {
                id: &id,
                organisation_id: &org.id,
                email: email.as_str(),
                role,
                token_hash: &token.hash,
                invited_by: &inviter.user_id,
                created_at: now,
                sent_at: now,
                expires_at: now + TimeDelta::hours(INVITATION_VALID_HOURS),
            },
        )?;
        mail(
            conn,
            config,
            inviter,
            &org.name,
            email.as_str(),
            role,
            &token.secret,
            now,
        )?;
        audit(
            conn,
            inviter,
            AuditAction::UserInvited,
            &org.id,
            &format!("invitation {id}, role: {role}"),
            now,
        )?;
        Ok(id)
    })
}

/// A new link for an open invitation, valid from now; the old link stops working.
pub fn resend(
    conn: &mut AnyConnection,
    config: &Config,
    inviter: &Inviter,
    invitation_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        let inv = open_invitation(conn, inviter, invitation_id, now)?;
        let token = session::generate();
        let expires = now + TimeDelta::hours(INVITATION_VALID_HOURS);
        if !store::invitations::renew(conn, &inv.id, &token.hash, now, expires)? {
            return Err(closed());
        }
        let org = store::organisations::find(conn, &inv.organisation_id)?;
        mail(
            conn,
            config,
            inviter,
            &org.name,
            &inv.email,
            inv.role,
            &token.secret,
            now,
        )?;
        audit(
            conn,
            inviter,
            AuditAction::InvitationResent,
            &inv.organisation_id,
            &format!("invitation {}: a new link, the old one stops", inv.id),
            now,
        )
    })
}

/// Stops an open invitation's link.
pub fn revoke(
    conn: &mut AnyConnection,
    inviter: &Inviter,
    invitation_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    write_transaction(conn, |conn| {
        let inv = open_invitation(conn, inviter, invitation_id, now)?;
        if !store::invitations::revoke(conn, &inv.id, now)? {
            return Err(closed());
        }
        audit(
            conn,
            inviter,
            AuditAction::InvitationRevoked,
            &inv.organisation_id,
            &format!("invitation {}: revoked", inv.id),
            now,
        )
    })
}

/// What the invitation page shows before the invitee sets a password.
pub struct LiveInvitation {
    pub organisation_name: String,
    pub email: String,
    pub role: Role,
}

/// The invitation behind a link, while it works.
pub fn live(
    conn: &mut AnyConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<LiveInvitation>, AppError> {
    let Some(inv) = store::invitations::find_by_token_hash(conn, &session::hash(token))? else {
        return Ok(None);
    };
    if InvitationStatus::of(inv.accepted_at, inv.revoked_at, inv.expires_at, now)
        != InvitationStatus::Pending
    {
        return Ok(None);
    }
    Ok(Some(LiveInvitation {
        organisation_name: store::organisations::find(conn, &inv.organisation_id)?.name,
        email: inv.email,
        role: inv.role,
    }))
}

fn link_refused() -> AppError {
    AppError::invalid(
        "token",
        "this invitation has expired, was revoked or was used already; ask whoever invited you for a new one",
    )
}

/// Accepts an invitation once: the account is made with the password chosen, and the
/// link stops working. Returns the new user's id.
pub fn accept(
    conn: &mut AnyConnection,
    token: &str,
    display_name: &str,
    new_password: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let new_password =
        NewPassword::parse(new_password).map_err(|e| AppError::invalid("password", e))?;
    let display_name = display_name.trim();
    if display_name.chars().count() > 120 {
        return Err(AppError::invalid("name", "must be at most 120 characters"));
    }
    let hash = session::hash(token);
    let hashed_password = password::hash(&new_password);
    write_transaction(conn, |conn| {
        let inv = store::invitations::find_by_token_hash(conn, &hash)?.ok_or_else(link_refused)?;
        if InvitationStatus::of(inv.accepted_at, inv.revoked_at, inv.expires_at, now)
            != InvitationStatus::Pending
        {
            return Err(link_refused());
        }
        if store::users::find_by_email(conn, &inv.email)?.is_some() {
            return Err(AppError::invalid(
                "token",
                "an account with this email exists already: sign in, or ask for a password reset",
            ));
        }
        let email: Email = inv.email.parse().map_err(|e: String| {
            AppError::internal(anyhow::anyhow!("stored invitation email: {e}"))
        })?;
        let name = if display_name.is_empty() {
            inv.email.split('@').next().unwrap_or("user")
        } else {
            display_name
        };
        let user = store::users::create(
            conn,
            &inv.organisation_id,
            &email,
            name,
            &hashed_password,
            inv.role,
        )?;
        if !store::invitations::accept(conn, &hash, &user.id, now)? {
            return Err(link_refused());
        }
        let detail = format!(
            "invitation {}: user {}, role: {}",
            inv.id, user.id, user.role
        );
        store::audit::record(
            conn,
            store::audit::Entry::people(
                AuditAction::InvitationAccepted,
                AuditActor::User,
                &user.id,
                address,
                &inv.organisation_id,
                &detail,
            ),
            now,
        )?;
        Ok(user.id)
    })
}

/// The invitation `id` if the inviter may manage it (else 404) and it is still open.
fn open_invitation(
    conn: &mut AnyConnection,
    inviter: &Inviter,
    id: &str,
    now: NaiveDateTime,
) -> Result<InvitationRow, AppError> {
    let inv = store::invitations::find(conn, id)?;
    let org = store::organisations::find(conn, &inv.organisation_id)?;
    membership::check_invite(inviter.role, &inviter.org_id, &org.id, org.kind, inv.role)
        .map_err(refusal)?;
    if !InvitationStatus::of(inv.accepted_at, inv.revoked_at, inv.expires_at, now).is_open() {
        return Err(closed());
    }
    Ok(inv)
}

fn closed() -> AppError {
    AppError::invalid(
        "invitation",
        "this invitation was accepted or revoked already: it can no longer change",
    )
}

fn refusal(r: InviteRefusal) -> AppError {
    match r {
        InviteRefusal::NotAllowed => AppError::Forbidden,
        InviteRefusal::OtherOrganisation => AppError::NotFound,
        InviteRefusal::Role(e) => AppError::invalid("role", e),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one mail's facts, each used once"
)]
fn mail(
    conn: &mut AnyConnection,
    config: &Config,
    inviter: &Inviter,
    organisation_name: &str,
    to: &str,
    role: Role,
    token: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mail = Invitation {
        seller_name: config.billing.seller_name.clone(),
        organisation_name: organisation_name.to_string(),
        inviter_name: inviter.name.clone(),
        role_label: role.label().to_string(),
        url: format!(
            "{}/invitation?token={token}",
            config.public_url.trim_end_matches('/')
        ),
        valid_hours: INVITATION_VALID_HOURS,
    }
    .render()
    .map_err(AppError::internal)?;
    store::outbox::enqueue(conn, &[to.to_string()], mail.for_outbox(), now)?;
    Ok(())
}

fn audit(
    conn: &mut AnyConnection,
    inviter: &Inviter,
    action: AuditAction,
    org_id: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    store::audit::record(
        conn,
        store::audit::Entry::people(
            action,
            inviter.actor(),
            &inviter.user_id,
            &inviter.address,
            org_id,
            detail,
        ),
        now,
    )?;
    Ok(())
}
