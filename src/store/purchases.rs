//! Purchases: what a sale checks of each lead, taking a sale, the purchase rows and what
//! a buyer bought (with contact fields, for that buyer only).

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Text};

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
            )
        })
        .collect();
    let mut n = 0;
    // SQLite binds 8 values a row: stay well under its limit of variables.
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
}

/// The buyer's purchases after `after` (purchase id; v7 ids sort by time), oldest first.
pub fn bought_leads(
    conn: &mut AnyConnection,
    buyer_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<BoughtLead>> {
    let mut q = purchases::table
        .inner_join(leads::table)
        .filter(purchases::buyer_id.eq(buyer_id))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(purchases::id.gt(after.to_string()));
    }
    q.order(purchases::id.asc())
        .limit(limit)
        .select((
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
        ))
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
        .first(conn)
        .optional()
}
