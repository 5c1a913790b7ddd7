//! Sign-in sessions, looked up by the hash of the id in the cookie.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::organisations::OrganisationRow;
use super::users::UserRow;
use crate::db::AnyConnection;
use crate::db::schema::{organisations, sessions, users};

pub fn create(
    conn: &mut AnyConnection,
    id_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    // Ended sessions are kept a day (for whoever looks into a report), then dropped.
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(now - TimeDelta::days(1))))
        .execute(conn)?;
    Ok(())
}

/// The live session's active user with their organisation: one primary-key lookup.
pub fn find_user(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(UserRow, OrganisationRow)>> {
    sessions::table
        .inner_join(users::table.inner_join(organisations::table))
        .filter(sessions::id.eq(id_hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::active.eq(true))
        // A suspended organisation's sessions stop at the next request.
        .filter(organisations::suspension_reason.is_null())
        .select((UserRow::as_select(), OrganisationRow::as_select()))
        .get_result(conn)
        .optional()
}

pub fn revoke(conn: &mut AnyConnection, id_hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(id_hash)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
}

/// Ends every session of a user; returns how many were live.
pub fn revoke_all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now)),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
}
