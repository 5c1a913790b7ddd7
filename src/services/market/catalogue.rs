//! The catalogue a buyer browses: matching leads, priced, with their agency's quality.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::pricing::rules;
use crate::config::DisputeConfig;
use crate::db::AnyConnection;
use crate::domain::catalogue::{self, Cursor};
use crate::domain::market::BillingModel;
use crate::domain::pricing::{self, PriceFacts, PriceRules};
use crate::error::AppError;
use crate::store;
use crate::store::catalogue::CatalogueRow;

/// The agency behind a catalogue item.
#[derive(Debug, Clone, PartialEq)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
    /// Approved disputes per sale over the last 30 days (0.0 is best); `None` until the
    /// agency has enough sales to be rated.
    pub quality_score: Option<f64>,
}

/// A lead as buyers may see it before they buy: only what they filter on, never name,
/// phone, email or street; priced for one unit now.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueItem {
    pub id: String,
    pub age: i32,
    pub income_band: Option<String>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_prefix: Option<String>,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    /// Soft pseudo-lead signals, e.g. `fast_form`.
    pub flags: Vec<String>,
    pub captured_at: NaiveDateTime,
    /// The unit price for one lead, modifiers included.
    pub price_cents: i64,
    pub price_steps: Vec<pricing::Step>,
    /// Charged when bought, or per reported action (then also `action_price_cents`).
    pub billing: BillingModel,
    /// What each reported action costs; `None` for leads billed per lead.
    pub action_price_cents: Option<i64>,
    pub remaining_sales: i32,
    pub agency: AgencyRef,
}

/// One page of the catalogue and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct CataloguePage {
    pub items: Vec<CatalogueItem>,
    /// Exact up to `store::catalogue::COUNT_CAP`; past that, one more and `total_exact` false.
    pub total: i64,
    pub total_exact: bool,
    /// Past the cap, the planner's estimate where the database keeps one (PostgreSQL).
    pub total_estimate: Option<i64>,
    pub next_cursor: Option<String>,
}

/// One catalogue page for a buyer (the API's and the page's): the matching leads priced
/// by today's rules, each with its agency's name and quality.
pub fn catalogue_page(
    conn: &mut AnyConnection,
    disputes: &DisputeConfig,
    buyer_id: &str,
    parsed: &catalogue::Parsed,
) -> Result<CataloguePage, AppError> {
    catalogue_page_counted(
        conn,
        disputes,
        buyer_id,
        parsed,
        store::catalogue::COUNT_CAP,
    )
}

/// [`catalogue_page`] with the count stopping at `count_cap` (tests pass small caps).
pub fn catalogue_page_counted(
    conn: &mut AnyConnection,
    disputes: &DisputeConfig,
    buyer_id: &str,
    parsed: &catalogue::Parsed,
    count_cap: i64,
) -> Result<CataloguePage, AppError> {
    let now = store::now();
    let rules = rules(conn)?;
    let store::catalogue::CataloguePage {
        rows,
        agency_names,
        base_prices,
        billing,
        total,
        total_exact,
        total_estimate,
    } = store::catalogue::page_counted(conn, buyer_id, parsed, &rules.tree, now, count_cap)?;
    let next_cursor = (rows.len() as i64 == parsed.limit)
        .then(|| rows.last())
        .flatten()
        .map(|r| {
            Cursor::after(
                parsed.sort,
                r.captured_at,
                r.score,
                r.list_price_cents,
                &r.id,
            )
            .encode()
        });
    let mut quality = HashMap::new();
    for agency in agency_names.keys() {
        quality.insert(
            agency.clone(),
            crate::services::disputes::quality(conn, disputes, agency, now)?,
        );
    }
    Ok(CataloguePage {
        items: catalogue_items(
            rows,
            &Terms {
                agency_names: &agency_names,
                base_prices: &base_prices,
                billing: &billing,
                quality: &quality,
            },
            &rules,
            now,
        ),
        total,
        total_exact,
        total_estimate,
        next_cursor,
    })
}

/// What a page's rows are looked up against: agencies and batches, by id.
struct Terms<'a> {
    agency_names: &'a HashMap<String, String>,
    base_prices: &'a HashMap<String, i64>,
    /// Billing model text and action price, by batch id.
    billing: &'a HashMap<String, (String, Option<i64>)>,
    quality: &'a HashMap<String, Option<f64>>,
}

/// The one place catalogue rows become items a buyer may see.
fn catalogue_items(
    rows: Vec<CatalogueRow>,
    terms: &Terms<'_>,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> Vec<CatalogueItem> {
    let Terms {
        agency_names,
        base_prices,
        billing,
        quality,
    } = terms;
    rows.into_iter()
        .map(|r| {
            let (billing, action_price_cents) = super::quote::billing_of(billing.get(&r.batch_id));
            let quote = pricing::quote(
                &PriceFacts {
                    base_cents: base_prices.get(&r.batch_id).copied().unwrap_or(0),
                    warmth: &r.warmth,
                    max_sales: r.max_sales,
                    segment: &r.segment,
                    country: &r.country,
                    captured_at: r.captured_at,
                },
                rules,
                1,
                now,
            );
            CatalogueItem {
                income_band: catalogue::income_band(r.income_cents),
                postal_prefix: catalogue::postal_prefix(r.postal_code.as_deref()),
                flags: r
                    .flags
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
                captured_at: r.captured_at,
                price_cents: quote.unit_cents,
                price_steps: quote.steps,
                billing,
                action_price_cents,
                remaining_sales: r.max_sales - r.sales_count,
                agency: AgencyRef {
                    name: agency_names.get(&r.agency_id).cloned().unwrap_or_default(),
                    quality_score: quality.get(&r.agency_id).copied().flatten(),
                    id: r.agency_id,
                },
                id: r.id,
                age: r.age,
                country: r.country,
                region: r.region,
                city: r.city,
                segment: r.segment,
                channel: r.channel,
                warmth: r.warmth,
                contact_type: r.contact_type,
                verified: r.verified,
                score: r.score,
            }
        })
        .collect()
}
