//! Buying from the catalogue, in two steps: the first post shows a review page (each
//! lead's price in this purchase, how it is billed, the quantity discount and the
//! total); only its "Confirm" post (`confirm=yes`) buys.

use actix_session::Session;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::filter::{PageFilter, base_query};
use super::{Refused, billing_label, page, percent_off};
use crate::app::AppState;
use crate::domain::market::BillingModel;
use crate::domain::money;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::market;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{money as show_money, redirect, render, render_status, thousands};

pub struct LineView {
    pub segment: String,
    pub warmth: String,
    pub price: String,
    /// The price bought alone, when the discount changes it.
    pub list_price: Option<String>,
    pub billing: String,
}

#[derive(Template)]
#[template(path = "market/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    heading: String,
    /// Where the confirm form posts, with `hidden` and `confirm=yes`.
    action: &'static str,
    hidden: Vec<(String, String)>,
    lines: Vec<LineView>,
    count: String,
    total: String,
    /// e.g. "10 or more leads at once: 5% off each (you save 3.00 EUR)".
    discount: Option<String>,
    /// Per-action leads in this purchase: the charges still to come.
    action_charges: Vec<String>,
    unavailable: usize,
    available: String,
    back: String,
}

fn back_link(query: &str) -> String {
    let q = base_query(query);
    if q.is_empty() {
        "/catalogue".into()
    } else {
        format!("/catalogue?{q}")
    }
}

fn confirmed(form: &[(String, String)]) -> bool {
    form.iter().any(|(k, v)| k == "confirm" && v == "yes")
}

async fn review(
    user: &BuyerUser,
    state: &AppState,
    heading: String,
    action: &'static str,
    hidden: Vec<(String, String)>,
    quote: market::PurchaseQuote,
    back: &str,
) -> AppResult<HttpResponse> {
    let currency = &state.config().currency;
    let buyer = user.org_id.clone();
    let account = state.db(move |conn| market::account(conn, &buyer)).await?;
    let discounted = quote.discount_bp < 10_000;
    let mut action_charges: Vec<String> = quote
        .lines
        .iter()
        .filter(|l| l.billing == BillingModel::PerAction)
        .map(|l| show_money(l.action_price_cents.unwrap_or(0), currency))
        .collect();
    action_charges.sort();
    action_charges.dedup();
    let mut hidden = hidden;
    hidden.push(("confirm".into(), "yes".into()));
    render(&ConfirmPage {
        layout: Layout::for_user(user, "Review your purchase", "/catalogue"),
        heading,
        action,
        lines: quote
            .lines
            .iter()
            .map(|l| LineView {
                segment: l.segment.clone(),
                warmth: l.warmth.clone(),
                price: show_money(l.unit_cents, currency),
                list_price: (l.list_cents != l.unit_cents)
                    .then(|| show_money(l.list_cents, currency)),
                billing: billing_label(l.billing, l.action_price_cents, currency),
            })
            .collect(),
        count: thousands(quote.lines.len() as i64),
        total: show_money(quote.total_cents, currency),
        discount: discounted.then(|| {
            format!(
                "Quantity discount: {}% off each lead for buying {} at once (you save {}).",
                percent_off(quote.discount_bp),
                quote.lines.len(),
                show_money(quote.list_total_cents - quote.total_cents, currency)
            )
        }),
        action_charges,
        unavailable: quote.unavailable,
        available: show_money(account.available_cents, currency),
        back: back_link(back),
        hidden,
    })
}

