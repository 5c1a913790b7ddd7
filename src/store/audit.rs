//! The audit log of sensitive actions: who did what, when, from which address and to
//! how many leads. It never holds a lead's contact. Append-only: this module records and
//! reads entries and has no way to change or delete one.

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

/// Which entries a search wants; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<AuditActor>,
    /// Entries by any of these users (an email may have had more than one account).
    pub user_ids: Option<Vec<String>>,
    pub org_id: Option<String>,
    pub action: Option<AuditAction>,
    /// From this time on (inclusive).
    pub from: Option<NaiveDateTime>,
    /// Before this time (exclusive).
    pub until: Option<NaiveDateTime>,
}

fn filtered(f: &Filter) -> audit_events::BoxedQuery<'static, crate::db::MultiBackend> {
    let mut q = audit_events::table.into_boxed();
    if let Some(a) = f.actor {
        q = q.filter(audit_events::actor.eq(a));
    }
    if let Some(u) = &f.user_ids {
        q = q.filter(audit_events::user_id.eq_any(u.clone()));
    }
    if let Some(o) = &f.org_id {
        q = q.filter(audit_events::org_id.eq(o.clone()));
    }
    if let Some(a) = f.action {
        q = q.filter(audit_events::action.eq(a));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_events::created_at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_events::created_at.lt(t));
    }
    q
}

/// How many entries match.
pub fn count(conn: &mut AnyConnection, f: &Filter) -> QueryResult<i64> {
    filtered(f).count().get_result(conn)
}

/// The matching entries, newest first, `limit` of them after skipping `offset`.
pub fn search(
    conn: &mut AnyConnection,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<AuditRow>> {
    filtered(f)
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AuditRow::as_select())
        .load(conn)
}

/// The newest entries first.
pub fn recent(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
