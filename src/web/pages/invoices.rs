//! Buyers' invoices (list, printable page, CSV) and agencies' statements. Finance may
//! open any printable invoice; a buyer only its own issued ones.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::finance::{
    InvoiceLine, LineView, StatementView, invoice_line, invoice_lines, statement_view,
};
use crate::app::AppState;
use crate::domain::Role;
use crate::domain::billing::{InvoiceKind, InvoiceStatus, Period};
use crate::domain::money::major_plain;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::invoices::{InvoiceRow, LineRow};
use crate::web::auth::{AgencyUser, BuyerUser, CurrentUser};
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::layout::Layout;
use crate::web::render;
use crate::web::{invoice_facts, money};

#[derive(Template)]
#[template(path = "invoices/list.html")]
struct ListPage {
    layout: Layout,
    invoices: Vec<InvoiceLine>,
    /// The account balance: everything bought less credits and payments.
    owed: String,
    /// What is left to pay on issued invoices: part of `owed`.
    open: String,
    /// Owed but on no issued invoice yet (this month so far, drafts, credit carried).
    uninvoiced: String,
    uninvoiced_cents: i64,
}

pub async fn list(user: BuyerUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let buyer = user.org_id.clone();
    let now = store::now();
    let c = state.config().currency.clone();
    let (invoices, account) = state
        .db(move |conn| {
            let all = store::invoices::list(conn, Some(&buyer), true)?;
            let ids: Vec<String> = all.iter().map(|i| i.buyer_id.clone()).collect();
            let names = store::organisations::names(conn, &ids)?;
            let account = crate::services::market::account(conn, &buyer)?;
            Ok((invoice_lines(all, &names, &c, now), account))
        })
        .await?;
    let c = &state.config().currency;
    render(&ListPage {
        layout: Layout::for_user(&user, "Invoices", "/invoices"),
        owed: money(account.owed_cents, c),
        open: money(account.open_invoices_cents, c),
        uninvoiced: money(account.uninvoiced_cents, c),
        uninvoiced_cents: account.uninvoiced_cents,
        invoices,
    })
}

/// An invoice the user may read: its buyer's (issued only), or any for finance.
async fn readable(
    user: &CurrentUser,
    state: &AppState,
    id: String,
) -> AppResult<(
    InvoiceRow,
    Vec<LineRow>,
    store::organisations::OrganisationRow,
    String,
)> {
    let (org_id, role) = (user.org_id.clone(), user.role);
    state
        .db(move |conn| {
            let invoice = store::invoices::find(conn, &id)?;
            let finance = matches!(role, Role::Finance | Role::Admin);
            let issued = invoice.status == InvoiceStatus::Issued;
            if !finance && (invoice.buyer_id != org_id || !issued) {
                return Err(AppError::NotFound);
            }
            let lines = store::invoices::lines_of(conn, &id)?;
            let buyer = store::organisations::find(conn, &invoice.buyer_id)?;
            let address = store::organisations::billing_address(conn, &invoice.buyer_id)?;
            Ok((invoice, lines, buyer, address))
        })
        .await
}

#[derive(Template)]
#[template(path = "invoices/print.html")]
struct PrintPage {
    layout: Layout,
    invoice: InvoiceLine,
    is_credit_note: bool,
    seller_name: String,
    seller_address: Vec<String>,
    seller_vat_id: String,
    /// Readable dates: "2 December 2026".
    issued_on: String,
    due_on: String,
    period: String,
    buyer_name: String,
    buyer_address: Vec<String>,
    lines: Vec<LineView>,
    subtotal: String,
    tax: String,
    tax_rate: String,
    paid: String,
    credited: String,
    note: String,
    bank: Option<crate::config::BankAccount>,
    reference: String,
    payment_instructions: String,
    card_payments: bool,
    is_buyer: bool,
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (invoice, lines, buyer, address) = readable(&user, &state, path.into_inner()).await?;
    let c = &state.config().currency;
    let billing = &state.config().billing;
    let rate = i64::from(invoice.tax_bp);
    let now = store::now();
    let facts = invoice_facts(&invoice);
    let names = [(buyer.id.clone(), buyer.name.clone())]
        .into_iter()
        .collect();
    render(&PrintPage {
        layout: Layout::for_user(
            &user,
            invoice.number.as_deref().unwrap_or("Draft invoice"),
            "/invoices",
        ),
        is_credit_note: facts.kind == InvoiceKind::CreditNote,
        seller_name: billing.seller_name.clone(),
        seller_address: billing.seller_address.lines().map(str::to_string).collect(),
        seller_vat_id: billing.seller_vat_id.clone(),
        issued_on: long_day(invoice.issued_at),
        due_on: long_day(invoice.due_at),
        period: Period::containing(invoice.period_start).label(),
        buyer_name: buyer.name,
        buyer_address: address.lines().map(str::to_string).collect(),
        lines: lines
            .into_iter()
            .map(|l| LineView {
                description: l.description,
                quantity: l.quantity,
                unit: money(l.unit_cents, c),
                amount: money(l.amount_cents, c),
            })
            .collect(),
        subtotal: money(invoice.subtotal_cents, c),
        tax: money(invoice.tax_cents, c),
        tax_rate: format!("{}.{:02}%", rate / 100, rate % 100),
        paid: money(invoice.paid_cents, c),
        credited: money(invoice.credited_cents, c),
        note: invoice.note.clone(),
        bank: billing.bank.clone(),
        reference: invoice.number.clone().unwrap_or_default(),
        payment_instructions: billing.payment_instructions.clone(),
        card_payments: billing.stripe.is_some() && facts.open_cents() > 0,
        is_buyer: user.role == Role::Buyer,
        invoice: invoice_line(invoice, &names, c, now),
    })
}

