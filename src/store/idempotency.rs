//! `Idempotency-Key` reservations and their stored responses, per organisation. A row is
//! reserved (status 0, no body) before the work runs and completed with the answer after,
//! so concurrent retries of one key find it taken instead of running the work again.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::AnyConnection;
use crate::db::schema::idempotency_keys;

/// The status stored while the first request with a key is still running.
pub const PENDING: i32 = 0;

pub struct StoredResponse {
    pub request_hash: String,
    /// `PENDING` while the first request runs.
    pub status_code: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
) -> QueryResult<Option<StoredResponse>> {
    idempotency_keys::table
        .filter(idempotency_keys::organisation_id.eq(org_id))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
            idempotency_keys::created_at,
        ))
        .first::<(String, i32, String, NaiveDateTime)>(conn)
        .optional()
        .map(|r| {
            r.map(
                |(request_hash, status_code, body, created_at)| StoredResponse {
                    request_hash,
                    status_code,
                    body,
                    created_at,
                },
            )
        })
}

/// Takes the key for this request (insert-if-absent on the primary key, in its own
/// statement): `false` when another request holds or answered it already.
pub fn reserve(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organisation_id.eq(org_id),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status_code.eq(PENDING),
            idempotency_keys::response_body.eq(""),
            idempotency_keys::created_at.eq(super::now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes over a reservation left pending since before `stale_before` (its process died
/// mid-request); `true` when this request now holds it.
pub fn take_over(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
    request_hash: &str,
    stale_before: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::organisation_id.eq(org_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .filter(idempotency_keys::request_hash.eq(request_hash))
            .filter(idempotency_keys::status_code.eq(PENDING))
            .filter(idempotency_keys::created_at.lt(stale_before)),
    )
    .set(idempotency_keys::created_at.eq(super::now()))
    .execute(conn)
    .map(|n| n == 1)
}

/// Stores the answer of a reserved key.
pub fn complete(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::organisation_id.eq(org_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .filter(idempotency_keys::status_code.eq(PENDING)),
    )
    .set((
        idempotency_keys::status_code.eq(status),
        idempotency_keys::response_body.eq(body),
    ))
    .execute(conn)
}

/// Frees a reserved key whose request failed without an answer worth keeping (an
/// internal error), so a retry runs the work again.
pub fn release(conn: &mut AnyConnection, org_id: &str, key: &str) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::organisation_id.eq(org_id))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .filter(idempotency_keys::status_code.eq(PENDING)),
    )
    .execute(conn)
}
