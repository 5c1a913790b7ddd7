//! The buyer's catalogue: filters in the URL (money typed in major units), the leads with
//! their price breakdown and how they are billed, and buying them (`buy`: a review page
//! with the total first, then the purchase).

mod buy;
mod filter;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::catalogue::RawFilter;
use crate::domain::market::BillingModel;
use crate::error::{AppResult, FieldProblem};
use crate::services::market;
use crate::services::market::CatalogueItem;
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::layout::Layout;
use crate::web::{money, render, thousands, urlencode};

pub use buy::{buy_first, buy_selected};
pub(crate) use filter::{PageFilter, base_query};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "market/catalogue.html")]
pub(crate) struct CataloguePage {
    layout: Layout,
    raw: RawFilter,
    /// What was typed in the money fields (major units), to show again.
    income_min: String,
    income_max: String,
    max_price: String,
    query: String,
    segments: Vec<Choice>,
    warmths: Vec<Choice>,
    sorts: Vec<Choice>,
    contact_types: Vec<Choice>,
    exclusivity: Vec<Choice>,
    verification: Vec<Choice>,
    items: Vec<ItemView>,
    total: String,
    next_page: Option<String>,
    /// The filter's problems.
    problems: Vec<FieldProblem>,
    /// A refused purchase's problems, shown beside its fields.
    buy_problems: Vec<FieldProblem>,
    /// What the buy-first form had, to show again when it was refused.
    quantity: String,
    ceiling: String,
    message: Option<String>,
    available: String,
    currency: String,
    /// e.g. "10 or more leads: 5% off each", for the buy-first form.
    discounts: Vec<String>,
    sort_label: String,
}

impl CataloguePage {
    fn filter_error(&self, field: &str) -> Option<&str> {
        problem_for(&self.problems, field)
    }

    fn buy_error(&self, field: &str) -> Option<&str> {
        problem_for(&self.buy_problems, field)
    }
}

fn problem_for<'a>(problems: &'a [FieldProblem], field: &str) -> Option<&'a str> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.problem.as_str())
}

pub struct ItemView {
    pub item: CatalogueItem,
    pub price: String,
    /// Each pricing step, e.g. `warmth: hot x1.20`.
    pub steps: Vec<String>,
    /// "per lead", or "per action: 15.00 EUR each".
    pub billing: String,
    pub per_action: bool,
    /// Capture day, for people (the API gives RFC 3339).
    pub captured: String,
    /// The agency's returns, e.g. `2.5% returned`, or empty when not yet rated.
    pub quality: String,
}

fn choices(items: Vec<(String, String)>, chosen: &[String]) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: chosen.contains(&value),
            value,
            label,
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect()
}

/// How a lead is billed, for people.
pub(crate) fn billing_label(
    billing: BillingModel,
    action_price_cents: Option<i64>,
    currency: &str,
) -> String {
    match billing {
        BillingModel::PerLead => "per lead".into(),
        BillingModel::PerAction => format!(
            "per action: {} each reported action",
            money(action_price_cents.unwrap_or(0), currency)
        ),
    }
}

fn item_views(items: Vec<CatalogueItem>, currency: &str) -> Vec<ItemView> {
    items
        .into_iter()
        .map(|item| ItemView {
            captured: item.captured_at.format("%Y-%m-%d").to_string(),
            quality: item
                .agency
                .quality_score
                .map(|q| format!("{:.1}% returned", q * 100.0))
                .unwrap_or_default(),
            price: money(item.price_cents, currency),
            steps: item
                .price_steps
                .iter()
                .map(|s| format!("{} x{:.2}", s.label, s.factor_bp as f64 / 10_000.0))
                .collect(),
            billing: billing_label(item.billing, item.action_price_cents, currency),
            per_action: item.billing == BillingModel::PerAction,
            item,
        })
        .collect()
}

/// "10 or more leads: 5% off each" per quantity tier, smallest first.
fn discount_lines(rules: &crate::domain::pricing::PriceRules) -> Vec<String> {
    let mut tiers = rules.quantity.clone();
    tiers.sort();
    tiers
        .into_iter()
        .filter(|(_, bp)| *bp < 10_000)
        .map(|(min, bp)| format!("{min} or more leads at once: {}% off each", percent_off(bp)))
        .collect()
}

/// A factor in basis points as the percentage taken off, e.g. 9500 -> "5", 9250 -> "7.5".
pub(crate) fn percent_off(bp: i64) -> String {
    let off = 10_000 - bp;
    if off % 100 == 0 {
        (off / 100).to_string()
    } else {
        format!("{:.2}", off as f64 / 100.0)
            .trim_end_matches('0')
            .to_string()
    }
}

/// What a refused purchase brings back to the page: its message and problems, and
/// what its form had.
#[derive(Default)]
pub(crate) struct Refused {
    pub message: Option<String>,
    pub problems: Vec<FieldProblem>,
    pub quantity: Option<String>,
    pub ceiling: Option<String>,
}

