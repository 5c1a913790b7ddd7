//! The finance desk's unapplied payments: money received that no invoice took, with
//! "apply to invoice" (an open invoice of the same buyer) and "mark refunded".

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::billing::{Ctx, Once};
use crate::services::unapplied;
use crate::store;
use crate::store::unapplied::UnappliedRow;
use crate::web::auth::FinanceUser;
use crate::web::csrf::{CsrfForm, form_token};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{invoice_facts, money, redirect, render, render_status};

/// An open invoice the money may go to.
pub struct InvoiceChoice {
    pub id: String,
    pub label: String,
}

pub struct UnappliedView {
    pub id: String,
    pub buyer_id: String,
    pub buyer: String,
    pub received: String,
    pub method: &'static str,
    pub reference: String,
    pub reason: String,
    pub amount: String,
    pub left: String,
    pub status: String,
    pub invoices: Vec<InvoiceChoice>,
    pub apply_token: String,
    pub refund_token: String,
}

#[derive(Template)]
#[template(path = "finance/unapplied.html")]
struct UnappliedPage {
    layout: Layout,
    open: Vec<UnappliedView>,
    settled: Vec<UnappliedView>,
    open_total: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

async fn page(
    user: &FinanceUser,
    state: &AppState,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<UnappliedPage> {
    let c = state.config().currency.clone();
    let (rows, names, invoices) = state
        .db(|conn| {
            let rows = store::unapplied::list(conn, false)?;
            let ids: Vec<String> = rows.iter().map(|r| r.buyer_id.clone()).collect();
            let names = store::organisations::names(conn, &ids)?;
            // Each open payment's buyer's invoices with something open, with that amount.
            let mut invoices = std::collections::HashMap::new();
            for r in rows.iter().filter(|r| r.left_cents() > 0) {
                if !invoices.contains_key(&r.buyer_id) {
                    let mut open = Vec::new();
                    for i in store::invoices::list(conn, Some(&r.buyer_id), true)? {
                        let open_cents = invoice_facts(&i).open_cents();
                        if open_cents > 0 {
                            open.push((i, open_cents));
                        }
                    }
                    invoices.insert(r.buyer_id.clone(), open);
                }
            }
            Ok((rows, names, invoices))
        })
        .await?;
    let view = |r: UnappliedRow| UnappliedView {
        buyer: names.get(&r.buyer_id).cloned().unwrap_or_default(),
        received: r.received_on.format("%Y-%m-%d").to_string(),
        method: if r.method == "card" {
            "card"
        } else {
            "bank transfer"
        },
        amount: money(r.amount_cents, &c),
        left: money(r.left_cents(), &c),
        invoices: invoices
            .get(&r.buyer_id)
            .map(|list| {
                list.iter()
                    .map(|(i, open_cents)| InvoiceChoice {
                        id: i.id.clone(),
                        label: format!(
                            "{} ({} open)",
                            i.number.as_deref().unwrap_or_default(),
                            money(*open_cents, &c)
                        ),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        apply_token: form_token(),
        refund_token: form_token(),
        id: r.id,
        buyer_id: r.buyer_id,
        reference: r.reference,
        reason: r.reason,
        status: r.status.to_string(),
    };
    let open_total: i64 = rows.iter().map(UnappliedRow::left_cents).sum();
    let (open, settled): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.left_cents() > 0);
    Ok(UnappliedPage {
        layout: Layout::for_user(user, "Unapplied payments", "/finance/unapplied"),
        open: open.into_iter().map(view).collect(),
        settled: settled.into_iter().map(view).collect(),
        open_total: money(open_total, &c),
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
    render(&page(&user, &state, notice, Vec::new()).await?)
}

/// Back to the list with a notice, or the list with the problem.
async fn after(
    user: &FinanceUser,
    state: &AppState,
    session: &Session,
    result: Result<String, AppError>,
) -> AppResult<HttpResponse> {
    let (problems, status) = match result {
        Ok(notice) => {
            flash::set(session, Flash::notice(notice))?;
            return Ok(redirect("/finance/unapplied"));
        }
        Err(AppError::Validation(problems)) => {
            (problems, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(AppError::Conflict { message, .. }) => (
            vec![FieldProblem::new("payment", message)],
            actix_web::http::StatusCode::CONFLICT,
        ),
        Err(e) => return Err(e),
    };
    render_status(&page(user, state, None, problems).await?, status)
}

#[derive(Deserialize)]
pub struct ApplyForm {
    invoice_id: String,
    form_token: String,
}

pub async fn apply(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> AppResult<HttpResponse> {
    let (config, by, id) = (
        state.config().clone(),
        who(&req, &user, &state),
        path.into_inner(),
    );
    let currency = config.currency.clone();
    let result = state
        .db(move |conn| {
            unapplied::apply(
                conn,
                &Ctx::from(&*config),
                &id,
                &form.invoice_id,
                &by,
                &form.form_token,
            )
        })
        .await
        .map(|once| {
            let again = !once.is_new();
            let p = once.into_inner();
            format!(
                "{}{} applied to the invoice.",
                if again {
                    "This form was sent twice; "
                } else {
                    ""
                },
                money(p.amount_cents, &currency)
            )
        });
    after(&user, &state, &session, result).await
}

#[derive(Deserialize)]
pub struct RefundForm {
    form_token: String,
}

pub async fn refund(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<RefundForm>,
) -> AppResult<HttpResponse> {
    let (config, by, id) = (
        state.config().clone(),
        who(&req, &user, &state),
        path.into_inner(),
    );
    let result = state
        .db(move |conn| unapplied::refund(conn, &Ctx::from(&*config), &id, &by, &form.form_token))
        .await
        .map(|once| match once {
            Once::Done(r) => format!("Refund of {} recorded.", r.reference),
            Once::Already(r) => format!(
                "This form was sent twice; the refund of {} was recorded once.",
                r.reference
            ),
        });
    after(&user, &state, &session, result).await
}
