//! Postback tokens: the one secret per buyer with which it reports actions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::postback_tokens;

pub fn set(
    conn: &mut AnyConnection,
    buyer_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(postback_tokens::table.find(buyer_id)).execute(conn)?;
    diesel::insert_into(postback_tokens::table)
        .values((
            postback_tokens::organisation_id.eq(buyer_id),
            postback_tokens::token_hash.eq(token_hash),
            postback_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn buyer_by_token(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<String>> {
    postback_tokens::table
        .filter(postback_tokens::token_hash.eq(token_hash))
        .select(postback_tokens::organisation_id)
        .first(conn)
        .optional()
}

pub fn created(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<Option<NaiveDateTime>> {
    postback_tokens::table
        .find(buyer_id)
        .select(postback_tokens::created_at)
        .first(conn)
        .optional()
}
