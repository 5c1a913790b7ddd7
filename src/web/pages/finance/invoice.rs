//! One invoice: review it, issue a draft, record a payment, issue a credit note.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{
    InvoiceLine, LineView, PaymentView, invoice_line, invoice_lines, names_for, parse_day,
    payment_view, sent_token,
};
use crate::app::AppState;
use crate::domain::billing::{self as rules, InvoiceStatus};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::billing::{self, Ctx, NewPayment, Once};
use crate::store;
use crate::store::invoices::InvoiceRow;
use crate::web::auth::FinanceUser;
use crate::web::csrf::{CsrfForm, form_token};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{invoice_facts, money, redirect, render, render_status};

#[derive(Template)]
#[template(path = "finance/invoice.html")]
struct InvoicePage {
    layout: Layout,
    invoice: InvoiceLine,
    is_draft: bool,
    can_pay: bool,
    subtotal: String,
    tax: String,
    tax_rate: String,
    paid: String,
    credited: String,
    note: String,
    lines: Vec<LineView>,
    payments: Vec<PaymentView>,
    history: Vec<InvoiceLine>,
    today: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
    /// One-time tokens of the forms that record something (see `csrf::form_token`).
    issue_token: String,
    pay_token: String,
    credit_token: String,
}

async fn invoice_page(
    user: &FinanceUser,
    state: &AppState,
    id: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<InvoicePage> {
    let currency = state.config().currency.clone();
    let tax_bp = state.config().billing.tax_bp;
    let now = store::now();
    let (invoice, lines, payments, history, names) = state
        .db(move |conn| {
            let invoice = store::invoices::find(conn, &id)?;
            let lines = store::invoices::lines_of(conn, &id)?;
            let payments = store::payments::list(conn, Some(&id), None)?;
            let history: Vec<InvoiceRow> =
                store::invoices::list(conn, Some(&invoice.buyer_id), false)?
                    .into_iter()
                    .filter(|i| i.id != id)
                    .collect();
            let names = names_for(conn, std::slice::from_ref(&invoice))?;
            Ok((invoice, lines, payments, history, names))
        })
        .await?;
    let c = currency.as_str();
    let facts = invoice_facts(&invoice);
    let is_draft = facts.status == InvoiceStatus::Draft;
    // A draft shows the tax it will carry once issued.
    let (tax_cents, rate) = if is_draft {
        (rules::tax(invoice.subtotal_cents, tax_bp), tax_bp)
    } else {
        (invoice.tax_cents, i64::from(invoice.tax_bp))
    };
    Ok(InvoicePage {
        layout: Layout::for_user(user, "Invoice", "/finance/invoices"),
        is_draft,
        can_pay: facts.open_cents() > 0,
        subtotal: money(invoice.subtotal_cents, c),
        tax: money(tax_cents, c),
        tax_rate: format!("{}.{:02}%", rate / 100, rate % 100),
        paid: money(invoice.paid_cents, c),
        credited: money(invoice.credited_cents, c),
        note: invoice.note.clone(),
        lines: lines
            .into_iter()
            .map(|l| LineView {
                description: l.description,
                quantity: l.quantity,
                unit: money(l.unit_cents, c),
                amount: money(l.amount_cents, c),
            })
            .collect(),
        payments: payments.iter().map(|p| payment_view(p, c)).collect(),
        history: invoice_lines(history, &names, c, now),
        invoice: invoice_line(invoice, &names, c, now),
        today: now.format("%Y-%m-%d").to_string(),
        notice,
        problems,
        issue_token: form_token(),
        pay_token: form_token(),
        credit_token: form_token(),
    })
}

pub async fn show(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    session: Session,
) -> AppResult<HttpResponse> {
    render(
        &invoice_page(
            &user,
            &state,
            path.into_inner(),
            flash::take(&session).map(|f| f.message),
            Vec::new(),
        )
        .await?,
    )
}

/// After a finance action: back to the invoice with a notice, or the page with problems.
async fn after(
    user: &FinanceUser,
    state: &AppState,
    session: &Session,
    id: String,
    result: Result<String, AppError>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(notice) => {
            flash::set(session, Flash::notice(notice))?;
            Ok(redirect(&format!("/finance/invoices/{id}")))
        }
        Err(AppError::Validation(problems)) => render_status(
            &invoice_page(user, state, id, None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Conflict { message, .. }) => render_status(
            &invoice_page(
                user,
                state,
                id,
                None,
                vec![FieldProblem::new("invoice", message)],
            )
            .await?,
            actix_web::http::StatusCode::CONFLICT,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn issue(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (config, by, invoice_id) = (state.config().clone(), who(&req, &user, &state), id.clone());
    let token = sent_token(&form.form_token);
    let result = state
        .db(move |conn| {
            billing::issue_once(
                conn,
                &Ctx::from(&*config),
                &invoice_id,
                &by,
                token.as_deref(),
            )
        })
        .await
        .map(|once| match once {
            Once::Done(i) => format!("Issued as {}.", i.number.unwrap_or_default()),
            Once::Already(i) => format!(
                "This form was sent twice; the invoice was issued once, as {}.",
                i.number.unwrap_or_default()
            ),
        });
    after(&user, &state, &session, id, result).await
}

fn parse_amount(field: &str, raw: &str) -> Result<i64, AppError> {
    crate::domain::money::parse_major(raw)
        .map_err(|_| AppError::invalid(field, "must be an amount such as 120 or 120.50"))
}

#[derive(Deserialize)]
pub struct PaymentForm {
    amount: String,
    received_on: String,
    reference: String,
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn pay(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PaymentForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let parsed = parse_amount("amount", &form.amount)
        .and_then(|a| parse_day("received_on", &form.received_on).map(|d| (a, d)));
    let result = match parsed {
        Err(e) => Err(e),
        Ok((amount_cents, received_on)) => {
            let (config, by, invoice_id) =
                (state.config().clone(), who(&req, &user, &state), id.clone());
            let currency = config.currency.clone();
            let token = sent_token(&form.form_token);
            state
                .db(move |conn| {
                    billing::record_payment_once(
                        conn,
                        &Ctx::from(&*config),
                        &NewPayment {
                            invoice_id: &invoice_id,
                            method: "bank_transfer",
                            amount_cents,
                            received_on,
                            reference: &form.reference,
                            by: &by,
                        },
                        token.as_deref(),
                    )
                })
                .await
                .map(|once| match once {
                    Once::Done(p) => {
                        format!("Payment of {} recorded.", money(p.amount_cents, &currency))
                    }
                    Once::Already(p) => format!(
                        "This form was sent twice; the payment of {} ({}) was recorded once.",
                        money(p.amount_cents, &currency),
                        p.reference
                    ),
                })
        }
    };
    after(&user, &state, &session, id, result).await
}

#[derive(Deserialize)]
pub struct CreditForm {
    amount: String,
    reason: String,
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn credit(
    req: HttpRequest,
    user: FinanceUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<CreditForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match parse_amount("amount", &form.amount) {
        Err(e) => Err(e),
        Ok(amount) => {
            let (config, by, invoice_id) =
                (state.config().clone(), who(&req, &user, &state), id.clone());
            let token = sent_token(&form.form_token);
            state
                .db(move |conn| {
                    billing::credit_note_once(
                        conn,
                        &Ctx::from(&*config),
                        &invoice_id,
                        amount,
                        &form.reason,
                        &by,
                        token.as_deref(),
                    )
                })
                .await
                .map(|once| match once {
                    Once::Done(n) => {
                        format!("Credit note {} issued.", n.number.unwrap_or_default())
                    }
                    Once::Already(n) => format!(
                        "This form was sent twice; credit note {} was issued once.",
                        n.number.unwrap_or_default()
                    ),
                })
        }
    };
    after(&user, &state, &session, id, result).await
}
