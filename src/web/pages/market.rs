//! Buyers' pages: the catalogue with filters in the URL, buying, and "My leads".

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::catalogue::{self, RawFilter};
use crate::domain::ledger::ActionKind;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::market;
use crate::services::market::CatalogueItem;
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::{money, redirect, render, render_status, thousands, urlencode};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "market/catalogue.html")]
struct CataloguePage {
    layout: Layout,
    raw: RawFilter,
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
    problems: Vec<FieldProblem>,
    message: Option<String>,
    available: String,
}

pub struct ItemView {
    pub item: CatalogueItem,
    pub price: String,
    pub breakdown: String,
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

/// The query string without the cursor, to build links from.
fn base_query(query: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| k != "cursor" && !v.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
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
            breakdown: item
                .price_steps
                .iter()
                .map(|s| format!("{} x{:.2}", s.label, s.factor_bp as f64 / 10_000.0))
                .collect::<Vec<_>>()
                .join("; "),
            item,
        })
        .collect()
}

/// The catalogue page for a query string (filters, sort and maybe a cursor).
async fn page(
    user: &BuyerUser,
    state: &AppState,
    full_query: &str,
    message: Option<String>,
) -> AppResult<CataloguePage> {
    let currency = state.config.currency.clone();
    let query = base_query(full_query);
    let (raw, mut problems) = match RawFilter::from_query(full_query) {
        Ok(raw) => (raw, Vec::new()),
        Err(p) => (RawFilter::default(), p),
    };
    let mut result = None;
    if problems.is_empty() {
        match catalogue::parse(&raw) {
            Ok(parsed) => {
                let (disputes, buyer) = (state.config.disputes, user.org_id.clone());
                result = Some(
                    state
                        .db(move |conn| market::catalogue_page(conn, &disputes, &buyer, &parsed))
                        .await?,
                );
            }
            Err(p) => problems = p,
        }
    }
    let buyer = user.org_id.clone();
    let (segments, account) = state
        .db(move |conn| {
            Ok((
                store::reference::segments(conn)?,
                market::account(conn, &buyer)?,
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
            if p.total_exact {
                thousands(p.total)
            } else {
                format!("More than {}", thousands(store::catalogue::COUNT_CAP))
            },
            p.next_cursor
                .map(|c| format!("/catalogue?{}", query_with_cursor(&query, Some(&c)))),
        ),
        None => (Vec::new(), "0".into(), None),
    };
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
        sorts: choices(
            [
                ("fresh", "Newest first"),
                ("-score", "Best score first"),
                ("score", "Lowest score first"),
                ("price", "Cheapest first"),
                ("-price", "Dearest first"),
            ]
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
            &sort_chosen,
        ),
        contact_types: choices(
            [
                ("", "Any"),
                ("quick", "Quick"),
                ("registration", "Registration"),
                ("promotional", "Promotional"),
                ("interested", "Interested"),
            ]
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
            &[raw.contact_type.clone().unwrap_or_default()],
        ),
        exclusivity: choices(
            [
                ("", "Any"),
                ("true", "Exclusive only"),
                ("false", "Shared only"),
            ]
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
            &[raw.exclusive.clone().unwrap_or_default()],
        ),
        verification: choices(
            [
                ("", "Any"),
                ("true", "Verified only"),
                ("false", "Unverified only"),
            ]
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect(),
            &[raw.verified.clone().unwrap_or_default()],
        ),
        raw,
        query,
        items,
        total,
        next_page,
        problems,
        message,
        available: money(account.available_cents, &currency),
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
    render(&page(&user, &state, req.query_string(), None).await?)
}

fn outcome_message(e: &AppError) -> Option<String> {
    match e {
        AppError::InsufficientCredit { .. }
        | AppError::Unsellable { .. }
        | AppError::Conflict { .. }
        | AppError::Validation(_) => Some(e.public_message()),
        _ => None,
    }
}

/// "Buy these": the ticked leads, all or nothing.
pub async fn buy_selected(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "lead_id")
        .map(|(_, v)| v.clone())
        .collect();
    let back = form
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let (buyer, bp) = (user.org_id.clone(), state.config.commission_bp);
    let result = if ids.is_empty() {
        Err(AppError::invalid("lead_id", "tick at least one lead"))
    } else {
        state
            .db(move |conn| market::buy(conn, bp, &buyer, &ids, None))
            .await
    };
    finish_purchase(&user, &state, &back, result).await
}

#[derive(Deserialize)]
pub struct BuyFirstForm {
    query: String,
    quantity: String,
    max_price: String,
}

/// "Buy the first N at most P each" for the current filter.
pub async fn buy_first(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<BuyFirstForm>,
) -> AppResult<HttpResponse> {
    let mut problems = Vec::new();
    let quantity = form
        .quantity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=1000).contains(q));
    if quantity.is_none() {
        problems.push(FieldProblem::new(
            "quantity",
            "must be a whole number from 1 to 1000",
        ));
    }
    let max_price = crate::domain::intake::row::parse_money_major(&form.max_price).ok();
    if max_price.is_none() {
        problems.push(FieldProblem::new(
            "max_price",
            "must be an amount such as 12.50",
        ));
    }
    let filter = RawFilter::from_query(&base_query(&form.query))
        .and_then(|raw| catalogue::parse(&raw).map(|p| p.filter));
    let result = match (quantity, max_price, filter) {
        (Some(q), Some(p), Ok(filter)) if problems.is_empty() => {
            let (buyer, bp) = (user.org_id.clone(), state.config.commission_bp);
            state
                .db(move |conn| market::buy_matching(conn, bp, &buyer, &filter, q, p))
                .await
        }
        (_, _, Err(mut p)) => {
            problems.append(&mut p);
            Err(AppError::Validation(problems))
        }
        _ => Err(AppError::Validation(problems)),
    };
    finish_purchase(&user, &state, &form.query, result).await
}

