//! Buyers' pages: the catalogue with filters in the URL, buying, reporting an action and
//! the CSV of "My leads" (the page itself is `purchases.rs`).

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::catalogue::{self, RawFilter};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::market;
use crate::services::market::CatalogueItem;
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
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
    session: Session,
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
    finish_purchase(&user, &state, &session, &back, result).await
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
    session: Session,
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
    finish_purchase(&user, &state, &session, &form.query, result).await
}

async fn finish_purchase(
    user: &BuyerUser,
    state: &AppState,
    session: &Session,
    back: &str,
    result: Result<(Vec<market::PurchaseLine>, i64), AppError>,
) -> AppResult<HttpResponse> {
    match result {
        Ok((lines, total)) => {
            let message = format!(
                "You bought {} lead(s) for {}.",
                lines.len(),
                money(total, &state.config.currency)
            );
            // My leads lists newest first: the highest ids are the rows shown first.
            let mut ids: Vec<String> = lines.into_iter().map(|l| l.id).collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            flash::set(session, Flash::notice(message).with_ids(ids))?;
            Ok(redirect("/purchases"))
        }
        Err(e) => match outcome_message(&e) {
            Some(message) => {
                render_status(&page(user, state, back, Some(message)).await?, e.status())
            }
            None => Err(e),
        },
    }
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
    session: Session,
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
    let message = format!(
        "The {} is recorded; {} goes on your next invoice.",
        action.kind.as_str(),
        money(action.price_cents, &state.config.currency)
    );
    flash::set(&session, Flash::notice(message))?;
    Ok(redirect("/purchases"))
}

pub async fn purchases_csv(user: BuyerUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let prices = crate::web::purchases_csv::Prices::Major(state.config.currency.clone());
    crate::web::purchases_csv::response(state, user.org_id.clone(), prices).await
}