/// The catalogue page for a query string (filters, sort and maybe a cursor).
pub(crate) async fn page(
    user: &BuyerUser,
    state: &AppState,
    full_query: &str,
    refused: Refused,
) -> AppResult<CataloguePage> {
    let currency = state.config().currency.clone();
    let query = base_query(full_query);
    let PageFilter {
        raw,
        typed,
        parsed,
        problems,
    } = PageFilter::read(full_query);
    let result = match parsed {
        Some(parsed) => {
            let (disputes, buyer) = (state.config().disputes, user.org_id.clone());
            Some(
                state
                    .db(move |conn| market::catalogue_page(conn, &disputes, &buyer, &parsed))
                    .await?,
            )
        }
        None => None,
    };
    let buyer = user.org_id.clone();
    let (segments, account, rules) = state
        .db(move |conn| {
            Ok((
                store::reference::segments(conn)?,
                market::account(conn, &buyer)?,
                market::rules(conn)?,
            ))
        })
        .await?;
    let warmth_chosen: Vec<String> = raw
        .warmth
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::to_string)
        .collect();
    let sort_chosen = vec![raw.sort.clone().unwrap_or_else(|| "fresh".into())];
    let segment_chosen = vec![raw.segment.clone().unwrap_or_default()];
    let (items, total, next_page) = match result {
        Some(p) => (
            item_views(p.items, &currency),
            total_label(p.total, p.total_exact, p.total_estimate),
            p.next_cursor
                .map(|c| format!("/catalogue?{}", query_with_cursor(&query, Some(&c)))),
        ),
        None => (Vec::new(), "0".into(), None),
    };
    let sort_options = [
        ("fresh", "Newest first"),
        ("-score", "Best score first"),
        ("score", "Lowest score first"),
        ("price", "Cheapest first"),
        ("-price", "Dearest first"),
    ];
    let sort_label = sort_options
        .iter()
        .find(|(v, _)| Some(*v) == sort_chosen.first().map(String::as_str))
        .map_or("Newest first", |(_, l)| *l)
        .to_lowercase();
    Ok(CataloguePage {
        layout: Layout::for_user(user, "Catalogue", "/catalogue"),
        segments: choices(
            std::iter::once((String::new(), "Any segment".to_string()))
                .chain(segments.into_iter().map(|s| (s.slug, s.name)))
                .collect(),
            &segment_chosen,
        ),
        warmths: choices(
            ["cold", "warm", "hot"]
                .iter()
                .map(|w| (w.to_string(), w.to_string()))
                .collect(),
            &warmth_chosen,
        ),
        sorts: choices(pairs(&sort_options), &sort_chosen),
        contact_types: choices(
            pairs(&[
                ("", "Any"),
                ("quick", "Quick"),
                ("registration", "Registration"),
                ("promotional", "Promotional"),
                ("interested", "Interested"),
            ]),
            &[raw.contact_type.clone().unwrap_or_default()],
        ),
        exclusivity: choices(
            pairs(&[
                ("", "Any"),
                ("true", "Exclusive only"),
                ("false", "Shared only"),
            ]),
            &[raw.exclusive.clone().unwrap_or_default()],
        ),
        verification: choices(
            pairs(&[
                ("", "Any"),
                ("true", "Verified only"),
                ("false", "Unverified only"),
            ]),
            &[raw.verified.clone().unwrap_or_default()],
        ),
        income_min: typed.income_min,
        income_max: typed.income_max,
        max_price: typed.max_price,
        raw,
        query,
        items,
        total,
        next_page,
        problems,
        buy_problems: refused.problems,
        quantity: refused.quantity.unwrap_or_else(|| "10".into()),
        ceiling: refused.ceiling.unwrap_or_default(),
        message: refused.message,
        available: money(account.available_cents, &currency),
        discounts: discount_lines(&rules),
        sort_label,
        currency,
    })
}

fn query_with_cursor(base: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(c) if base.is_empty() => format!("cursor={}", urlencode(c)),
        Some(c) => format!("{base}&cursor={}", urlencode(c)),
        None => base.to_string(),
    }
}

pub async fn show(
    user: BuyerUser,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    render(&page(&user, &state, req.query_string(), Refused::default()).await?)
}

/// How many leads match, for people: exact up to the cap, then "About 12,000" where the
/// database estimates it (PostgreSQL), else "More than 1,000".
fn total_label(total: i64, exact: bool, estimate: Option<i64>) -> String {
    match (exact, estimate) {
        (true, _) => thousands(total),
        (false, Some(n)) => format!("About {}", thousands(two_significant(n))),
        (false, None) => format!("More than {}", thousands(total - 1)),
    }
}

/// `n` rounded to two significant digits (`12,345` -> `12,000`, `1,550` -> `1,600`): an
/// estimate claims no more precision than it has.
fn two_significant(n: i64) -> i64 {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    (n + unit / 2) / unit * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_is_rounded_to_two_significant_digits() {
        assert_eq!(two_significant(12_345), 12_000);
        assert_eq!(two_significant(1_550), 1_600);
        assert_eq!(two_significant(1_001), 1_000);
        assert_eq!(two_significant(99), 99);
        assert_eq!(two_significant(995_000), 1_000_000);
        assert_eq!(total_label(950, true, None), "950");
        assert_eq!(total_label(1_001, false, Some(12_345)), "About 12,000");
        assert_eq!(total_label(1_001, false, None), "More than 1,000");
    }

    #[test]
    fn discounts_read_as_percentages_off() {
        assert_eq!(percent_off(9500), "5");
        assert_eq!(percent_off(9250), "7.5");
        assert_eq!(percent_off(10_000), "0");
    }
}
