//! Purchases: what a sale checks of each lead, taking a sale, the purchase rows and what
//! a buyer bought (with contact fields, for that buyer only).

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Text};

use super::{contains_pattern, lower};
use crate::db::AnyConnection;
use crate::db::schema::{batches, leads, organisations, purchases, suppressions};
use crate::domain::OrgStatus;
use crate::domain::lead::{LeadKind, LeadStatus};

#[derive(Debug, Clone, Queryable)]
pub struct SaleFacts {
    pub id: String,
    pub agency_id: String,
    pub batch_id: String,
    pub kind: LeadKind,
    pub status: LeadStatus,
    pub warmth: String,
    pub segment: String,
    pub country: String,
    pub captured_at: NaiveDateTime,
    /// The batch's base price, before modifiers.
    pub base_cents: i64,
    pub max_sales: i32,
    pub sales_count: i32,
}

/// The columns of [`SaleFacts`], from `leads` joined to `batches`.
macro_rules! sale_facts_columns {
    () => {
        (
            leads::id,
            leads::agency_id,
            leads::batch_id,
            leads::kind,
            leads::status,
            leads::warmth,
            leads::segment,
            leads::country,
            leads::captured_at,
            batches::price_cents,
            leads::max_sales,
            leads::sales_count,
        )
    };
}

pub(super) use sale_facts_columns;

pub fn sale_facts(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<SaleFacts>> {
    leads::table
        .inner_join(batches::table)
        .filter(leads::id.eq_any(lead_ids))
        .select(sale_facts_columns!())
        .load(conn)
}

/// What a purchase checks of each lead, in one round trip: the sale facts, whether its
/// agency's listings are suspended and whether this buyer bought it already.
#[derive(Debug, Clone, Queryable)]
pub struct PurchaseFacts {
    pub sale: SaleFacts,
    pub agency_status: OrgStatus,
    pub bought: bool,
    /// The person's email or phone is on the suppression list.
    pub suppressed: bool,
}

impl PurchaseFacts {
    pub fn agency_suspended(&self) -> bool {
        self.agency_status != OrgStatus::Active
    }
}

pub fn purchase_facts(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_ids: &[String],
) -> QueryResult<Vec<PurchaseFacts>> {
    let bought = diesel::dsl::exists(
        purchases::table
            .filter(purchases::lead_id.eq(leads::id))
            .filter(purchases::buyer_id.eq(buyer_id)),
    );
    let suppressed = diesel::dsl::exists(
        suppressions::table.filter(
            suppressions::key_hash
                .nullable()
                .eq(leads::email_key)
                .or(suppressions::key_hash.nullable().eq(leads::phone_key)),
        ),
    );
    leads::table
        .inner_join(batches::table)
        .inner_join(organisations::table.on(organisations::id.eq(leads::agency_id)))
        .filter(leads::id.eq_any(lead_ids))
        .select((
            sale_facts_columns!(),
            organisations::status,
            bought,
            suppressed,
        ))
        .load(conn)
}

/// One more sale of a lead, only while it has sales left and its person is not
/// suppressed: `false` otherwise. Under PostgreSQL's default isolation a waiting UPDATE
/// re-checks the WHERE after the lock; the suppression check runs inside the purchase's
/// transaction, so a suppression committed before it is always seen.
pub fn take_sale(conn: &mut AnyConnection, lead_id: &str) -> QueryResult<bool> {
    TakeSale { lead_id }.execute(conn).map(|n| n == 1)
}

// Diesel prepares an UPDATE afresh every time (a changeset's SQL may vary), so
// PostgreSQL would parse and plan this on every sale. Written as a fixed statement it
// is prepared once per connection (as `credit::charge_within_limit` is).

struct TakeSale<'a> {
    lead_id: &'a str,
}

impl QueryId for TakeSale<'_> {
    type QueryId = TakeSale<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for TakeSale<'_>
where
    DB: Backend + HasSqlType<Text>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE leads SET sales_count = sales_count + 1 WHERE id = ");
        out.push_bind_param::<Text, str>(self.lead_id)?;
        out.push_sql(
            " AND status = 'available' AND sales_count < max_sales \
             AND NOT EXISTS (SELECT 1 FROM suppressions WHERE key_hash = leads.email_key) \
             AND NOT EXISTS (SELECT 1 FROM suppressions WHERE key_hash = leads.phone_key)",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for TakeSale<'_> {}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purchases)]
pub struct PurchaseRow {
    pub id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub agency_id: String,
    pub price_cents: i64,
    pub commission_cents: i64,
    pub transaction_id: String,
    pub created_at: NaiveDateTime,
    /// The standing order that bought it (`None`: bought by hand).
    pub standing_order_id: Option<String>,
}

pub fn insert(conn: &mut AnyConnection, rows: &[PurchaseRow]) -> QueryResult<usize> {
    // As column tuples, not the derived struct: one purchase's INSERT then stays prepared.
    let values: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                purchases::id.eq(r.id.clone()),
                purchases::lead_id.eq(r.lead_id.clone()),
                purchases::buyer_id.eq(r.buyer_id.clone()),
                purchases::agency_id.eq(r.agency_id.clone()),
                purchases::price_cents.eq(r.price_cents),
                purchases::commission_cents.eq(r.commission_cents),
                purchases::transaction_id.eq(r.transaction_id.clone()),
                purchases::created_at.eq(r.created_at),
                purchases::standing_order_id.eq(r.standing_order_id.clone()),
            )
        })
        .collect();
    let mut n = 0;
    // SQLite binds 9 values a row: stay well under its limit of variables.
    for chunk in values.chunks(1000) {
        n += crate::insert_many!(&mut *conn, purchases::table, chunk)?;
    }
    Ok(n)
}

