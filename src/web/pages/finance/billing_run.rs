//! The monthly billing run: draft invoices and agency statements for a period, started
//! from the invoice list.

use actix_session::Session;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use serde::Deserialize;

use super::invoices::invoices_page;
use crate::app::AppState;
use crate::domain::billing::Period;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::billing::{self, Ctx};
use crate::web::auth::FinanceUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::{redirect, render_status};

#[derive(Deserialize)]
pub struct RunForm {
    period: String,
}

pub async fn run(
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<RunForm>,
) -> AppResult<HttpResponse> {
    let period = match Period::parse(&form.period) {
        Ok(p) => p,
        Err(e) => return refused(&user, &state, e, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let config = state.config().clone();
    let summary = match state
        .db(move |conn| billing::run(conn, &Ctx::from(&*config), period))
        .await
    {
        Ok(s) => s,
        // Another run for this month is under way (a second click, another desk).
        Err(AppError::Conflict { message, .. }) => {
            return refused(&user, &state, message, StatusCode::CONFLICT).await;
        }
        Err(e) => return Err(e),
    };
    let mut notice = format!(
        "Billing run for {}: {} draft invoice(s) to review, {} agency statement(s).",
        period.label(),
        summary.drafts,
        summary.statements
    );
    if summary.credits_carried > 0 {
        notice.push_str(&format!(
            " {} buyer(s) had more credits than charges: carried forward, no invoice.",
            summary.credits_carried
        ));
    }
    if summary.debts_carried > 0 {
        notice.push_str(&format!(
            " {} agency(ies) had more returns than earnings: carried forward, no payout.",
            summary.debts_carried
        ));
    }
    flash::set(&session, Flash::notice(notice))?;
    Ok(redirect("/finance/invoices?status=draft"))
}

/// The invoice list again, with the run's refusal against its period field.
async fn refused(
    user: &FinanceUser,
    state: &web::Data<AppState>,
    problem: String,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let page = invoices_page(
        user,
        state,
        String::new(),
        None,
        vec![FieldProblem::new("period", problem)],
    )
    .await?;
    render_status(&page, status)
}
