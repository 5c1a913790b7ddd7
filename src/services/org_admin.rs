//! An admin creates an agency or a buyer, and suspends or reactivates an organisation,
//! with a reason its users are shown. While suspended its users cannot sign in, its sessions and API tokens stop (the
//! lookups behind them check it on every request), its listings leave the catalogue and
//! its standing orders pause. Each step is audited.

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::OrgKind;
use crate::domain::audit::{AuditAction, AuditActor};
use crate::error::AppError;
use crate::services::accounts;
use crate::services::settings::Admin;
use crate::store;
use crate::store::organisations::OrganisationRow;

/// Creates an agency or a buyer (the platform organisation exists once, made by a
/// migration); the slug is derived from the name unless one is given.
pub fn create(
    conn: &mut AnyConnection,
    admin: &Admin,
    kind: OrgKind,
    name: &str,
    slug: Option<&str>,
    now: NaiveDateTime,
) -> Result<OrganisationRow, AppError> {
    if kind == OrgKind::Platform {
        return Err(AppError::invalid(
            "kind",
            "must be agency or buyer: there is one platform organisation",
        ));
    }
    let slug = slug.map(str::trim).filter(|s| !s.is_empty());
    write_transaction(conn, |conn| {
        let org = accounts::create_organisation(conn, kind, name, slug)?;
        let detail = format!("kind: {}, name: {}, slug: {}", org.kind, org.name, org.slug);
        audit(conn, AuditAction::OrgCreated, admin, &org.id, &detail, now)?;
        Ok(org)
    })
}

/// Suspends `org_id`; `false` when it already was.
pub fn suspend(
    conn: &mut AnyConnection,
    admin: &Admin,
    org_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why: the organisation's users are shown it",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid(
            "reason",
            "must be at most 500 characters",
        ));
    }
    write_transaction(conn, |conn| {
        let org = store::organisations::find(conn, org_id)?;
        if org.kind == OrgKind::Platform {
            return Err(AppError::invalid(
                "reason",
                "the platform organisation cannot be suspended",
            ));
        }
        let changed = store::organisations::set_suspension(conn, org_id, Some(reason), now)?;
        if changed {
            audit(
                conn,
                AuditAction::OrgSuspended,
                admin,
                org_id,
                &format!("reason: {reason}"),
                now,
            )?;
        }
        Ok(changed)
    })
}

/// Ends an admin's suspension; `false` when there was none.
pub fn reactivate(
    conn: &mut AnyConnection,
    admin: &Admin,
    org_id: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let before = store::organisations::find(conn, org_id)?.suspension_reason;
        let changed = store::organisations::set_suspension(conn, org_id, None, now)?;
        if changed {
            let detail = format!("was suspended for: {}", before.unwrap_or_default());
            audit(
                conn,
                AuditAction::OrgReactivated,
                admin,
                org_id,
                &detail,
                now,
            )?;
        }
        Ok(changed)
    })
}

fn audit(
    conn: &mut AnyConnection,
    action: AuditAction,
    admin: &Admin,
    org_id: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    store::audit::record(
        conn,
        store::audit::Entry {
            action,
            actor: AuditActor::Admin,
            user_id: Some(&admin.user_id),
            address: Some(&admin.address),
            request_id: None,
            leads: 0,
            org_id: Some(org_id),
            detail: Some(detail),
        },
        now,
    )?;
    Ok(())
}
