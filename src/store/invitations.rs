//! Invitations to join an organisation, looked up by id or by the hash of the link's
//! token. Every change is a guarded update on an open one (neither accepted nor revoked),
//! so two clicks change an invitation once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::invitations;
use crate::domain::Role;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub sent_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The account the invitation created, once accepted.
    pub user_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub organisation_id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub created_at: NaiveDateTime,
    pub sent_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn create(conn: &mut AnyConnection, new: &NewInvitation<'_>) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<InvitationRow> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
}

pub fn find_by_token_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// An unexpired invitation of `email` that is neither accepted nor revoked.
pub fn pending_for_email(
    conn: &mut AnyConnection,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::email.eq(email))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// A new link for an open invitation: the old token's hash is replaced, so the old link
/// stops. `false` when it was accepted or revoked meanwhile.
pub fn renew(
    conn: &mut AnyConnection,
    id: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set((
        invitations::token_hash.eq(token_hash),
        invitations::sent_at.eq(now),
        invitations::expires_at.eq(expires_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes an open invitation; `false` when it was accepted or revoked already.
pub fn revoke(conn: &mut AnyConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null()),
    )
    .set(invitations::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Uses the link of `token_hash` once, recording the account it made: `true` for the one
/// caller that did (two tabs sending the same link make one account).
pub fn accept(
    conn: &mut AnyConnection,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(now)),
    )
    .set((
        invitations::accepted_at.eq(now),
        invitations::user_id.eq(user_id),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open invitations, newest first: of one organisation, or all.
pub fn list_open(
    conn: &mut AnyConnection,
    organisation_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<InvitationRow>> {
    let mut q = invitations::table
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(invitations::organisation_id.eq(org.to_string()));
    }
    q.order((invitations::created_at.desc(), invitations::id.desc()))
        .limit(limit)
        .select(InvitationRow::as_select())
        .load(conn)
}
