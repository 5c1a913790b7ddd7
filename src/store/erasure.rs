//! Erasure of a person's data: the leads that hold a contact (through the dedup keys),
//! who holds and who bought them, and the scrubbing of every place that keeps contact
//! data in clear (leads, intake evidence, rejected rows, stored files, the mail outbox,
//! dispute and delivery texts). Billing rows (purchases, ledger, invoices) name leads by
//! id only and stay as they are.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    batch_files, batch_rejects, batches, deliveries, dispute_events, disputes, lead_details, leads,
    organisations, outbox, purchases,
};
use crate::domain::dedup::Key;
use crate::domain::intake::BatchStatus;
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::outbox::OutboxStatus;
use crate::domain::rights::ERASED_TEXT;

/// Bind parameters per `IN (...)` list, well under both backends' limits.
const PER_QUERY: usize = 1000;

/// The not yet erased leads whose email or phone has one of these keys.
pub fn lead_ids_with_keys(conn: &mut AnyConnection, keys: &[Key]) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(PER_QUERY) {
        out.extend(
            leads::table
                .filter(leads::status.ne(LeadStatus::Erased))
                .filter(
                    leads::email_key
                        .eq_any(chunk)
                        .or(leads::phone_key.eq_any(chunk)),
                )
                .order(leads::captured_at.asc())
                .select(leads::id)
                .load::<String>(conn)?,
        );
    }
    Ok(out)
}

/// A lead as the person sees it on their page.
#[derive(Debug, Clone, Queryable)]
pub struct HeldLead {
    pub lead_id: String,
    pub agency_name: String,
    pub captured_at: NaiveDateTime,
    pub channel: String,
    pub consent_text: String,
    pub consent_at: NaiveDateTime,
}

