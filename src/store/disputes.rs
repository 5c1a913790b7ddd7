//! Dispute storage: disputes and their events, the counts behind the window, the cap and
//! an agency's quality, and guarded status changes so a dispute is decided once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{dispute_events, disputes, leads, organisations, purchases};
use crate::domain::disputes::{DisputeActor, DisputeEvent, DisputeStatus};
use crate::domain::lead::LeadStatus;
use crate::domain::{OrgKind, OrgStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = disputes)]
pub struct DisputeRow {
    pub id: String,
    pub purchase_id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub agency_id: String,
    pub reason: String,
    pub comment: String,
    pub status: DisputeStatus,
    pub decided_by: Option<DisputeActor>,
    pub evidence: Option<String>,
    pub agency_comment: Option<String>,
    pub decision_comment: Option<String>,
    pub amount_cents: i64,
    pub deadline_at: NaiveDateTime,
    pub credit_transaction_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispute_events)]
pub struct EventRow {
    pub actor: DisputeActor,
    pub action: DisputeEvent,
    pub note: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &DisputeRow) -> QueryResult<()> {
    diesel::insert_into(disputes::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<DisputeRow> {
    disputes::table
        .find(id)
        .select(DisputeRow::as_select())
        .first(conn)
}

pub fn record(
    conn: &mut AnyConnection,
    dispute_id: &str,
    actor: DisputeActor,
    user_id: Option<&str>,
    action: DisputeEvent,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(dispute_events::table)
        .values((
            dispute_events::id.eq(super::new_id()),
            dispute_events::dispute_id.eq(dispute_id),
            dispute_events::actor.eq(actor),
            dispute_events::user_id.eq(user_id),
            dispute_events::action.eq(action),
            dispute_events::note.eq(note),
            dispute_events::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn events(conn: &mut AnyConnection, dispute_id: &str) -> QueryResult<Vec<EventRow>> {
    dispute_events::table
        .filter(dispute_events::dispute_id.eq(dispute_id))
        .order((dispute_events::created_at.asc(), dispute_events::id.asc()))
        .select(EventRow::as_select())
        .load(conn)
}

/// Who sees which disputes.
pub enum Scope<'a> {
    Buyer(&'a str),
    Agency(&'a str),
    /// Finance's queue: contested and escalated disputes, and the rest on request.
    All,
}

pub fn list(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    statuses: &[DisputeStatus],
) -> QueryResult<Vec<DisputeRow>> {
    let mut q = disputes::table.into_boxed();
    q = match scope {
        Scope::Buyer(b) => q.filter(disputes::buyer_id.eq(b.to_string())),
        Scope::Agency(a) => q.filter(disputes::agency_id.eq(a.to_string())),
        Scope::All => q,
    };
    if !statuses.is_empty() {
        q = q.filter(disputes::status.eq_any(statuses.to_vec()));
    }
    q.order((disputes::created_at.desc(), disputes::id.desc()))
        .limit(500)
        .select(DisputeRow::as_select())
        .load(conn)
}

/// Moves a dispute from one of `from` to `to`: false when someone else moved it first.
pub fn transition(
    conn: &mut AnyConnection,
    id: &str,
    from: &[DisputeStatus],
    to: DisputeStatus,
    decided_by: Option<DisputeActor>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let decided = matches!(to, DisputeStatus::Approved | DisputeStatus::Rejected);
    Ok(diesel::update(
        disputes::table
            .find(id)
            .filter(disputes::status.eq_any(from.to_vec())),
    )
    .set((
        disputes::status.eq(to),
        disputes::decided_by.eq(decided_by),
        disputes::decided_at.eq(decided.then_some(now)),
    ))
    .execute(conn)?
        == 1)
}

pub fn set_agency_comment(conn: &mut AnyConnection, id: &str, comment: &str) -> QueryResult<()> {
    diesel::update(disputes::table.find(id))
        .set(disputes::agency_comment.eq(comment))
        .execute(conn)
        .map(drop)
}

pub fn set_decision(
    conn: &mut AnyConnection,
    id: &str,
    comment: Option<&str>,
    evidence: Option<&str>,
    credit_transaction_id: Option<&str>,
) -> QueryResult<()> {
    if let Some(c) = comment {
        diesel::update(disputes::table.find(id))
            .set(disputes::decision_comment.eq(c))
            .execute(conn)?;
    }
    if let Some(e) = evidence {
        diesel::update(disputes::table.find(id))
            .set(disputes::evidence.eq(e))
            .execute(conn)?;
    }
    if let Some(t) = credit_transaction_id {
        diesel::update(disputes::table.find(id))
            .set(disputes::credit_transaction_id.eq(t))
            .execute(conn)?;
    }
    Ok(())
}

/// Open disputes whose answer deadline has passed.
pub fn overdue(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    disputes::table
        .filter(disputes::status.eq(DisputeStatus::Open))
        .filter(disputes::deadline_at.lt(now))
        .select(disputes::id)
        .load(conn)
}

pub fn buyer_disputes_since(
    conn: &mut AnyConnection,
    buyer_id: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    disputes::table
        .filter(disputes::buyer_id.eq(buyer_id))
        .filter(disputes::created_at.ge(since))
        .count()
        .get_result(conn)
}

pub fn buyer_purchases_since(
    conn: &mut AnyConnection,
    buyer_id: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    purchases::table
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// (approved disputes, sales) of an agency since `since`.
pub fn agency_rate_since(
    conn: &mut AnyConnection,
    agency_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, i64)> {
    let approved = disputes::table
        .filter(disputes::agency_id.eq(agency_id))
        .filter(disputes::status.eq(DisputeStatus::Approved))
        .filter(disputes::decided_at.ge(since))
        .count()
        .get_result(conn)?;
    let sales = purchases::table
        .filter(purchases::agency_id.eq(agency_id))
        .filter(purchases::created_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok((approved, sales))
}

/// (approved, all) disputes a buyer opened since `since`: its return history.
pub fn buyer_returns_since(
    conn: &mut AnyConnection,
    buyer_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, i64)> {
    let all: i64 = disputes::table
        .filter(disputes::buyer_id.eq(buyer_id))
        .filter(disputes::created_at.ge(since))
        .count()
        .get_result(conn)?;
    let approved: i64 = disputes::table
        .filter(disputes::buyer_id.eq(buyer_id))
        .filter(disputes::created_at.ge(since))
        .filter(disputes::status.eq(DisputeStatus::Approved))
        .count()
        .get_result(conn)?;
    Ok((approved, all))
}

/// A buyer's purchase of a lead, found by lead or by purchase id:
/// (purchase id, lead id, agency id, price, commission, bought at).
pub type BoughtLead = (String, String, String, i64, i64, NaiveDateTime);

pub fn purchase_of(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_id: Option<&str>,
    purchase_id: Option<&str>,
) -> QueryResult<Option<BoughtLead>> {
    let mut q = purchases::table
        .filter(purchases::buyer_id.eq(buyer_id))
        .into_boxed();
    if let Some(l) = lead_id {
        q = q.filter(purchases::lead_id.eq(l.to_string()));
    }
    if let Some(p) = purchase_id {
        q = q.filter(purchases::id.eq(p.to_string()));
    }
    q.select((
        purchases::id,
        purchases::lead_id,
        purchases::agency_id,
        purchases::price_cents,
        purchases::commission_cents,
        purchases::created_at,
    ))
    .first(conn)
    .optional()
}

/// What the automatic rules read of a lead: (phone, email, country, status, flags,
/// phone key, email key).
pub type LeadEvidence = (
    Option<String>,
    Option<String>,
    String,
    LeadStatus,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

pub fn lead_evidence(conn: &mut AnyConnection, lead_id: &str) -> QueryResult<LeadEvidence> {
    leads::table
        .find(lead_id)
        .select((
            leads::phone,
            leads::email,
            leads::country,
            leads::status,
            leads::flags,
            leads::phone_key,
            leads::email_key,
        ))
        .first(conn)
}

/// Whether the buyer bought another lead of the same person (phone or email key) before.
pub fn bought_same_person_before(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_id: &str,
    before: NaiveDateTime,
    phone_key: Option<&[u8]>,
    email_key: Option<&[u8]>,
) -> QueryResult<bool> {
    let keys: Vec<Vec<u8>> = [phone_key, email_key]
        .into_iter()
        .flatten()
        .map(<[u8]>::to_vec)
        .collect();
    if keys.is_empty() {
        return Ok(false);
    }
    let n: i64 = purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::created_at.lt(before))
        .filter(leads::id.ne(lead_id))
        .filter(
            leads::phone_key
                .eq_any(keys.clone())
                .or(leads::email_key.eq_any(keys)),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Takes a lead off sale for everyone (returned as fake).
pub fn withdraw_lead(conn: &mut AnyConnection, lead_id: &str) -> QueryResult<()> {
    diesel::update(
        leads::table
            .find(lead_id)
            .filter(leads::status.eq(LeadStatus::Available)),
    )
    .set(leads::status.eq(LeadStatus::Withdrawn))
    .execute(conn)
    .map(drop)
}

/// Suspends or reinstates an agency's listings; true when the status changed.
pub fn set_agency_status(
    conn: &mut AnyConnection,
    agency_id: &str,
    status: OrgStatus,
) -> QueryResult<bool> {
    Ok(diesel::update(
        organisations::table
            .find(agency_id)
            .filter(organisations::kind.eq(OrgKind::Agency))
            .filter(organisations::status.ne(status)),
    )
    .set(organisations::status.eq(status))
    .execute(conn)?
        == 1)
}

/// The platform organisation's id (where admins belong).
pub fn platform_id(conn: &mut AnyConnection) -> QueryResult<Option<String>> {
    organisations::table
        .filter(organisations::kind.eq(OrgKind::Platform))
        .select(organisations::id)
        .first(conn)
        .optional()
}

/// What finance reads of a lead's intake: (consent text, flags, captured at, status).
pub fn lead_intake_evidence(
    conn: &mut AnyConnection,
    lead_id: &str,
) -> QueryResult<(String, String, NaiveDateTime, String)> {
    leads::table
        .find(lead_id)
        .select((
            leads::consent_text,
            leads::flags,
            leads::captured_at,
            leads::status,
        ))
        .first(conn)
}

pub fn exists_for_purchase(conn: &mut AnyConnection, purchase_id: &str) -> QueryResult<bool> {
    Ok(disputes::table
        .filter(disputes::purchase_id.eq(purchase_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// What names a disputed lead to people: when it was captured, its segment, and the
/// contact the buyer bought (empty once erased).
#[derive(Debug, Clone, Queryable)]
pub struct DisputedLead {
    pub id: String,
    pub captured_at: NaiveDateTime,
    pub segment: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The disputed leads among `lead_ids`; callers pass only leads of disputes they may see.
pub fn disputed_leads(
    conn: &mut AnyConnection,
    lead_ids: &[String],
) -> QueryResult<Vec<DisputedLead>> {
    let mut out = Vec::new();
    for ids in lead_ids.chunks(5000) {
        out.extend(
            leads::table
                .filter(leads::id.eq_any(ids))
                .select((
                    leads::id,
                    leads::captured_at,
                    leads::segment,
                    leads::first_name,
                    leads::last_name,
                    leads::phone,
                    leads::email,
                ))
                .load::<DisputedLead>(conn)?,
        );
    }
    Ok(out)
}