/// A bought lead with its contact fields, for its buyer only.
#[derive(Debug, Clone, Queryable)]
pub struct BoughtLead {
    pub purchase_id: String,
    pub bought_at: NaiveDateTime,
    pub price_cents: i64,
    pub lead_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub age: i32,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub street: Option<String>,
    pub segment: String,
    pub warmth: String,
    pub contact_type: String,
    pub captured_at: NaiveDateTime,
    pub agency_id: String,
    /// `Erased` once the consumer had the data erased: the contact fields are empty.
    pub lead_status: LeadStatus,
}

impl BoughtLead {
    /// The consumer had the data erased: the buyer must delete its copy.
    pub fn erased(&self) -> bool {
        self.lead_status == LeadStatus::Erased
    }
}

/// The columns of a `BoughtLead`, in its order.
macro_rules! bought_lead_columns {
    () => {
        (
            purchases::id,
            purchases::created_at,
            purchases::price_cents,
            leads::id,
            leads::first_name,
            leads::last_name,
            leads::email,
            leads::phone,
            leads::age,
            leads::country,
            leads::region,
            leads::city,
            leads::postal_code,
            leads::street,
            leads::segment,
            leads::warmth,
            leads::contact_type,
            leads::captured_at,
            purchases::agency_id,
            leads::status,
        )
    };
}

/// The buyer's purchases after `after` (purchase id; v7 ids sort by time), oldest first,
/// unfiltered: the API's list and file.
pub fn bought_leads(
    conn: &mut AnyConnection,
    buyer_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<BoughtLead>> {
    bought(
        conn,
        buyer_id,
        &MyLeadsFilter::default(),
        Walk::OldestAfter(after),
        limit,
    )
}

/// Which way a walk through a buyer's purchases runs, and from which purchase id
/// (exclusive; v7 ids sort by time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk<'a> {
    /// Oldest first (the API, whose cursor only moves forward as purchases are added).
    OldestAfter(Option<&'a str>),
    /// Newest first, as "My leads" lists them (the page and its CSV).
    NewestBefore(Option<&'a str>),
}

/// One purchase of `buyer_id` with its lead's contact fields (a standing order's
/// delivery sends it), or `None`.
pub fn bought_lead(
    conn: &mut AnyConnection,
    buyer_id: &str,
    purchase_id: &str,
) -> QueryResult<Option<BoughtLead>> {
    purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::id.eq(purchase_id))
        .select(bought_lead_columns!())
        .get_result(conn)
        .optional()
}

/// Where a bought lead's dispute stands, as "My leads" filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeState {
    /// Never disputed.
    None,
    /// Disputed and not decided yet.
    Open,
    /// Disputed and approved: the lead was refunded.
    Refunded,
    /// Disputed and rejected.
    Rejected,
}

/// "My leads" filters; `None` or empty means any.
#[derive(Debug, Clone, Default)]
pub struct MyLeadsFilter {
    /// Part of a name, an email or a phone number, as typed.
    pub search: Option<String>,
    pub bought_from: Option<NaiveDateTime>,
    /// Exclusive end.
    pub bought_until: Option<NaiveDateTime>,
    pub agency_id: Option<String>,
    pub segment: Option<String>,
    pub dispute: Option<DisputeState>,
}