pub fn held_leads(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<HeldLead>> {
    let mut out = Vec::new();
    for chunk in lead_ids.chunks(PER_QUERY) {
        out.extend(
            leads::table
                .inner_join(organisations::table)
                .filter(leads::id.eq_any(chunk))
                .order(leads::captured_at.asc())
                .select((
                    leads::id,
                    organisations::name,
                    leads::captured_at,
                    leads::channel,
                    leads::consent_text,
                    leads::consent_at,
                ))
                .load::<HeldLead>(conn)?,
        );
    }
    Ok(out)
}

/// A purchase of one of the leads: who bought it and when, and whether a standing order
/// took it (its callback hears of the erasure).
#[derive(Debug, Clone, Queryable)]
pub struct Sale {
    pub purchase_id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub buyer_name: String,
    pub bought_at: NaiveDateTime,
    pub standing_order_id: Option<String>,
}

pub fn sales_of(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<Sale>> {
    let mut out = Vec::new();
    for chunk in lead_ids.chunks(PER_QUERY) {
        out.extend(
            purchases::table
                .inner_join(organisations::table.on(organisations::id.eq(purchases::buyer_id)))
                .filter(purchases::lead_id.eq_any(chunk))
                .order(purchases::created_at.asc())
                .select((
                    purchases::id,
                    purchases::lead_id,
                    purchases::buyer_id,
                    organisations::name,
                    purchases::created_at,
                    purchases::standing_order_id,
                ))
                .load::<Sale>(conn)?,
        );
    }
    Ok(out)
}

/// What of a lead is about to be erased: the contact values other tables may hold in
/// clear, and its keys (for the suppression list).
#[derive(Debug, Clone, Queryable)]
pub struct Contact {
    pub lead_id: String,
    pub batch_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub email_key: Option<Key>,
    pub phone_key: Option<Key>,
}

pub fn contacts_of(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<Contact>> {
    let mut out = Vec::new();
    for chunk in lead_ids.chunks(PER_QUERY) {
        out.extend(
            leads::table
                .filter(leads::id.eq_any(chunk))
                .select((
                    leads::id,
                    leads::batch_id,
                    leads::email,
                    leads::phone,
                    leads::street,
                    leads::email_key,
                    leads::phone_key,
                ))
                .load::<Contact>(conn)?,
        );
    }
    Ok(out)
}

/// Names, contact, street, keys and evidence gone; the lead is off sale for good. Its
/// id, agency, batch, segment, place, price and sales stay for the books.
pub fn scrub_leads(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in lead_ids.chunks(PER_QUERY) {
        n += diesel::update(leads::table.filter(leads::id.eq_any(chunk)))
            .set((
                leads::first_name.eq(None::<String>),
                leads::last_name.eq(None::<String>),
                leads::email.eq(None::<String>),
                leads::phone.eq(None::<String>),
                leads::email_key.eq(None::<Key>),
                leads::phone_key.eq(None::<Key>),
                leads::street.eq(None::<String>),
                leads::status.eq(LeadStatus::Erased),
            ))
            .execute(conn)?;
        diesel::update(lead_details::table.filter(lead_details::lead_id.eq_any(chunk)))
            .set((
                lead_details::ip_hash.eq(None::<Key>),
                lead_details::comment.eq(None::<String>),
                lead_details::preferred_call_time.eq(None::<String>),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// The free text of disputes about the leads (buyers and agencies quote contacts there)
/// and the answers of callbacks about them (a receiver may echo the lead back).
pub fn scrub_texts_about(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<()> {
    for chunk in lead_ids.chunks(PER_QUERY) {
        let ids: Vec<String> = disputes::table
            .filter(disputes::lead_id.eq_any(chunk))
            .select(disputes::id)
            .load(conn)?;
        if !ids.is_empty() {
            diesel::update(disputes::table.filter(disputes::id.eq_any(&ids)))
                .set(disputes::comment.eq(ERASED_TEXT))
                .execute(conn)?;
            diesel::update(
                disputes::table
                    .filter(disputes::id.eq_any(&ids))
                    .filter(disputes::evidence.is_not_null()),
            )
            .set(disputes::evidence.eq(ERASED_TEXT))
            .execute(conn)?;
            diesel::update(
                disputes::table
                    .filter(disputes::id.eq_any(&ids))
                    .filter(disputes::agency_comment.is_not_null()),
            )
            .set(disputes::agency_comment.eq(ERASED_TEXT))
            .execute(conn)?;
            diesel::update(
                disputes::table
                    .filter(disputes::id.eq_any(&ids))
                    .filter(disputes::decision_comment.is_not_null()),
            )
            .set(disputes::decision_comment.eq(ERASED_TEXT))
            .execute(conn)?;
            diesel::update(dispute_events::table.filter(dispute_events::dispute_id.eq_any(&ids)))
                .set(dispute_events::note.eq(ERASED_TEXT))
                .execute(conn)?;
        }
        diesel::update(
            deliveries::table
                .filter(deliveries::lead_id.eq_any(chunk))
                .filter(deliveries::last_error.is_not_null()),
        )
        .set(deliveries::last_error.eq(ERASED_TEXT))
        .execute(conn)?;
    }
    Ok(())
}

/// Stored upload files of these batches that are no longer being read (a finished
/// batch's file is normally gone already; this makes sure).
pub fn delete_finished_files(conn: &mut AnyConnection, batch_ids: &[String]) -> QueryResult<usize> {
    let finished: Vec<String> = batches::table
        .filter(batches::id.eq_any(batch_ids))
        .filter(batches::status.ne(BatchStatus::Processing))
        .select(batches::id)
        .load(conn)?;
    if finished.is_empty() {
        return Ok(0);
    }
    diesel::delete(batch_files::table.filter(batch_files::batch_id.eq_any(finished))).execute(conn)
}

/// A page of rejected rows after `after` (id), for a scan: (id, cells as JSON).
pub fn rejects_after(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let mut q = batch_rejects::table
        .select((batch_rejects::id, batch_rejects::raw))
        .order(batch_rejects::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(batch_rejects::id.gt(after.to_string()));
    }
    q.load(conn)
}

const ERASED_REASON: &str = "erased: the person had their data erased";

/// The rows' cells are emptied; the row number and outcome stay, so the batch's counts
/// still add up.
pub fn scrub_rejects(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(PER_QUERY) {
        n += diesel::update(batch_rejects::table.filter(batch_rejects::id.eq_any(chunk)))
            .set((
                batch_rejects::raw.eq("[]"),
                batch_rejects::reasons.eq(ERASED_REASON),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Rejected rows of batches made before `cutoff` (retention), a chunk at a time: how
/// many were emptied.
pub fn scrub_rejects_before(
    conn: &mut AnyConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let ids: Vec<String> = batch_rejects::table
        .filter(
            batch_rejects::batch_id.eq_any(
                batches::table
                    .filter(batches::created_at.lt(cutoff))
                    .select(batches::id),
            ),
        )
        .filter(batch_rejects::raw.ne("[]"))
        .select(batch_rejects::id)
        .limit(limit)
        .load(conn)?;
    scrub_rejects(conn, &ids)
}

/// A page of outbox rows after `after` (id), for a scan: (id, recipient, subject, text).
pub fn outbox_after(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(String, String, String, String)>> {
    let mut q = outbox::table
        .filter(outbox::template.ne(ERASED_TEXT))
        .select((
            outbox::id,
            outbox::recipient,
            outbox::subject,
            outbox::text_body,
        ))
        .order(outbox::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(outbox::id.gt(after.to_string()));
    }
    q.load(conn)
}

/// The mails are emptied (recipient, subject, bodies); one not sent yet never will be.
pub fn scrub_outbox(conn: &mut AnyConnection, ids: &[String]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(PER_QUERY) {
        n += diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
            .set((
                outbox::template.eq(ERASED_TEXT),
                outbox::recipient.eq(ERASED_TEXT),
                outbox::subject.eq(ERASED_TEXT),
                outbox::text_body.eq(ERASED_TEXT),
                outbox::html_body.eq(ERASED_TEXT),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(chunk))
                .filter(outbox::status.eq(OutboxStatus::Pending)),
        )
        .set((
            outbox::status.eq(OutboxStatus::Failed),
            outbox::last_error.eq(Some("erased before it was sent")),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// Up to `limit` leads captured before `cutoff` and not erased yet, oldest first, each
/// kind and status walked through `leads_open_fresh_idx` on SQLite; on PostgreSQL that
/// index holds open leads only and sold ones count too, so it scans, once a day
/// (migrations/README.md).
pub fn past_retention(
    conn: &mut AnyConnection,
    cutoff: NaiveDateTime,
    limit: usize,
) -> QueryResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for kind in [LeadKind::Consumer, LeadKind::Targeted] {
        for status in [LeadStatus::Available, LeadStatus::Withdrawn] {
            let left = limit.saturating_sub(out.len());
            if left == 0 {
                return Ok(out);
            }
            out.extend(
                leads::table
                    .filter(leads::kind.eq(kind))
                    .filter(leads::status.eq(status))
                    .filter(leads::captured_at.lt(cutoff))
                    .order(leads::captured_at.asc())
                    .limit(left as i64)
                    .select(leads::id)
                    .load::<String>(conn)?,
            );
        }
    }
    let mut seen = HashSet::new();
    out.retain(|id| seen.insert(id.clone()));
    Ok(out)
}