/// "Buy the ticked leads" (or, without JavaScript, every lead on the page): the review,
/// then on confirmation the purchase, all or nothing, at the total shown.
pub async fn buy_selected(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    // "All on this page" sends every row's id without ticking (the no-JS select all).
    let all = form.iter().any(|(k, v)| k == "all" && v == "page");
    let name = if all { "page_id" } else { "lead_id" };
    let ids: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect();
    let back = form
        .iter()
        .find(|(k, _)| k == "query")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if ids.is_empty() {
        let refused = Refused {
            problems: vec![FieldProblem::new(
                "lead_id",
                "Tick at least one lead to buy (or use \"Review all on this page\").",
            )],
            ..Refused::default()
        };
        return render_status(
            &page(&user, &state, &back, refused).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if !confirmed(&form) {
        let (buyer, quoted) = (user.org_id.clone(), ids.clone());
        let quote = state
            .db(move |conn| market::quote_leads(conn, &buyer, &quoted))
            .await?;
        let mut hidden: Vec<(String, String)> = ids
            .into_iter()
            .map(|id| ("lead_id".to_string(), id))
            .collect();
        hidden.push(("query".into(), back.clone()));
        hidden.push(("expected_total_cents".into(), quote.total_cents.to_string()));
        let heading = format!("Buy {} ticked lead(s)", thousands(quote.lines.len() as i64));
        return review(
            &user,
            &state,
            heading,
            "/catalogue/buy-selected",
            hidden,
            quote,
            &back,
        )
        .await;
    }
    // The buyer pays what the review showed, or is told the price moved.
    let expected = form
        .iter()
        .find(|(k, _)| k == "expected_total_cents")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let (buyer, bp) = (user.org_id.clone(), state.config().commission_bp);
    let result = state
        .db(move |conn| market::buy(conn, bp, &buyer, &ids, expected))
        .await;
    finish_purchase(&user, &state, &session, &back, result, Refused::default()).await
}

#[derive(Deserialize)]
pub struct BuyFirstForm {
    query: String,
    quantity: String,
    max_price: String,
    #[serde(default)]
    confirm: String,
}

/// "Buy the first N at most P each" for the current filter, in the order the page shows:
/// the review (which leads, the quantity discount, the total), then the purchase.
pub async fn buy_first(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<BuyFirstForm>,
) -> AppResult<HttpResponse> {
    let mut problems = Vec::new();
    let quantity = match form.quantity.trim().replace(',', "").parse::<i64>() {
        Ok(q) if (1..=1000).contains(&q) => Some(q),
        Ok(q) if q > 1000 => {
            problems.push(FieldProblem::new(
                "quantity",
                "One purchase takes at most 1,000 leads: enter 1,000 or fewer.",
            ));
            None
        }
        _ => {
            problems.push(FieldProblem::new(
                "quantity",
                "Enter how many leads to buy, a whole number from 1 to 1,000.",
            ));
            None
        }
    };
    let max_price = match money::parse_major(&form.max_price) {
        Ok(p) => Some(p),
        Err(problem) => {
            problems.push(FieldProblem::new("max_price", problem));
            None
        }
    };
    let refused = |problems: Vec<FieldProblem>, message: Option<String>| Refused {
        message,
        problems,
        quantity: Some(form.quantity.clone()),
        ceiling: Some(form.max_price.clone()),
    };
    let filter = PageFilter::read(&base_query(&form.query));
    let (Some(quantity), Some(max_price), Some(parsed)) = (quantity, max_price, filter.parsed)
    else {
        // A bad filter shows its own problems on the page it came from.
        return render_status(
            &page(&user, &state, &form.query, refused(problems, None)).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let (filter, sort) = (parsed.filter, parsed.sort);
    if form.confirm != "yes" {
        let (buyer, f) = (user.org_id.clone(), filter.clone());
        let quote = state
            .db(move |conn| market::quote_matching(conn, &buyer, &f, sort, quantity, max_price))
            .await?;
        if quote.lines.is_empty() {
            let message = "Nothing was bought: no lead matches this filter at or under that price.";
            return render_status(
                &page(
                    &user,
                    &state,
                    &form.query,
                    refused(Vec::new(), Some(message.into())),
                )
                .await?,
                StatusCode::CONFLICT,
            );
        }
        let heading = format!(
            "Buy the first {} lead(s), at most {} each",
            thousands(quote.lines.len() as i64),
            show_money(max_price, &state.config().currency)
        );
        let hidden = vec![
            ("query".to_string(), form.query.clone()),
            ("quantity".to_string(), quantity.to_string()),
            ("max_price".to_string(), money::major_plain(max_price)),
        ];
        return review(
            &user,
            &state,
            heading,
            "/catalogue/buy-first",
            hidden,
            quote,
            &form.query,
        )
        .await;
    }
    let (buyer, bp) = (user.org_id.clone(), state.config().commission_bp);
    let result = state
        .db(move |conn| market::buy_matching(conn, bp, &buyer, &filter, sort, quantity, max_price))
        .await;
    let kept = refused(Vec::new(), None);
    finish_purchase(&user, &state, &session, &form.query, result, kept).await
}

async fn finish_purchase(
    user: &BuyerUser,
    state: &AppState,
    session: &Session,
    back: &str,
    result: Result<(Vec<market::PurchaseLine>, i64), AppError>,
    mut refused: Refused,
) -> AppResult<HttpResponse> {
    match result {
        Ok((lines, total)) => {
            let message = format!(
                "You bought {} lead(s) for {}.",
                lines.len(),
                show_money(total, &state.config().currency)
            );
            // My leads lists newest first: the highest ids are the rows shown first.
            let mut ids: Vec<String> = lines.into_iter().map(|l| l.id).collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            flash::set(session, Flash::notice(message).with_ids(ids))?;
            Ok(redirect("/purchases"))
        }
        Err(e) => match &e {
            AppError::Validation(problems) => {
                refused.problems = problems.clone();
                render_status(&page(user, state, back, refused).await?, e.status())
            }
            AppError::InsufficientCredit { .. }
            | AppError::Unsellable { .. }
            | AppError::Conflict { .. } => {
                refused.message = Some(e.public_message());
                render_status(&page(user, state, back, refused).await?, e.status())
            }
            _ => Err(e),
        },
    }
}
