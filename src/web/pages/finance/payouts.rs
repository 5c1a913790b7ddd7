//! Agency payouts: statements due and paid, and recording a payout once.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{StatementView, parse_day, sent_token, statement_view};
use crate::app::AppState;
use crate::domain::ledger::StatementStatus;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::billing::{self, Once};
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{money, redirect, render, render_status};

#[derive(Template)]
#[template(path = "finance/payouts.html")]
struct PayoutsPage {
    layout: Layout,
    due: Vec<StatementView>,
    paid: Vec<StatementView>,
    due_total: String,
    today: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

async fn payouts_page(
    user: &FinanceUser,
    state: &AppState,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<PayoutsPage> {
    let (statements, names) = state
        .db(|conn| {
            let all = store::statements::list(conn, None, false)?;
            let ids: Vec<String> = all.iter().map(|s| s.agency_id.clone()).collect();
            Ok((all, store::organisations::names(conn, &ids)?))
        })
        .await?;
    let c = &state.config().currency;
    let due_total: i64 = statements
        .iter()
        .filter(|s| s.status == StatementStatus::Open && s.net_cents > 0)
        .map(|s| s.net_cents)
        .sum();
    let (due, paid): (Vec<_>, Vec<_>) = statements
        .into_iter()
        .partition(|s| s.status == StatementStatus::Open);
    Ok(PayoutsPage {
        layout: Layout::for_user(user, "Agency payouts", "/finance/payouts"),
        due: due
            .into_iter()
            .map(|s| statement_view(s, &names, c))
            .collect(),
        paid: paid
            .into_iter()
            .map(|s| statement_view(s, &names, c))
            .collect(),
        due_total: money(due_total, c),
        today: store::now().format("%Y-%m-%d").to_string(),
        notice,
        problems,
    })
}

pub async fn list(
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let notice = flash::take(&session).map(|f| f.message);
    render(&payouts_page(&user, &state, notice, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct PayoutForm {
    paid_on: String,
    reference: String,
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn mark_paid(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PayoutForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match parse_day("paid_on", &form.paid_on) {
        Err(e) => Err(e),
        Ok(day) => {
            let (token, by) = (sent_token(&form.form_token), who(&req, &user, &state));
            state
                .db(move |conn| {
                    billing::mark_payout_once(
                        conn,
                        &by,
                        &id,
                        day,
                        &form.reference,
                        token.as_deref(),
                    )
                })
                .await
        }
    };
    match result {
        Ok(once) => {
            let notice = match &once {
                Once::Done(s) => format!(
                    "Payout of {} recorded.",
                    money(s.net_cents, &state.config().currency)
                ),
                Once::Already(s) => format!(
                    "This form was sent twice; the payout of {} was recorded once.",
                    money(s.net_cents, &state.config().currency)
                ),
            };
            flash::set(&session, Flash::notice(notice))?;
            Ok(redirect("/finance/payouts"))
        }
        Err(AppError::Validation(problems)) => render_status(
            &payouts_page(&user, &state, None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Conflict { message, .. }) => render_status(
            &payouts_page(
                &user,
                &state,
                None,
                vec![FieldProblem::new("statement", message)],
            )
            .await?,
            actix_web::http::StatusCode::CONFLICT,
        ),
        Err(e) => Err(e),
    }
}
