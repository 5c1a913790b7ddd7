//! Stored responses for `Idempotency-Key`, per organisation.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::idempotency_keys;

pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: i32,
    pub body: String,
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
        ))
        .first::<(String, i32, String)>(conn)
        .optional()
        .map(|r| {
            r.map(|(request_hash, status_code, body)| StoredResponse {
                request_hash,
                status_code,
                body,
            })
        })
}

pub fn save(
    conn: &mut AnyConnection,
    org_id: &str,
    key: &str,
    request_hash: &str,
    status: i32,
    body: &str,
) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organisation_id.eq(org_id),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status_code.eq(status),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::created_at.eq(super::now()),
        ))
        .execute(conn)
}