/// `2 December 2026`, or empty for a date not set (a draft's).
fn long_day(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

pub async fn csv(
    user: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (invoice, lines, _, _) = readable(&user, &state, path.into_inner()).await?;
    let number = invoice.number.clone().unwrap_or_else(|| "draft".into());
    let currency = &state.config().currency;
    let mut rows: Vec<Vec<String>> = lines
        .into_iter()
        .map(|l| {
            vec![
                number.clone(),
                l.description,
                l.quantity.to_string(),
                major_plain(l.unit_cents),
                major_plain(l.amount_cents),
                currency.clone(),
            ]
        })
        .collect();
    for (label, amount) in [
        ("subtotal", invoice.subtotal_cents),
        ("tax", invoice.tax_cents),
        ("total", invoice.total_cents),
    ] {
        rows.push(vec![
            number.clone(),
            label.into(),
            String::new(),
            String::new(),
            major_plain(amount),
            currency.clone(),
        ]);
    }
    Ok(csv_response(
        &format!("{number}.csv"),
        csv_bytes(
            &[
                "invoice",
                "description",
                "quantity",
                "unit",
                "amount",
                "currency",
            ],
            rows,
        ),
    ))
}

#[derive(Template)]
#[template(path = "invoices/statements.html")]
struct StatementsPage {
    layout: Layout,
    statements: Vec<StatementView>,
    selected: Option<String>,
}

async fn statements_page(
    user: &AgencyUser,
    state: &AppState,
    selected: Option<String>,
) -> AppResult<HttpResponse> {
    let agency = user.org_id.clone();
    let (rows, names) = state
        .db(move |conn| {
            let rows = store::statements::list(conn, Some(&agency), false)?;
            let names = store::organisations::names(conn, std::slice::from_ref(&agency))?;
            Ok((rows, names))
        })
        .await?;
    if let Some(id) = &selected
        && !rows.iter().any(|s| &s.id == id)
    {
        return Err(AppError::NotFound);
    }
    let c = &state.config().currency;
    render(&StatementsPage {
        layout: Layout::for_user(user, "Statements", "/statements"),
        statements: rows
            .into_iter()
            .map(|s| statement_view(s, &names, c))
            .collect(),
        selected,
    })
}

pub async fn statements(user: AgencyUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    statements_page(&user, &state, None).await
}

pub async fn statement(
    user: AgencyUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    statements_page(&user, &state, Some(path.into_inner())).await
}

#[derive(serde::Deserialize)]
pub struct PayForm {}

/// Sends the buyer to Stripe Checkout for what is open on its invoice.
pub async fn pay(
    user: BuyerUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: crate::web::csrf::CsrfForm<PayForm>,
) -> AppResult<HttpResponse> {
    let Some(payments) = state.payments.clone() else {
        return Err(AppError::BadRequest(
            "card payments are not set up here: please pay by bank transfer".into(),
        ));
    };
    let (config, buyer, id) = (
        state.config().clone(),
        user.org_id.clone(),
        path.into_inner(),
    );
    let request = state
        .db(move |conn| {
            crate::services::billing::checkout_request(
                conn,
                &crate::services::billing::Ctx::from(&*config),
                &buyer,
                &id,
            )
        })
        .await?;
    // No database connection is held while Stripe answers.
    let session = payments.create_checkout(&request).await.map_err(|e| {
        tracing::warn!(error = %e, "checkout session not created");
        AppError::Unavailable
    })?;
    Ok(crate::web::redirect(&session.url))
}
