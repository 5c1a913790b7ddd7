//! The audit log of sensitive actions: entries recorded inside the transaction of the
//! work they describe, and the admins' search of them (filters, pages, CSV). Nothing
//! here or in `store::audit` edits or deletes an entry: the log is append-only.
//! An entry says who, when, what (before and after) and from which address; it never
//! holds a lead's contact, so callers describe leads by id and count only.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::domain::Email;
use crate::domain::audit::{AuditAction, Who};
use crate::error::AppError;
use crate::store;
use crate::store::audit::{AuditRow, Entry, Filter};

const IDS_PER_QUERY: usize = 1000;

/// Records what `who` did, concerning `org_id` if one organisation; `detail` is the
/// before and after.
pub fn record(
    conn: &mut AnyConnection,
    who: &Who,
    action: AuditAction,
    org_id: Option<&str>,
    detail: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    store::audit::record(
        conn,
        Entry {
            action,
            actor: who.actor,
            user_id: who.user_id.as_deref(),
            address: who.address.as_deref(),
            request_id: None,
            leads: 0,
            org_id,
            detail: Some(detail).filter(|d| !d.is_empty()),
        },
        now,
    )
}

/// An entry with the names behind its ids.
pub struct Listed {
    pub row: AuditRow,
    /// The acting (or, for a failed login, the tried) account's email.
    pub user_email: Option<String>,
    pub org_name: Option<String>,
}

/// One page of a search and how many entries match in all.
pub struct Found {
    pub entries: Vec<Listed>,
    pub total: i64,
}

/// The entries matching `filter`, newest first.
pub fn search(
    conn: &mut AnyConnection,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Found, AppError> {
    let total = store::audit::count(conn, filter)?;
    let rows = store::audit::search(conn, filter, limit, offset)?;
    // Each id once, and a bounded number per query (a CSV may hold 100,000 entries).
    let ids = |f: fn(&AuditRow) -> Option<&String>| -> Vec<String> {
        let unique: BTreeSet<&String> = rows.iter().filter_map(f).collect();
        unique.into_iter().cloned().collect()
    };
    let mut emails = HashMap::new();
    for chunk in ids(|r| r.user_id.as_ref()).chunks(IDS_PER_QUERY) {
        emails.extend(store::users::emails(conn, chunk)?);
    }
    let mut names = HashMap::new();
    for chunk in ids(|r| r.org_id.as_ref()).chunks(IDS_PER_QUERY) {
        names.extend(store::organisations::names(conn, chunk)?);
    }
    let lookup = |map: &HashMap<String, String>, id: &Option<String>| {
        id.as_ref().and_then(|i| map.get(i)).cloned()
    };
    Ok(Found {
        entries: rows
            .into_iter()
            .map(|row| Listed {
                user_email: lookup(&emails, &row.user_id),
                org_name: lookup(&names, &row.org_id),
                row,
            })
            .collect(),
        total,
    })
}

/// The accounts an actor filter by email means (none when no account has it).
pub fn accounts_with_email(conn: &mut AnyConnection, email: &str) -> Result<Vec<String>, AppError> {
    let email: Email = email
        .parse()
        .map_err(|e: String| AppError::invalid("user", e))?;
    Ok(store::users::ids_by_email(conn, email.as_str())?)
}
