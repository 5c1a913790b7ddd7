//! Intake storage: uploaded file chunks, rejected rows, the suppression list, intake
//! evidence, and the dedup and burst look-ups, each done per chunk rather than per row.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{batch_files, batch_rejects, lead_details, leads, suppressions};
use crate::domain::dedup::Key;
use crate::domain::intake::{RejectOutcome, SuppressionKind};
use crate::domain::lead::LeadStatus;

/// Bytes per stored piece of an uploaded file.
pub const FILE_CHUNK_BYTES: usize = 1 << 20;

pub fn append_file_chunk(
    conn: &mut AnyConnection,
    batch_id: &str,
    seq: i32,
    data: &[u8],
) -> QueryResult<usize> {
    diesel::insert_into(batch_files::table)
        .values((
            batch_files::batch_id.eq(batch_id),
            batch_files::seq.eq(seq),
            batch_files::data.eq(data),
        ))
        .execute(conn)
}

pub fn file_chunk(
    conn: &mut AnyConnection,
    batch_id: &str,
    seq: i32,
) -> QueryResult<Option<Vec<u8>>> {
    batch_files::table
        .filter(batch_files::batch_id.eq(batch_id))
        .filter(batch_files::seq.eq(seq))
        .select(batch_files::data)
        .first(conn)
        .optional()
}

pub fn has_file(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<bool> {
    Ok(file_chunk_count(conn, batch_id)? > 0)
}

fn file_chunk_count(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<i64> {
    batch_files::table
        .filter(batch_files::batch_id.eq(batch_id))
        .count()
        .get_result(conn)
}

/// The file is no longer needed once every row is counted.
pub fn delete_file(conn: &mut AnyConnection, batch_id: &str) -> QueryResult<usize> {
    diesel::delete(batch_files::table.filter(batch_files::batch_id.eq(batch_id))).execute(conn)
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = batch_rejects)]
#[diesel(treat_none_as_default_value = false)]
pub struct RejectRow {
    pub id: String,
    pub batch_id: String,
    pub row_number: i32,
    pub outcome: RejectOutcome,
    /// `code: message` entries joined by `; `.
    pub reasons: String,
    /// The row's cells as uploaded, as a JSON array.
    pub raw: String,
}

pub fn insert_rejects(conn: &mut AnyConnection, rows: &[RejectRow]) -> QueryResult<usize> {
    crate::copy_in!(conn, batch_rejects::table, rows)
}

/// A page of a batch's rejected rows after `after_row`, in row order.
pub fn rejects_page(
    conn: &mut AnyConnection,
    batch_id: &str,
    after_row: i32,
    limit: i64,
) -> QueryResult<Vec<RejectRow>> {
    batch_rejects::table
        .filter(batch_rejects::batch_id.eq(batch_id))
        .filter(batch_rejects::row_number.gt(after_row))
        .order(batch_rejects::row_number.asc())
        .limit(limit)
        .select(RejectRow::as_select())
        .load(conn)
}

/// Reason codes and how often each occurs in a batch, most common first.
pub fn reject_summary(
    conn: &mut AnyConnection,
    batch_id: &str,
    limit: i64,
) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<String> = batch_rejects::table
        .filter(batch_rejects::batch_id.eq(batch_id))
        .select(batch_rejects::reasons)
        .limit(50_000)
        .load(conn)?;
    let mut counts: HashMap<String, i64> = HashMap::new();
    for reasons in rows {
        for r in reasons.split("; ") {
            let code = r.split(':').next().unwrap_or(r).trim().to_string();
            *counts.entry(code).or_default() += 1;
        }
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(limit as usize);
    Ok(out)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lead_details)]
#[diesel(treat_none_as_default_value = false)]
pub struct LeadDetailsRow {
    pub lead_id: String,
    /// `domain::dedup::ip_key` of the form's client address.
    pub ip_hash: Option<Key>,
    pub form_seconds: Option<i32>,
    pub comment: Option<String>,
    pub preferred_call_time: Option<String>,
    pub captured_at: NaiveDateTime,
}

pub fn insert_details(conn: &mut AnyConnection, rows: &[LeadDetailsRow]) -> QueryResult<usize> {
    crate::copy_in!(conn, lead_details::table, rows)
}

/// Bind parameters per `IN (...)` list, well under both backends' limits.
const KEYS_PER_QUERY: usize = 5000;

