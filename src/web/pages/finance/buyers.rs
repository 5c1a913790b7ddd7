//! Buyers' credit: every buyer's limit, what it owes and may still spend, and setting
//! a limit.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::OrgKind;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::market;
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::{money, render, render_status};

pub struct BuyerRow {
    pub name: String,
    pub slug: String,
    pub limit: String,
    pub owed: String,
    pub available: String,
    pub limit_major: String,
}

#[derive(Template)]
#[template(path = "finance/buyers.html")]
struct BuyersPage {
    layout: Layout,
    buyers: Vec<BuyerRow>,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

async fn page(
    user: &FinanceUser,
    state: &AppState,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<BuyersPage> {
    let rows = state
        .db(|conn| {
            let orgs = store::organisations::list(conn)?;
            let mut out = Vec::new();
            for o in orgs.into_iter().filter(|o| o.kind == OrgKind::Buyer) {
                let account = market::account(conn, &o.id)?;
                out.push((o, account));
            }
            Ok(out)
        })
        .await?;
    let c = &state.config().currency;
    Ok(BuyersPage {
        layout: Layout::for_user(user, "Buyers' credit", "/finance/buyers"),
        buyers: rows
            .into_iter()
            .map(|(o, a)| BuyerRow {
                name: o.name,
                slug: o.slug,
                limit: money(a.credit_limit_cents, c),
                owed: money(a.owed_cents, c),
                available: money(a.available_cents, c),
                limit_major: format!(
                    "{}.{:02}",
                    a.credit_limit_cents / 100,
                    a.credit_limit_cents % 100
                ),
            })
            .collect(),
        notice,
        problems,
    })
}

pub async fn list(user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&page(&user, &state, None, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct CreditForm {
    slug: String,
    limit: String,
}

pub async fn set_credit(
    user: FinanceUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<CreditForm>,
) -> AppResult<HttpResponse> {
    let Ok(limit_cents) = crate::domain::money::parse_major(&form.limit) else {
        let problems = vec![FieldProblem::new(
            "limit",
            "must be an amount such as 5000 or 5000.00",
        )];
        return render_status(
            &page(&user, &state, None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let slug = form.slug.clone();
    match state
        .db(move |conn| market::set_credit_limit(conn, &slug, limit_cents))
        .await
    {
        Ok(()) => render(
            &page(
                &user,
                &state,
                Some(format!(
                    "Credit limit of {} set to {}.",
                    form.slug,
                    money(limit_cents, &state.config().currency)
                )),
                Vec::new(),
            )
            .await?,
        ),
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}
