//! Consumers' rights requests: mailed one-time links (looked up by the hash of their
//! token) and phone requests on the admins' queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::rights_requests;
use crate::domain::dedup::Key;
use crate::domain::rights::{RequestChannel, RequestStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rights_requests)]
#[diesel(treat_none_as_default_value = false)]
pub struct RequestRow {
    pub id: String,
    pub channel: RequestChannel,
    pub status: RequestStatus,
    pub token_hash: Option<String>,
    /// The contact's dedup key.
    pub contact_key: Key,
    /// Phone requests: the number, until the request is closed.
    pub phone: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub confirmed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
}

pub fn create(conn: &mut AnyConnection, row: &RequestRow) -> QueryResult<()> {
    diesel::insert_into(rights_requests::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The email request of an unused, unexpired link.
pub fn live_by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<RequestRow>> {
    rights_requests::table
        .filter(rights_requests::token_hash.eq(token_hash))
        .filter(rights_requests::channel.eq(RequestChannel::Email))
        .filter(rights_requests::status.eq(RequestStatus::Pending))
        .filter(rights_requests::expires_at.gt(now))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// An open phone request (pending or confirmed, not lapsed).
pub fn open_phone_request(
    conn: &mut AnyConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<RequestRow>> {
    rights_requests::table
        .filter(rights_requests::id.eq(id))
        .filter(rights_requests::channel.eq(RequestChannel::Phone))
        .filter(rights_requests::status.eq_any([RequestStatus::Pending, RequestStatus::Confirmed]))
        .filter(rights_requests::expires_at.gt(now))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// The admins' queue: open phone requests, oldest first.
pub fn phone_queue(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<Vec<RequestRow>> {
    rights_requests::table
        .filter(rights_requests::channel.eq(RequestChannel::Phone))
        .filter(rights_requests::status.eq_any([RequestStatus::Pending, RequestStatus::Confirmed]))
        .filter(rights_requests::expires_at.gt(now))
        .order(rights_requests::created_at.asc())
        .limit(500)
        .select(RequestRow::as_select())
        .load(conn)
}

/// Pending to confirmed by `user_id`: true for the one caller that did.
pub fn confirm(
    conn: &mut AnyConnection,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        rights_requests::table
            .filter(rights_requests::id.eq(id))
            .filter(rights_requests::status.eq(RequestStatus::Pending)),
    )
    .set((
        rights_requests::status.eq(RequestStatus::Confirmed),
        rights_requests::confirmed_at.eq(now),
        rights_requests::confirmed_by.eq(user_id),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Closes a request that is in one of `from` (a guarded update: a link used in two tabs
/// at once erases once) and blanks its phone. True for the one caller that did.
pub fn close(
    conn: &mut AnyConnection,
    id: &str,
    from: &[RequestStatus],
    to: RequestStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        rights_requests::table
            .filter(rights_requests::id.eq(id))
            .filter(rights_requests::status.eq_any(from.to_vec())),
    )
    .set((
        rights_requests::status.eq(to),
        rights_requests::phone.eq(None::<String>),
        rights_requests::closed_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Every other open request for these contacts is closed as erased too (their links
/// open nothing, their phones are blanked).
pub fn close_all_for_keys(
    conn: &mut AnyConnection,
    keys: &[Key],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in keys.chunks(1000) {
        n += diesel::update(
            rights_requests::table
                .filter(rights_requests::contact_key.eq_any(chunk))
                .filter(
                    rights_requests::status
                        .eq_any([RequestStatus::Pending, RequestStatus::Confirmed]),
                ),
        )
        .set((
            rights_requests::status.eq(RequestStatus::Erased),
            rights_requests::phone.eq(None::<String>),
            rights_requests::closed_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// Lapsed requests lose their phone (the queue no longer shows them).
pub fn blank_lapsed(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        rights_requests::table
            .filter(rights_requests::expires_at.le(now))
            .filter(rights_requests::phone.is_not_null()),
    )
    .set(rights_requests::phone.eq(None::<String>))
    .execute(conn)
}
