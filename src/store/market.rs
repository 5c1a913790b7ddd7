//! Marketplace storage: buyer credit, the ledger, purchases, price rules and the
//! catalogue query. Contact fields never leave here in a catalogue row.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};

use crate::db::AnyConnection;
use crate::db::schema::{
    batches, buyer_accounts, leads, ledger_entries, ledger_transactions, organisations,
    price_rules, pricing_state, purchases, suppressions,
};
use crate::domain::money::Balanced;

/// `SUM` of a BIGINT column as BIGINT: diesel types a plain SUM as NUMERIC, which the
/// two-backend connection cannot read.
fn sum_amount()
-> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::BigInt>> {
    diesel::dsl::sql("CAST(SUM(ledger_entries.amount_cents) AS BIGINT)")
}

pub fn price_rules(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, String, i32)> = price_rules::table
        .select((
            price_rules::kind,
            price_rules::match_value,
            price_rules::factor_bp,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(k, v, b)| (k, v, i64::from(b)))
        .collect())
}

/// (credit limit, owed) of a buyer; a buyer without an account row has neither.
pub fn buyer_account(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<(i64, i64)> {
    Ok(buyer_accounts::table
        .find(buyer_id)
        .select((
            buyer_accounts::credit_limit_cents,
            buyer_accounts::owed_cents,
        ))
        .first(conn)
        .optional()?
        .unwrap_or((0, 0)))
}

pub fn set_credit_limit(
    conn: &mut AnyConnection,
    buyer_id: &str,
    limit_cents: i64,
) -> QueryResult<usize> {
    let now = super::now();
    let updated = diesel::update(buyer_accounts::table.find(buyer_id))
        .set((
            buyer_accounts::credit_limit_cents.eq(limit_cents),
            buyer_accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 1 {
        return Ok(1);
    }
    diesel::insert_into(buyer_accounts::table)
        .values((
            buyer_accounts::organisation_id.eq(buyer_id),
            buyer_accounts::credit_limit_cents.eq(limit_cents),
            buyer_accounts::owed_cents.eq(0i64),
            buyer_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Adds to what a buyer owes only while it stays within the credit limit; `false` when
/// it would not (or the buyer has no credit at all). The guard in the WHERE clause makes
/// concurrent purchases of one buyer safe on both backends.
pub fn charge_within_limit(
    conn: &mut AnyConnection,
    buyer_id: &str,
    amount_cents: i64,
) -> QueryResult<bool> {
    ChargeWithinLimit {
        buyer_id,
        amount_cents,
        now: super::now(),
    }
    .execute(conn)
    .map(|n| n == 1)
}

/// Writes a balanced transaction; returns its id.
pub fn post(
    conn: &mut AnyConnection,
    kind: &str,
    description: &str,
    tx: &Balanced,
) -> QueryResult<String> {
    let id = super::new_id();
    let now = super::now();
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::id.eq(&id),
            ledger_transactions::kind.eq(kind),
            ledger_transactions::description.eq(description),
            ledger_transactions::created_at.eq(now),
        ))
        .execute(conn)?;
    let rows: Vec<_> = tx
        .postings()
        .iter()
        .map(|p| {
            (
                ledger_entries::id.eq(super::new_id()),
                ledger_entries::transaction_id.eq(id.clone()),
                ledger_entries::account.eq(p.account.as_str()),
                ledger_entries::organisation_id.eq(p.organisation_id.clone()),
                ledger_entries::amount_cents.eq(p.amount_cents),
                ledger_entries::created_at.eq(now),
            )
        })
        .collect();
    crate::insert_many!(&mut *conn, ledger_entries::table, &rows)?;
    Ok(id)
}

/// The balance of one account (of one organisation, or the platform's when `None`).
pub fn balance(
    conn: &mut AnyConnection,
    account: &str,
    organisation_id: Option<&str>,
) -> QueryResult<i64> {
    let q = ledger_entries::table
        .filter(ledger_entries::account.eq(account))
        .into_boxed();
    let q = match organisation_id {
        Some(org) => q.filter(ledger_entries::organisation_id.eq(org)),
        None => q.filter(ledger_entries::organisation_id.is_null()),
    };
    let sum: Option<i64> = q.select(sum_amount()).first::<Option<i64>>(conn)?;
    Ok(sum.unwrap_or(0))
}

/// The sum of every entry, and of each transaction that does not balance (should be none).
pub fn trial_balance(conn: &mut AnyConnection) -> QueryResult<(i64, Vec<(String, i64)>)> {
    let total: Option<i64> = ledger_entries::table.select(sum_amount()).first(conn)?;
    let per_tx: Vec<(String, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::transaction_id)
        .select((ledger_entries::transaction_id, sum_amount()))
        .load(conn)?;
    Ok((
        total.unwrap_or(0),
        per_tx
            .into_iter()
            .filter_map(|(id, s)| s.filter(|s| *s != 0).map(|s| (id, s)))
            .collect(),
    ))
}

#[derive(Debug, Clone, Queryable)]
pub struct SaleFacts {
    pub id: String,
    pub agency_id: String,
    pub batch_id: String,
    pub kind: String,
    pub status: String,
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

pub fn sale_facts(conn: &mut AnyConnection, lead_ids: &[String]) -> QueryResult<Vec<SaleFacts>> {
    leads::table
        .inner_join(batches::table)
        .filter(leads::id.eq_any(lead_ids))
        .select(sale_facts_columns!())
        .load(conn)
}

/// Up to `limit` open consumer leads after `after_id` (id order), with their stored list
/// price: one step of repricing.
pub fn pricing_chunk(
    conn: &mut AnyConnection,
    after_id: &str,
    limit: i64,
) -> QueryResult<Vec<(SaleFacts, i64)>> {
    leads::table
        .inner_join(batches::table)
        .filter(leads::kind.eq("consumer"))
        .filter(leads::status.eq("available"))
        .filter(leads::sales_count.lt(leads::max_sales))
        .filter(leads::id.gt(after_id))
        .order(leads::id.asc())
        .limit(limit)
        .select((sale_facts_columns!(), leads::list_price_cents))
        .load(conn)
}

/// Sets one list price on many leads (repricing groups leads by their new price).
pub fn set_list_prices(
    conn: &mut AnyConnection,
    list_price_cents: i64,
    lead_ids: &[String],
) -> QueryResult<usize> {
    let mut n = 0;
    // SQLite binds each id; stay well under its limit of variables.
    for ids in lead_ids.chunks(10_000) {
        n += diesel::update(leads::table.filter(leads::id.eq_any(ids)))
            .set(leads::list_price_cents.eq(list_price_cents))
            .execute(conn)?;
    }
    Ok(n)
}

/// Claims today's repricing: true for the one process that moves `priced_on` to `today`.
pub fn claim_repricing(conn: &mut AnyConnection, today: chrono::NaiveDate) -> QueryResult<bool> {
    Ok(diesel::update(
        pricing_state::table
            .filter(pricing_state::id.eq(1))
            .filter(pricing_state::priced_on.lt(today)),
    )
    .set(pricing_state::priced_on.eq(today))
    .execute(conn)?
        == 1)
}

pub fn set_priced_on(conn: &mut AnyConnection, day: chrono::NaiveDate) -> QueryResult<()> {
    diesel::update(pricing_state::table.filter(pricing_state::id.eq(1)))
        .set(pricing_state::priced_on.eq(day))
        .execute(conn)
        .map(drop)
}

/// What a purchase checks of each lead, in one round trip: the sale facts, whether its
/// agency's listings are suspended and whether this buyer bought it already.
#[derive(Debug, Clone, Queryable)]
pub struct PurchaseFacts {
    pub sale: SaleFacts,
    pub agency_status: String,
    pub bought: bool,
    /// The person's email or phone is on the suppression list.
    pub suppressed: bool,
}

impl PurchaseFacts {
    pub fn agency_suspended(&self) -> bool {
        self.agency_status != "active"
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
// PostgreSQL would parse and plan these two on every sale. Written as fixed statements
// they are prepared once per connection.
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

struct ChargeWithinLimit<'a> {
    buyer_id: &'a str,
    amount_cents: i64,
    now: NaiveDateTime,
}

impl QueryId for ChargeWithinLimit<'_> {
    type QueryId = ChargeWithinLimit<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for ChargeWithinLimit<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE buyer_accounts SET owed_cents = owed_cents + ");
        out.push_bind_param::<BigInt, i64>(&self.amount_cents)?;
        out.push_sql(", updated_at = ");
        out.push_bind_param::<Timestamp, NaiveDateTime>(&self.now)?;
        out.push_sql(" WHERE organisation_id = ");
        out.push_bind_param::<Text, str>(self.buyer_id)?;
        out.push_sql(" AND owed_cents + ");
        out.push_bind_param::<BigInt, i64>(&self.amount_cents)?;
        out.push_sql(" <= credit_limit_cents");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for ChargeWithinLimit<'_> {}

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

pub fn insert_purchases(conn: &mut AnyConnection, rows: &[PurchaseRow]) -> QueryResult<usize> {
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

/// What a catalogue row may hold: filterable facts only, never contact fields.
#[derive(Debug, Clone, Queryable)]
pub struct CatalogueRow {
    pub id: String,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    pub flags: String,
    pub captured_at: NaiveDateTime,
    /// Today's unit price as last computed (for filtering and sorting).
    pub list_price_cents: i64,
    pub max_sales: i32,
    pub sales_count: i32,
    pub agency_id: String,
    pub batch_id: String,
}

/// A catalogue page: rows, their agencies' names by id, and the total that matches.
pub struct CataloguePage {
    pub rows: Vec<CatalogueRow>,
    pub agency_names: std::collections::HashMap<String, String>,
    /// Base price of each row's batch, by batch id.
    pub base_prices: std::collections::HashMap<String, i64>,
    /// Exact up to [`COUNT_CAP`]; beyond it, `COUNT_CAP + 1` with `total_exact` false.
    pub total: i64,
    pub total_exact: bool,
}

/// Counting stops here. One purchase takes at most a thousand leads, so past that the
/// exact figure changes nothing a buyer can do, and counting it would read every match
/// on each page view (at 1M leads a capped count of 10,000 made most of the catalogue's
/// latency: p50 27 ms against 6.5 ms with this cap, on PostgreSQL).
pub const COUNT_CAP: i64 = 1_000;

type Boxed<'a> = leads::BoxedQuery<'a, crate::db::MultiBackend>;

/// The open catalogue for one buyer with filters applied (no sort, no cursor).
/// Which leads a catalogue query leaves out for this buyer.
#[derive(Clone, Copy)]
enum Mine {
    /// Leave out what the buyer bought (a page: a few index probes).
    Exclude,
    /// Keep only what the buyer bought (to subtract from a count).
    Only,
    /// Ignore purchases.
    Ignore,
}

/// The open catalogue with filters applied (no sort, no cursor). Suspended agencies are
/// known up front (rarely any), so no row pays for a per-row organisation lookup.
fn open_catalogue<'a>(
    buyer_id: &'a str,
    f: &'a crate::domain::catalogue::Filter,
    segments: &'a [String],
    suspended: &'a [String],
    mine: Mine,
    now: NaiveDateTime,
) -> Boxed<'a> {
    use diesel::dsl::{exists, not};
    let mut q = leads::table
        .filter(leads::kind.eq("consumer"))
        .filter(leads::status.eq("available"))
        .filter(leads::sales_count.lt(leads::max_sales))
        .into_boxed();
    if !suspended.is_empty() {
        q = q.filter(leads::agency_id.ne_all(suspended));
    }
    let bought = purchases::table
        .filter(purchases::lead_id.eq(leads::id))
        .filter(purchases::buyer_id.eq(buyer_id));
    q = match mine {
        Mine::Exclude => q.filter(not(exists(bought))),
        // Driven from the buyer's purchases (indexed by buyer), not probed per lead.
        Mine::Only => q.filter(
            leads::id.eq_any(
                purchases::table
                    .filter(purchases::buyer_id.eq(buyer_id))
                    .select(purchases::lead_id),
            ),
        ),
        Mine::Ignore => q,
    };
    if f.segment.is_some() {
        // One value as `=`, not `= ANY(array)`: PostgreSQL (before 17) never reads an
        // index in order under `= ANY`, so `segment=finance.loans&warmth=hot` walked the
        // freshness index past 33,000 rows (50 ms at 1M leads) instead of the segment
        // index's newest entries.
        q = match segments {
            [one] => q.filter(leads::segment.eq(one)),
            many => q.filter(leads::segment.eq_any(many)),
        };
    }
    // With a country, the prefix is one range of `leads_postal_idx`. The key starts with
    // the country, so the range implies it: naming the country again would have
    // PostgreSQL AND in a bitmap of the whole country.
    let range = match (&f.country, &f.postal_prefix) {
        (Some(c), Some(p)) => crate::domain::catalogue::postal_key_range(c, p),
        _ => None,
    };
    match range {
        Some((from, to)) => {
            q = q.filter(leads::postal_key.ge(from).and(leads::postal_key.lt(to)));
        }
        None => {
            if let Some(c) = &f.country {
                q = q.filter(leads::country.eq(c.clone()));
            }
            // Any country: no index serves this one.
            if let Some(p) = &f.postal_prefix {
                q = q.filter(
                    leads::postal_key.like(crate::domain::catalogue::postal_key_pattern(p)),
                );
            }
        }
    }
    if let Some(r) = &f.region {
        q = q.filter(leads::region.eq(r.clone()));
    }
    if let Some(c) = &f.city {
        q = q.filter(leads::city.eq(c.clone()));
    }
    if let Some(a) = f.age_min {
        q = q.filter(leads::age.ge(a));
    }
    if let Some(a) = f.age_max {
        q = q.filter(leads::age.le(a));
    }
    if let Some(i) = f.income_min_cents {
        q = q.filter(leads::income_cents.ge(i));
    }
    if let Some(i) = f.income_max_cents {
        q = q.filter(leads::income_cents.le(i));
    }
    if !f.warmth.is_empty() {
        q = match f.warmth.as_slice() {
            [one] => q.filter(leads::warmth.eq(one)),
            many => q.filter(leads::warmth.eq_any(many)),
        };
    }
    if let Some(c) = &f.contact_type {
        q = q.filter(leads::contact_type.eq(c.clone()));
    }
    if let Some(v) = f.verified {
        q = q.filter(leads::verified.eq(v));
    }
    if let Some(s) = f.min_score {
        q = q.filter(leads::score.ge(s));
    }
    if let Some(p) = f.max_price_cents {
        q = q.filter(leads::list_price_cents.le(p));
    }
    if let Some(d) = f.max_age_days {
        q = q.filter(leads::captured_at.ge(now - chrono::TimeDelta::days(d)));
    }
    match f.exclusive {
        Some(true) => q = q.filter(leads::max_sales.eq(1)),
        Some(false) => q = q.filter(leads::max_sales.gt(1)),
        None => {}
    }
    q
}

/// One page of the catalogue (keyset, no OFFSET) and the total that matches.
pub fn catalogue_page(
    conn: &mut AnyConnection,
    buyer_id: &str,
    parsed: &crate::domain::catalogue::Parsed,
    now: NaiveDateTime,
) -> QueryResult<CataloguePage> {
    use crate::domain::catalogue::{Cursor, Sort};
    // A segment includes its sub-segments: named in full, so an index can serve them.
    let segments: Vec<String> = match &parsed.filter.segment {
        None => Vec::new(),
        Some(s) => crate::db::schema::segments::table
            .select(crate::db::schema::segments::slug)
            .load::<String>(conn)?
            .into_iter()
            .filter(|slug| crate::domain::catalogue::within_segment(slug, s))
            .collect(),
    };
    let suspended: Vec<String> = organisations::table
        .filter(organisations::kind.eq("agency"))
        .filter(organisations::status.ne("active"))
        .select(organisations::id)
        .load(conn)?;
    // Counting the matches, then taking off the few this buyer bought, spares each of
    // the (many) matches its own purchase probe. The count stops past the cap.
    let own: i64 = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Only,
        now,
    )
    .count()
    .get_result(conn)?;
    let all = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Ignore,
        now,
    )
    .select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
    .limit(COUNT_CAP + 1 + own)
    .load::<i32>(conn)?
    .len() as i64;
    let total = (all - own).min(COUNT_CAP + 1);
    let total_exact = total <= COUNT_CAP;
    let mut q = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Exclude,
        now,
    );
    // After the cursor: `key <= k AND (key < k OR id < i)` rather than the plain
    // `key < k OR (key = k AND id < i)`, whose OR keeps both planners from starting the
    // index scan at the cursor (deep pages then read every row before it).
    q = match (&parsed.sort, &parsed.cursor) {
        (Sort::Fresh, Some(Cursor::Fresh(t, id))) => q
            .filter(leads::captured_at.le(*t))
            .filter(leads::captured_at.lt(*t).or(leads::id.lt(id.clone()))),
        (Sort::ScoreDesc, Some(Cursor::Score(s, id))) => q
            .filter(leads::score.le(*s))
            .filter(leads::score.lt(*s).or(leads::id.lt(id.clone()))),
        (Sort::Score, Some(Cursor::Score(s, id))) => q
            .filter(leads::score.ge(*s))
            .filter(leads::score.gt(*s).or(leads::id.gt(id.clone()))),
        (Sort::Price, Some(Cursor::Price(p, id))) => q
            .filter(leads::list_price_cents.ge(*p))
            .filter(leads::list_price_cents.gt(*p).or(leads::id.gt(id.clone()))),
        (Sort::PriceDesc, Some(Cursor::Price(p, id))) => q
            .filter(leads::list_price_cents.le(*p))
            .filter(leads::list_price_cents.lt(*p).or(leads::id.lt(id.clone()))),
        _ => q,
    };
    if matches!(parsed.sort, Sort::Score | Sort::ScoreDesc) {
        // True of every lead; as a literal it opens SQLite's `leads_segment_score_idx`
        // (partial on it) to this page query alone. See that index's migrations.
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "\"leads\".\"score\" >= 0",
        ));
    }
    q = match parsed.sort {
        Sort::Fresh => q.order((leads::captured_at.desc(), leads::id.desc())),
        Sort::ScoreDesc => q.order((leads::score.desc(), leads::id.desc())),
        Sort::Score => q.order((leads::score.asc(), leads::id.asc())),
        Sort::Price => q.order((leads::list_price_cents.asc(), leads::id.asc())),
        Sort::PriceDesc => q.order((leads::list_price_cents.desc(), leads::id.desc())),
    };
    let rows: Vec<CatalogueRow> = q
        .limit(parsed.limit)
        .select((
            leads::id,
            leads::age,
            leads::income_cents,
            leads::country,
            leads::region,
            leads::city,
            leads::postal_code,
            leads::segment,
            leads::channel,
            leads::warmth,
            leads::contact_type,
            leads::verified,
            leads::score,
            leads::flags,
            leads::captured_at,
            leads::list_price_cents,
            leads::max_sales,
            leads::sales_count,
            leads::agency_id,
            leads::batch_id,
        ))
        .load(conn)?;
    let batch_ids: Vec<&String> = rows.iter().map(|r| &r.batch_id).collect();
    let base_prices = batches::table
        .filter(batches::id.eq_any(batch_ids))
        .select((batches::id, batches::price_cents))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let agency_ids: Vec<String> = rows.iter().map(|r| r.agency_id.clone()).collect();
    let agency_names = organisations::table
        .filter(organisations::id.eq_any(agency_ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(CataloguePage {
        rows,
        agency_names,
        base_prices,
        total,
        total_exact,
    })
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

/// Sets one price rule (insert or update).
pub fn set_price_rule(
    conn: &mut AnyConnection,
    kind: &str,
    match_value: &str,
    factor_bp: i32,
) -> QueryResult<usize> {
    let updated = diesel::update(price_rules::table.find((kind, match_value)))
        .set(price_rules::factor_bp.eq(factor_bp))
        .execute(conn)?;
    if updated == 1 {
        return Ok(1);
    }
    diesel::insert_into(price_rules::table)
        .values((
            price_rules::kind.eq(kind),
            price_rules::match_value.eq(match_value),
            price_rules::factor_bp.eq(factor_bp),
        ))
        .execute(conn)
}

pub fn delete_price_rule(
    conn: &mut AnyConnection,
    kind: &str,
    match_value: &str,
) -> QueryResult<usize> {
    diesel::delete(price_rules::table.find((kind, match_value))).execute(conn)
}
