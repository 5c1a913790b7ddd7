//! The audit log of personal-data work: who did what, when, from which address and to
//! how many leads. It never holds the contact itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::audit_events;
use crate::domain::rights::{AuditAction, AuditActor};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub action: AuditAction,
    pub actor: AuditActor,
    pub user_id: Option<String>,
    /// The client address the action came from (none for the retention job).
    pub address: Option<String>,
    pub request_id: Option<String>,
    pub leads: i32,
    pub created_at: NaiveDateTime,
    /// The organisation the action concerned, if one.
    pub org_id: Option<String>,
    /// What changed (`field: before -> after`), never a contact.
    pub detail: Option<String>,
}

/// What one entry says; `record` adds the id and time.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub action: AuditAction,
    pub actor: AuditActor,
    pub user_id: Option<&'a str>,
    pub address: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub leads: usize,
    pub org_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// Work on an organisation's people by a signed-in user (no lead involved).
    pub fn people(
        action: AuditAction,
        actor: AuditActor,
        user_id: &'a str,
        address: &'a str,
        org_id: &'a str,
        detail: &'a str,
    ) -> Self {
        Entry {
            action,
            actor,
            user_id: Some(user_id),
            address: Some(address),
            request_id: None,
            leads: 0,
            org_id: Some(org_id),
            detail: Some(detail),
        }
    }
}

/// Records an entry (in the caller's transaction, so it exists exactly when the work does).
pub fn record(conn: &mut AnyConnection, e: Entry<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(AuditRow {
            id: super::new_id(),
            action: e.action,
            actor: e.actor,
            user_id: e.user_id.map(str::to_string),
            address: e.address.map(str::to_string),
            request_id: e.request_id.map(str::to_string),
            leads: i32::try_from(e.leads).unwrap_or(i32::MAX),
            created_at: now,
            org_id: e.org_id.map(str::to_string),
            detail: e.detail.map(str::to_string),
        })
        .execute(conn)
        .map(drop)
}

/// The newest entries first.
pub fn recent(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