async fn finish_purchase(
    user: &BuyerUser,
    state: &AppState,
    back: &str,
    result: Result<(Vec<market::PurchaseLine>, i64), AppError>,
) -> AppResult<HttpResponse> {
    match result {
        Ok((lines, total)) => Ok(redirect(&format!(
            "/purchases?bought={}&total={total}",
            lines.len()
        ))),
        Err(e) => match outcome_message(&e) {
            Some(message) => {
                render_status(&page(user, state, back, Some(message)).await?, e.status())
            }
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "market/purchases.html")]
struct PurchasesPage {
    layout: Layout,
    leads: Vec<MyLead>,
    reasons: &'static [&'static str],
    notice: Option<String>,
    next_page: Option<String>,
    owed: String,
    available: String,
}

/// A bought lead, and for per-action leads the actions reported so far.
pub struct MyLead {
    pub lead: BoughtLeadLine,
    pub per_action: bool,
    pub reported: Vec<String>,
    pub kinds: Vec<&'static str>,
}

/// What a row of "My leads" shows of a bought lead: the page's own view, so the API's
/// JSON shape can change without touching the page (and the other way round).
pub struct BoughtLeadLine {
    pub lead_id: String,
    /// RFC 3339, as the page has always shown it.
    pub bought_at: String,
    pub price_cents: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub segment: String,
    pub warmth: String,
}

impl From<store::purchases::BoughtLead> for BoughtLeadLine {
    fn from(b: store::purchases::BoughtLead) -> Self {
        Self {
            lead_id: b.lead_id,
            bought_at: rfc3339(b.bought_at),
            price_cents: b.price_cents,
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            country: b.country,
            city: b.city,
            postal_code: b.postal_code,
            segment: b.segment,
            warmth: b.warmth,
        }
    }
}

#[derive(Deserialize)]
pub struct PurchasesQuery {
    bought: Option<usize>,
    total: Option<i64>,
    after: Option<String>,
    reported: Option<String>,
    charged: Option<i64>,
}

pub async fn purchases(
    user: BuyerUser,
    state: web::Data<AppState>,
    query: web::Query<PurchasesQuery>,
) -> AppResult<HttpResponse> {
    let (buyer, after) = (user.org_id.clone(), query.after.clone());
    let (rows, account, per_action, actions) = state
        .db(move |conn| {
            let rows = store::purchases::bought_leads(conn, &buyer, after.as_deref(), 200)?;
            let ids: Vec<String> = rows.iter().map(|r| r.lead_id.clone()).collect();
            Ok((
                rows,
                market::account(conn, &buyer)?,
                store::actions::per_action_leads(conn, &ids)?,
                store::actions::of_buyer(conn, &buyer, &ids)?,
            ))
        })
        .await?;
    let currency = &state.config.currency;
    let next_page = (rows.len() == 200)
        .then(|| {
            rows.last()
                .map(|r| format!("/purchases?after={}", r.purchase_id))
        })
        .flatten();
    render(&PurchasesPage {
        layout: Layout::for_user(&user, "My leads", "/purchases"),
        reasons: &crate::domain::disputes::REASONS,
        notice: query
            .bought
            .map(|n| {
                format!(
                    "You bought {n} lead(s) for {}.",
                    money(query.total.unwrap_or(0), currency)
                )
            })
            .or_else(|| {
                query.reported.as_ref().map(|k| {
                    format!(
                        "The {k} is recorded; {} goes on your next invoice.",
                        money(query.charged.unwrap_or(0), currency)
                    )
                })
            }),
        leads: rows
            .into_iter()
            .map(|r| {
                let reported: Vec<String> = actions
                    .iter()
                    .filter(|a| a.lead_id == r.lead_id)
                    .map(|a| a.kind.to_string())
                    .collect();
                MyLead {
                    per_action: per_action.contains(&r.lead_id),
                    kinds: ActionKind::ALL
                        .iter()
                        .map(ActionKind::as_str)
                        .filter(|k| !reported.iter().any(|r| r == k))
                        .collect(),
                    reported,
                    lead: r.into(),
                }
            })
            .collect(),
        next_page,
        owed: money(account.owed_cents, currency),
        available: money(account.available_cents, currency),
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    lead_id: String,
    kind: String,
}

/// Reports an action from "My leads": the page's key makes a double click harmless.
pub async fn report_action(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> AppResult<HttpResponse> {
    let (buyer, commission_bp) = (user.org_id.clone(), state.config.commission_bp);
    let key = format!("page:{}:{}", form.lead_id, form.kind);
    let (action, _) = state
        .db(move |conn| {
            crate::services::billing::report_action(
                conn,
                commission_bp,
                &buyer,
                &form.lead_id,
                &form.kind,
                None,
                &key,
            )
        })
        .await?;
    Ok(redirect(&format!(
        "/purchases?reported={}&charged={}",
        urlencode(action.kind.as_str()),
        action.price_cents
    )))
}

pub async fn purchases_csv(user: BuyerUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    crate::web::purchases_csv::response(state, user.org_id.clone()).await
}
