//! One-time keys: a finance form's token or a card payment's intent, claimed in the
//! transaction that does the work, so the work happens once per key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::once_keys;
use crate::domain::ledger::OnceKind;

/// Who holds a key already: what kind of work it did and that work's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub kind: OnceKind,
    pub result_id: String,
}

/// Claims `token` for `kind` and `result_id`, inside the caller's transaction. Returns
/// who holds it when it is taken. A concurrent claim of the same key waits on the
/// primary key (PostgreSQL) or the write lock (SQLite) and then finds it taken; the
/// insert runs in a savepoint so the caller's transaction survives the violation.
pub fn claim(
    conn: &mut AnyConnection,
    token: &str,
    kind: OnceKind,
    result_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Taken>> {
    if let Some(taken) = find(conn, token)? {
        return Ok(Some(taken));
    }
    let inserted = super::insert_unless_taken(conn, |c| {
        diesel::insert_into(once_keys::table)
            .values((
                once_keys::token.eq(token),
                once_keys::kind.eq(kind),
                once_keys::result_id.eq(result_id),
                once_keys::created_at.eq(now),
            ))
            .execute(c)
    })?;
    if inserted {
        Ok(None)
    } else {
        find(conn, token)
    }
}

pub fn find(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<Taken>> {
    once_keys::table
        .find(token)
        .select((once_keys::kind, once_keys::result_id))
        .first::<(OnceKind, String)>(conn)
        .optional()
        .map(|r| r.map(|(kind, result_id)| Taken { kind, result_id }))
}
