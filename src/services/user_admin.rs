//! A platform admin disables and re-enables users and changes their roles within the
//! rules of `domain::membership`. Disabling ends every session of the user at once. Each
//! step is audited with the user's id and the before and after, never their address.

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::Role;
use crate::domain::audit::{AuditAction, AuditActor};
use crate::domain::membership;
use crate::error::AppError;
use crate::services::accounts;
use crate::services::settings::Admin;
use crate::store;

/// Disables `user_id` and ends their sessions; `false` when they were disabled already.
pub fn disable(
    conn: &mut AnyConnection,
    admin: &Admin,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    membership::check_disable(&admin.user_id, user_id).map_err(|e| AppError::invalid("user", e))?;
    write_transaction(conn, |conn| {
        let user = store::users::find(conn, user_id)?;
        if !store::users::deactivate(conn, &user.id)? {
            return Ok(false);
        }
        let ended = accounts::end_all_sessions(conn, &user.id)?;
        let detail = format!(
            "user {}: active -> disabled, {ended} session(s) ended",
            user.id
        );
        audit(
            conn,
            admin,
            AuditAction::UserDisabled,
            &user.organisation_id,
            &detail,
            now,
        )?;
        Ok(true)
    })
}

/// Lets a disabled user sign in again; `false` when they were active.
pub fn enable(
    conn: &mut AnyConnection,
    admin: &Admin,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let user = store::users::find(conn, user_id)?;
        if !store::users::reactivate(conn, &user.id)? {
            return Ok(false);
        }
        let detail = format!("user {}: disabled -> active", user.id);
        audit(
            conn,
            admin,
            AuditAction::UserEnabled,
            &user.organisation_id,
            &detail,
            now,
        )?;
        Ok(true)
    })
}

/// Gives `user_id` the role `to` if it fits their organisation; `false` when they had it.
pub fn change_role(
    conn: &mut AnyConnection,
    admin: &Admin,
    user_id: &str,
    to: Role,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let user = store::users::find(conn, user_id)?;
        if user.role == to {
            return Ok(false);
        }
        let org = store::organisations::find(conn, &user.organisation_id)?;
        membership::check_role_change(&admin.user_id, &user.id, org.kind, to)
            .map_err(|e| AppError::invalid("role", e))?;
        if !store::users::set_role(conn, &user.id, to)? {
            return Ok(false);
        }
        let detail = format!("user {}: role {} -> {to}", user.id, user.role);
        audit(conn, admin, AuditAction::RoleChanged, &org.id, &detail, now)?;
        Ok(true)
    })
}

fn audit(
    conn: &mut AnyConnection,
    admin: &Admin,
    action: AuditAction,
    org_id: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    store::audit::record(
        conn,
        store::audit::Entry::people(
            action,
            AuditActor::Admin,
            &admin.user_id,
            &admin.address,
            org_id,
            detail,
        ),
        now,
    )?;
    Ok(())
}
