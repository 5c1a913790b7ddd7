//! Leads: bulk insertion and the counts pages show. Contact fields never leave this module
//! in a type meant for a buyer before sale.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{batches, leads};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::scoring::{ContactType, Warmth};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = leads)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewLeadRow {
    pub id: String,
    pub batch_id: String,
    pub agency_id: String,
    pub kind: LeadKind,
    pub segment: String,
    pub channel: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `domain::dedup` keys (SHA-256 digests) of the normalised email and phone.
    pub email_key: Option<Vec<u8>>,
    pub phone_key: Option<Vec<u8>>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub street: Option<String>,
    pub warmth: Warmth,
    pub contact_type: ContactType,
    pub verified: bool,
    pub consent_at: NaiveDateTime,
    pub consent_text: String,
    pub captured_at: NaiveDateTime,
    pub score: i32,
    pub flags: String,
    /// Today's unit price with the admin's modifiers (see `domain::pricing`).
    pub list_price_cents: i64,
    pub max_sales: i32,
    pub sales_count: i32,
    pub status: LeadStatus,
    pub created_at: NaiveDateTime,
    /// `domain::catalogue::postal_key` of the country and postal code.
    pub postal_key: Option<String>,
}

/// Inserts many leads (COPY on PostgreSQL); the caller holds the transaction.
pub fn insert_many(conn: &mut AnyConnection, rows: &[NewLeadRow]) -> QueryResult<usize> {
    crate::copy_in!(conn, leads::table, rows)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    leads::table.count().get_result(conn)
}

/// Counts of one agency's leads: (total, available with sales left, sales made).
/// Through the agency's batches (each belongs to one agency), so `leads_batch_idx`
/// serves them and `leads` needs no index by agency (see migrations/README.md).
pub fn agency_totals(conn: &mut AnyConnection, agency_id: &str) -> QueryResult<(i64, i64, i64)> {
    let of_agency = || {
        leads::batch_id.eq_any(
            batches::table
                .filter(batches::agency_id.eq(agency_id))
                .select(batches::id),
        )
    };
    let total = leads::table.filter(of_agency()).count().get_result(conn)?;
    let available = leads::table
        .filter(of_agency())
        .filter(leads::status.eq(LeadStatus::Available))
        .filter(leads::sales_count.lt(leads::max_sales))
        .count()
        .get_result(conn)?;
    let sold: Option<i64> = leads::table
        .filter(of_agency())
        .select(diesel::dsl::sum(leads::sales_count))
        .get_result(conn)?;
    Ok((total, available, sold.unwrap_or(0)))
}

/// Consumer leads a buyer could buy now, per top-level segment, most first.
pub fn open_catalogue_by_segment(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = leads::table
        .filter(leads::kind.eq(LeadKind::Consumer))
        .filter(leads::status.eq(LeadStatus::Available))
        .filter(leads::sales_count.lt(leads::max_sales))
        .group_by(leads::segment)
        .select((leads::segment, diesel::dsl::count_star()))
        .load(conn)?;
    let tree = crate::store::reference::segment_tree(conn)?;
    let mut top: std::collections::BTreeMap<String, i64> = Default::default();
    for (segment, n) in rows {
        *top.entry(tree.root(&segment).to_string()).or_default() += n;
    }
    let mut out: Vec<_> = top.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Open consumer leads captured since `since`.
pub fn open_catalogue_since(conn: &mut AnyConnection, since: NaiveDateTime) -> QueryResult<i64> {
    leads::table
        .filter(leads::kind.eq(LeadKind::Consumer))
        .filter(leads::status.eq(LeadStatus::Available))
        .filter(leads::sales_count.lt(leads::max_sales))
        .filter(leads::captured_at.ge(since))
        .count()
        .get_result(conn)
}

/// Leads per status across the marketplace.
pub fn count_by_status(conn: &mut AnyConnection) -> QueryResult<Vec<(LeadStatus, i64)>> {
    leads::table
        .group_by(leads::status)
        .select((leads::status, diesel::dsl::count_star()))
        .order(leads::status.asc())
        .load(conn)
}

/// A batch's leads per warmth, for its page.
pub fn batch_warmth_counts(
    conn: &mut AnyConnection,
    batch_id: &str,
) -> QueryResult<Vec<(String, i64)>> {
    leads::table
        .filter(leads::batch_id.eq(batch_id))
        .group_by(leads::warmth)
        .select((leads::warmth, diesel::dsl::count_star()))
        .order(leads::warmth.asc())
        .load(conn)
}

/// Adds a flag to a lead's comma-separated flags (once).
pub fn add_flag(conn: &mut AnyConnection, lead_id: &str, flag: &str) -> QueryResult<()> {
    let current: String = leads::table
        .find(lead_id)
        .select(leads::flags)
        .get_result(conn)?;
    if current.split(',').any(|f| f == flag) {
        return Ok(());
    }
    let flags = if current.is_empty() {
        flag.to_string()
    } else {
        format!("{current},{flag}")
    };
    diesel::update(leads::table.find(lead_id))
        .set(leads::flags.eq(flags))
        .execute(conn)
        .map(drop)
}

/// What rescoring reads of a lead.
#[derive(Debug, Clone, Queryable)]
pub struct ScoreFacts {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub warmth: Warmth,
    pub contact_type: ContactType,
    pub verified: bool,
    pub captured_at: NaiveDateTime,
    pub flags: String,
}

/// An agency's lead, for rescoring; `None` when the agency has no such lead.
pub fn score_facts(
    conn: &mut AnyConnection,
    agency_id: &str,
    lead_id: &str,
) -> QueryResult<Option<ScoreFacts>> {
    leads::table
        .filter(leads::id.eq(lead_id))
        .filter(leads::agency_id.eq(agency_id))
        .select((
            leads::first_name,
            leads::last_name,
            leads::phone,
            leads::email,
            leads::street,
            leads::postal_code,
            leads::warmth,
            leads::contact_type,
            leads::verified,
            leads::captured_at,
            leads::flags,
        ))
        .get_result(conn)
        .optional()
}

pub fn set_score(conn: &mut AnyConnection, lead_id: &str, score: i32) -> QueryResult<()> {
    diesel::update(leads::table.find(lead_id))
        .set(leads::score.eq(score))
        .execute(conn)
        .map(drop)
}

/// Makes a lead exclusive to its next sale (`max_sales` = sales so far + 1): a lead
/// posted against a ping, or uploaded for a targeted order, goes to one buyer alone.
pub fn make_exclusive(conn: &mut AnyConnection, lead_id: &str) -> QueryResult<usize> {
    diesel::update(leads::table.find(lead_id))
        .set(leads::max_sales.eq(leads::sales_count + 1))
        .execute(conn)
}