/// The one query over a buyer's bought leads: `filter`ed, walked as `walk` says, at most
/// `limit` rows. The API (unfiltered, oldest first), "My leads" and its CSV (filtered,
/// newest first) all read through it, so the file holds exactly what the page lists.
pub fn bought(
    conn: &mut AnyConnection,
    buyer_id: &str,
    filter: &MyLeadsFilter,
    walk: Walk<'_>,
    limit: i64,
) -> QueryResult<Vec<BoughtLead>> {
    use crate::db::schema::disputes;
    use crate::domain::disputes::DisputeStatus;
    let mut q = purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .into_boxed();
    q = match walk {
        Walk::OldestAfter(after) => {
            if let Some(after) = after {
                q = q.filter(purchases::id.gt(after.to_string()));
            }
            q.order(purchases::id.asc())
        }
        Walk::NewestBefore(before) => {
            if let Some(before) = before {
                q = q.filter(purchases::id.lt(before.to_string()));
            }
            q.order(purchases::id.desc())
        }
    };
    if let Some(from) = filter.bought_from {
        q = q.filter(purchases::created_at.ge(from));
    }
    if let Some(until) = filter.bought_until {
        q = q.filter(purchases::created_at.lt(until));
    }
    if let Some(agency) = &filter.agency_id {
        q = q.filter(purchases::agency_id.eq(agency.clone()));
    }
    if let Some(segment) = &filter.segment {
        q = q.filter(leads::segment.eq(segment.clone()));
    }
    if let Some(term) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let text = contains_pattern(&term.to_lowercase());
        let by_text = lower(leads::first_name)
            .like(text.clone())
            .escape('\\')
            .or(lower(leads::last_name).like(text.clone()).escape('\\'))
            .or(lower(leads::email).like(text).escape('\\'));
        // Phones are stored in E.164: match the digits typed, whatever the spacing.
        let digits: String = term.chars().filter(char::is_ascii_digit).collect();
        q = if digits.len() >= 3 {
            q.filter(by_text.or(leads::phone.like(contains_pattern(&digits)).escape('\\')))
        } else {
            q.filter(by_text)
        };
    }
    if let Some(state) = filter.dispute {
        let with = |statuses: &'static [DisputeStatus]| {
            disputes::table
                .filter(disputes::buyer_id.eq(buyer_id.to_string()))
                .filter(disputes::status.eq_any(statuses.to_vec()))
                .select(disputes::purchase_id)
        };
        q = match state {
            DisputeState::None => q.filter(
                purchases::id.ne_all(
                    disputes::table
                        .filter(disputes::buyer_id.eq(buyer_id.to_string()))
                        .select(disputes::purchase_id),
                ),
            ),
            DisputeState::Open => q.filter(purchases::id.eq_any(with(&[
                DisputeStatus::Open,
                DisputeStatus::Contested,
                DisputeStatus::Escalated,
            ]))),
            DisputeState::Refunded => {
                q.filter(purchases::id.eq_any(with(&[DisputeStatus::Approved])))
            }
            DisputeState::Rejected => {
                q.filter(purchases::id.eq_any(with(&[DisputeStatus::Rejected])))
            }
        };
    }
    q.limit(limit).select(bought_lead_columns!()).load(conn)
}

/// The dispute status of each of these purchases that has one.
pub fn dispute_statuses(
    conn: &mut AnyConnection,
    purchase_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, crate::domain::disputes::DisputeStatus>> {
    use crate::db::schema::disputes;
    Ok(disputes::table
        .filter(disputes::purchase_id.eq_any(purchase_ids))
        .select((disputes::purchase_id, disputes::status))
        .load::<(String, crate::domain::disputes::DisputeStatus)>(conn)?
        .into_iter()
        .collect())
}

/// The agencies a buyer has bought from, by name.
pub fn agencies_of_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
) -> QueryResult<Vec<(String, String)>> {
    purchases::table
        .inner_join(organisations::table.on(organisations::id.eq(purchases::agency_id)))
        .filter(purchases::buyer_id.eq(buyer_id))
        .select((organisations::id, organisations::name))
        .distinct()
        .order(organisations::name.asc())
        .load(conn)
}

/// The buyer a targeted lead's batch was uploaded for (through its order).
pub fn targeted_buyers(
    conn: &mut AnyConnection,
    batch_ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    use crate::db::schema::{batches, orders};
    let rows: Vec<(String, String)> = batches::table
        .inner_join(orders::table.on(batches::order_id.eq(orders::id.nullable())))
        .filter(batches::id.eq_any(batch_ids))
        .select((batches::id, orders::buyer_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Every purchase's ledger transaction with its buyer and when its lead's batch came in,
/// oldest purchase id first (the demo spreads its purchases over past months).
pub fn with_batch_times(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(String, String, NaiveDateTime)>> {
    purchases::table
        .inner_join(leads::table.inner_join(batches::table))
        .order(purchases::id.asc())
        .select((
            purchases::transaction_id,
            purchases::buyer_id,
            batches::created_at,
        ))
        .load(conn)
}

/// Moves a purchase transaction (its purchases, ledger transaction and entries) to `at`:
/// the demo's history, so that billing runs find sales in the months they bill.
pub fn backdate(
    conn: &mut AnyConnection,
    transaction_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::{ledger_entries, ledger_transactions};
    diesel::update(purchases::table.filter(purchases::transaction_id.eq(transaction_id)))
        .set(purchases::created_at.eq(at))
        .execute(conn)?;
    diesel::update(ledger_transactions::table.find(transaction_id))
        .set(ledger_transactions::created_at.eq(at))
        .execute(conn)?;
    diesel::update(ledger_entries::table.filter(ledger_entries::transaction_id.eq(transaction_id)))
        .set(ledger_entries::created_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// A bought lead's first name, last name and segment.
pub type LeadLabel = (Option<String>, Option<String>, String);

/// How a buyer's page names a lead it bought (`None` when this buyer did not buy it).
pub fn bought_lead_label(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_id: &str,
) -> QueryResult<Option<LeadLabel>> {
    purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::lead_id.eq(lead_id))
        .select((leads::first_name, leads::last_name, leads::segment))
        .get_result(conn)
        .optional()
}
