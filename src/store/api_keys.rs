//! API keys of an organisation, stored hashed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{api_keys, organisations};
use crate::domain::OrgKind;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
struct NewApiKey<'a> {
    id: &'a str,
    organisation_id: &'a str,
    name: &'a str,
    prefix: &'a str,
    key_hash: &'a str,
    created_by: Option<&'a str>,
    created_at: NaiveDateTime,
}

pub fn create(
    conn: &mut AnyConnection,
    organisation_id: &str,
    name: &str,
    prefix: &str,
    key_hash: &str,
    created_by: Option<&str>,
) -> QueryResult<String> {
    let id = super::new_id();
    diesel::insert_into(api_keys::table)
        .values(&NewApiKey {
            id: &id,
            organisation_id,
            name,
            prefix,
            key_hash,
            created_by,
            created_at: super::now(),
        })
        .execute(conn)?;
    Ok(id)
}

pub fn list_for_org(
    conn: &mut AnyConnection,
    organisation_id: &str,
) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::organisation_id.eq(organisation_id))
        .order(api_keys::created_at.desc())
        .select(ApiKeyRow::as_select())
        .load(conn)
}

/// Revokes a key of this organisation; `false` when there is no such key of theirs.
pub fn revoke(conn: &mut AnyConnection, organisation_id: &str, key_id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(key_id))
            .filter(api_keys::organisation_id.eq(organisation_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(super::now()))
    .execute(conn)?;
    if n == 1 {
        return Ok(true);
    }
    // Revoking an already revoked key of one's own is not an error.
    api_keys::table
        .filter(api_keys::id.eq(key_id))
        .filter(api_keys::organisation_id.eq(organisation_id))
        .count()
        .get_result::<i64>(conn)
        .map(|c| c == 1)
}

/// An unrevoked key by its hash: (key id, organisation id).
pub fn find_active_by_hash(
    conn: &mut AnyConnection,
    key_hash: &str,
) -> QueryResult<Option<(String, String)>> {
    api_keys::table
        .inner_join(organisations::table)
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(organisations::suspension_reason.is_null())
        .select((api_keys::id, api_keys::organisation_id))
        .get_result(conn)
        .optional()
}

/// Is this key still unrevoked, and what organisation (id, kind, name) does it act for?
pub fn active_key_org(
    conn: &mut AnyConnection,
    key_id: &str,
    organisation_id: &str,
) -> QueryResult<Option<(String, OrgKind, String)>> {
    api_keys::table
        .inner_join(organisations::table)
        .filter(api_keys::id.eq(key_id))
        .filter(api_keys::organisation_id.eq(organisation_id))
        .filter(api_keys::revoked_at.is_null())
        // A suspended organisation's tokens stop at the next call.
        .filter(organisations::suspension_reason.is_null())
        .select((organisations::id, organisations::kind, organisations::name))
        .get_result(conn)
        .optional()
}

pub fn touch(conn: &mut AnyConnection, key_id: &str) -> QueryResult<usize> {
    diesel::update(api_keys::table.find(key_id))
        .set(api_keys::last_used_at.eq(super::now()))
        .execute(conn)
}