/// Which of these dedup keys belong to a lead captured since `since`, or to any lead of
/// this batch (a batch never holds the same person twice). Each key list is probed
/// through its `(key, captured_at)` index alone and the window is applied here: an `OR`
/// in SQL made the planners scan the table.
pub fn existing_keys(
    conn: &mut AnyConnection,
    keys: &[Key],
    since: NaiveDateTime,
    batch_id: &str,
) -> QueryResult<HashSet<Key>> {
    let mut found = HashSet::new();
    let mut keep = |rows: Vec<(Option<Key>, NaiveDateTime, String)>| {
        for (key, captured_at, batch) in rows {
            if let Some(key) = key
                && (captured_at >= since || batch == batch_id)
            {
                found.insert(key);
            }
        }
    };
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        keep(
            leads::table
                .filter(leads::phone_key.eq_any(chunk))
                .select((leads::phone_key, leads::captured_at, leads::batch_id))
                .load(conn)?,
        );
        keep(
            leads::table
                .filter(leads::email_key.eq_any(chunk))
                .select((leads::email_key, leads::captured_at, leads::batch_id))
                .load(conn)?,
        );
    }
    Ok(found)
}

pub fn suppressed_keys(conn: &mut AnyConnection, keys: &[Key]) -> QueryResult<HashSet<Key>> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let hits: Vec<Key> = suppressions::table
            .filter(suppressions::key_hash.eq_any(chunk))
            .select(suppressions::key_hash)
            .load(conn)?;
        found.extend(hits);
    }
    Ok(found)
}

/// Capture times of earlier leads per IP hash within `[from, to]`.
pub fn ip_capture_times(
    conn: &mut AnyConnection,
    ip_hashes: &[Key],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<HashMap<Key, Vec<NaiveDateTime>>> {
    let mut out: HashMap<Key, Vec<NaiveDateTime>> = HashMap::new();
    for chunk in ip_hashes.chunks(KEYS_PER_QUERY) {
        let rows: Vec<(Option<Key>, NaiveDateTime)> = lead_details::table
            .filter(lead_details::ip_hash.eq_any(chunk))
            .filter(lead_details::captured_at.between(from, to))
            .select((lead_details::ip_hash, lead_details::captured_at))
            .load(conn)?;
        for (ip, at) in rows {
            if let Some(ip) = ip {
                out.entry(ip).or_default().push(at);
            }
        }
    }
    Ok(out)
}

/// Adds keys to the suppression list; keys already there are left as they are.
/// Returns how many were new.
pub fn add_suppressions(
    conn: &mut AnyConnection,
    entries: &[(Key, SuppressionKind)],
    reason: &str,
    source: &str,
) -> QueryResult<usize> {
    let existing = suppressed_keys(
        conn,
        &entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
    )?;
    let now = super::now();
    let mut seen = HashSet::new();
    let fresh: Vec<_> = entries
        .iter()
        .filter(|(k, _)| !existing.contains(k) && seen.insert(k.clone()))
        .map(|(k, kind)| {
            (
                suppressions::key_hash.eq(k.clone()),
                // Owned: small batches go as prepared statements, keyed by a 'static type.
                suppressions::kind.eq(*kind),
                suppressions::reason.eq(reason.to_string()),
                suppressions::source.eq(source.to_string()),
                suppressions::created_at.eq(now),
            )
        })
        .collect();
    let mut n = 0;
    for chunk in fresh.chunks(1000) {
        n += crate::insert_many!(&mut *conn, suppressions::table, chunk)?;
    }
    Ok(n)
}

/// Takes every open lead holding one of `keys` (email or phone hashes) off sale, across
/// batches and agencies: a suppressed person is never sold again. Returns how many.
pub fn withdraw_suppressed_leads(conn: &mut AnyConnection, keys: &[Key]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        n += diesel::update(
            leads::table
                .filter(leads::status.eq(LeadStatus::Available))
                .filter(
                    leads::email_key
                        .eq_any(chunk)
                        .or(leads::phone_key.eq_any(chunk)),
                ),
        )
        .set(leads::status.eq(LeadStatus::Withdrawn))
        .execute(conn)?;
    }
    Ok(n)
}

/// One entry of the suppression list (its key is a hash, never the contact).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = suppressions)]
pub struct SuppressionRow {
    pub kind: SuppressionKind,
    pub reason: String,
    pub source: String,
    pub created_at: NaiveDateTime,
}

pub fn find_suppression(
    conn: &mut AnyConnection,
    key: &[u8],
) -> QueryResult<Option<SuppressionRow>> {
    suppressions::table
        .filter(suppressions::key_hash.eq(key.to_vec()))
        .select(SuppressionRow::as_select())
        .first(conn)
        .optional()
}

/// Takes one entry off the list (an admin's removal, audited by the caller).
pub fn remove_suppression(conn: &mut AnyConnection, key: &[u8]) -> QueryResult<bool> {
    Ok(
        diesel::delete(suppressions::table.filter(suppressions::key_hash.eq(key.to_vec())))
            .execute(conn)?
            == 1,
    )
}

pub fn suppression_counts(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(SuppressionKind, String, i64)>> {
    suppressions::table
        .group_by((suppressions::kind, suppressions::reason))
        .select((
            suppressions::kind,
            suppressions::reason,
            diesel::dsl::count_star(),
        ))
        .order((suppressions::kind.asc(), suppressions::reason.asc()))
        .load(conn)
}
