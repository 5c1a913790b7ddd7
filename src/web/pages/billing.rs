//! The finance desk: invoices by status (and the billing run), one invoice to review,
//! issue, pay or credit; a buyer's account; aging; agency payouts; the trial balance.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::billing::{self as rules, AGING_BUCKETS, Period};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::billing::{self, Ctx, NewPayment, Once};
use crate::store;
use crate::store::invoices::InvoiceRow;
use crate::store::payments::PaymentRow;
use crate::store::statements::StatementRow;
use crate::web::auth::FinanceUser;
use crate::web::csrf::{CsrfForm, form_token};
use crate::web::layout::Layout;
use crate::web::{money, redirect, render, render_status, urlencode};

/// One invoice in a list, ready to show.
pub struct InvoiceLine {
    pub id: String,
    pub number: String,
    pub kind: &'static str,
    pub buyer_id: String,
    pub buyer: String,
    pub period: String,
    pub issued: String,
    pub due: String,
    pub status: &'static str,
    pub total: String,
    pub open: String,
    pub total_cents: i64,
    pub open_cents: i64,
}

fn day(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn invoice_status(i: &InvoiceRow, now: NaiveDateTime) -> &'static str {
    if i.kind == "credit_note" {
        return if i.status == "draft" {
            "draft"
        } else {
            "issued"
        };
    }
    rules::status(
        &i.status,
        i.total_cents,
        i.paid_cents,
        i.credited_cents,
        i.due_at,
        now,
    )
}

pub fn open_of(i: &InvoiceRow) -> i64 {
    if i.kind == "invoice" && i.status == "issued" {
        rules::open_cents(i.total_cents, i.paid_cents, i.credited_cents)
    } else {
        0
    }
}

pub fn invoice_line(
    i: InvoiceRow,
    names: &std::collections::HashMap<String, String>,
    currency: &str,
    now: NaiveDateTime,
) -> InvoiceLine {
    let open_cents = open_of(&i);
    InvoiceLine {
        status: invoice_status(&i, now),
        number: i.number.clone().unwrap_or_else(|| "(draft)".into()),
        kind: if i.kind == "credit_note" {
            "Credit note"
        } else {
            "Invoice"
        },
        buyer: names.get(&i.buyer_id).cloned().unwrap_or_default(),
        period: i.period_start.format("%Y-%m").to_string(),
        issued: day(i.issued_at),
        due: day(i.due_at),
        total: money(i.total_cents, currency),
        open: money(open_cents, currency),
        total_cents: i.total_cents,
        open_cents,
        buyer_id: i.buyer_id,
        id: i.id,
    }
}

fn names_for(
    conn: &mut crate::db::AnyConnection,
    invoices: &[InvoiceRow],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let ids: Vec<String> = invoices.iter().map(|i| i.buyer_id.clone()).collect();
    Ok(store::organisations::names(conn, &ids)?)
}

// ---- the invoice list and the billing run ----------------------------------------------

pub const STATUSES: [&str; 7] = [
    "draft",
    "issued",
    "partly_paid",
    "overdue",
    "paid",
    "void",
    "credit_note",
];

#[derive(Template)]
#[template(path = "finance/invoices.html")]
struct InvoicesPage {
    layout: Layout,
    invoices: Vec<InvoiceLine>,
    statuses: Vec<(&'static str, bool)>,
    status: String,
    count: usize,
    total: String,
    open: String,
    default_period: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

#[derive(Deserialize)]
pub struct InvoiceFilter {
    #[serde(default)]
    status: String,
    notice: Option<String>,
}

async fn invoices_page(
    user: &FinanceUser,
    state: &AppState,
    status: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<InvoicesPage> {
    let currency = state.config.currency.clone();
    let now = store::now();
    let wanted = status.clone();
    let invoices = state
        .db(move |conn| {
            let all = store::invoices::list(conn, None, false)?;
            let names = names_for(conn, &all)?;
            Ok(all
                .into_iter()
                .filter(|i| match wanted.as_str() {
                    "" => true,
                    "credit_note" => i.kind == "credit_note",
                    s => i.kind == "invoice" && invoice_status(i, now) == s,
                })
                .map(|i| invoice_line(i, &names, &currency, now))
                .collect::<Vec<_>>())
        })
        .await?;
    let c = &state.config.currency;
    Ok(InvoicesPage {
        layout: Layout::for_user(user, "Invoices", "/finance/invoices"),
        count: invoices.len(),
        total: money(invoices.iter().map(|i| i.total_cents).sum(), c),
        open: money(invoices.iter().map(|i| i.open_cents).sum(), c),
        invoices,
        statuses: STATUSES.iter().map(|s| (*s, *s == status)).collect(),
        status,
        default_period: Period::previous(now).code(),
        notice,
        problems,
    })
}

pub async fn invoices(
    user: FinanceUser,
    state: web::Data<AppState>,
    query: web::Query<InvoiceFilter>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    if !q.status.is_empty() && !STATUSES.contains(&q.status.as_str()) {
        let problems = vec![FieldProblem::new("status", "is not an invoice status")];
        return render_status(
            &invoices_page(&user, &state, String::new(), None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    render(&invoices_page(&user, &state, q.status, q.notice, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct RunForm {
    period: String,
}

pub async fn run(
    user: FinanceUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RunForm>,
) -> AppResult<HttpResponse> {
    let period = match Period::parse(&form.period) {
        Ok(p) => p,
        Err(e) => {
            return render_status(
                &invoices_page(
                    &user,
                    &state,
                    String::new(),
                    None,
                    vec![FieldProblem::new("period", e)],
                )
                .await?,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let config = state.config.clone();
    let summary = match state
        .db(move |conn| billing::run(conn, &Ctx::from(&*config), period))
        .await
    {
        Ok(s) => s,
        // Another run for this month is under way (a second click, another desk).
        Err(AppError::Conflict { message, .. }) => {
            return render_status(
                &invoices_page(
                    &user,
                    &state,
                    String::new(),
                    None,
                    vec![FieldProblem::new("period", message)],
                )
                .await?,
                actix_web::http::StatusCode::CONFLICT,
            );
        }
        Err(e) => return Err(e),
    };
    let notice = format!(
        "Billing run for {}: {} draft invoice(s) to review, {} agency statement(s).",
        period.label(),
        summary.drafts,
        summary.statements
    );
    Ok(redirect(&format!(
        "/finance/invoices?status=draft&notice={}",
        urlencode(&notice)
    )))
}

// ---- one invoice -----------------------------------------------------------------------

pub struct LineView {
    pub description: String,
    pub quantity: i64,
    pub unit: String,
    pub amount: String,
}

pub struct PaymentView {
    pub received: String,
    pub method: &'static str,
    pub amount: String,
    pub reference: String,
}

fn payment_view(p: &PaymentRow, currency: &str) -> PaymentView {
    PaymentView {
        received: p.received_on.format("%Y-%m-%d").to_string(),
        method: if p.method == "card" {
            "card"
        } else {
            "bank transfer"
        },
        amount: money(p.amount_cents, currency),
        reference: p.reference.clone(),
    }
}

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
    let currency = state.config.currency.clone();
    let tax_bp = state.config.billing.tax_bp;
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
    let is_draft = invoice.status == "draft";
    // A draft shows the tax it will carry once issued.
    let (tax_cents, rate) = if is_draft {
        (rules::tax(invoice.subtotal_cents, tax_bp), tax_bp)
    } else {
        (invoice.tax_cents, i64::from(invoice.tax_bp))
    };
    Ok(InvoicePage {
        layout: Layout::for_user(user, "Invoice", "/finance/invoices"),
        is_draft,
        can_pay: open_of(&invoice) > 0,
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
        history: history
            .into_iter()
            .map(|i| invoice_line(i, &names, c, now))
            .collect(),
        invoice: invoice_line(invoice, &names, c, now),
        today: now.format("%Y-%m-%d").to_string(),
        notice,
        problems,
        issue_token: form_token(),
        pay_token: form_token(),
        credit_token: form_token(),
    })
}

/// A form's one-time token; forms from before tokens (or scripts) send none.
fn sent_token(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn invoice(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    render(
        &invoice_page(
            &user,
            &state,
            path.into_inner(),
            query.into_inner().notice,
            Vec::new(),
        )
        .await?,
    )
}

/// After a finance action: back to the invoice with a notice, or the page with problems.
async fn after(
    user: &FinanceUser,
    state: &AppState,
    id: String,
    result: Result<String, AppError>,
) -> AppResult<HttpResponse> {
    match result {
        Ok(notice) => Ok(redirect(&format!(
            "/finance/invoices/{id}?notice={}",
            urlencode(&notice)
        ))),
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
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (config, by, invoice_id) = (state.config.clone(), user.id.clone(), id.clone());
    let token = sent_token(&form.form_token);
    let result = state
        .db(move |conn| {
            billing::issue_once(
                conn,
                &Ctx::from(&*config),
                &invoice_id,
                Some(&by),
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
    after(&user, &state, id, result).await
}

fn parse_amount(field: &str, raw: &str) -> Result<i64, AppError> {
    crate::domain::intake::row::parse_money_major(raw).map_err(|_| {
        AppError::Validation(vec![FieldProblem::new(
            field,
            "must be an amount such as 120 or 120.50",
        )])
    })
}

fn parse_day(field: &str, raw: &str) -> Result<NaiveDateTime, AppError> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN))
        .map_err(|_| {
            AppError::Validation(vec![FieldProblem::new(
                field,
                "must be a date such as 2026-11-24",
            )])
        })
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
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PaymentForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let parsed = parse_amount("amount", &form.amount)
        .and_then(|a| parse_day("received_on", &form.received_on).map(|d| (a, d)));
    let result = match parsed {
        Err(e) => Err(e),
        Ok((amount_cents, received_on)) => {
            let (config, by, invoice_id) = (state.config.clone(), user.id.clone(), id.clone());
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
                            recorded_by: Some(&by),
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
    after(&user, &state, id, result).await
}

#[derive(Deserialize)]
pub struct CreditForm {
    amount: String,
    reason: String,
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn credit(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<CreditForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match parse_amount("amount", &form.amount) {
        Err(e) => Err(e),
        Ok(amount) => {
            let (config, by, invoice_id) = (state.config.clone(), user.id.clone(), id.clone());
            let token = sent_token(&form.form_token);
            state
                .db(move |conn| {
                    billing::credit_note_once(
                        conn,
                        &Ctx::from(&*config),
                        &invoice_id,
                        amount,
                        &form.reason,
                        Some(&by),
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
    after(&user, &state, id, result).await
}

// ---- a buyer's account -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "finance/account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    slug: String,
    limit: String,
    limit_major: String,
    owed: String,
    available: String,
    uninvoiced: String,
    open_invoices: String,
    invoices: Vec<InvoiceLine>,
    payments: Vec<PaymentView>,
    return_rate: String,
}

pub async fn account(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let now = store::now();
    let (org, account, invoices, payments, names, returns) = state
        .db(move |conn| {
            let org = store::organisations::find(conn, &id)?;
            if org.kind != "buyer" {
                return Err(AppError::NotFound);
            }
            let account = crate::services::market::account(conn, &id)?;
            let invoices = store::invoices::list(conn, Some(&id), false)?;
            let payments = store::payments::list(conn, None, Some(&id))?;
            let names = names_for(conn, &invoices)?;
            let since = store::now() - chrono::TimeDelta::days(30);
            let (approved, opened) = store::disputes::buyer_returns_since(conn, &id, since)?;
            let bought = store::disputes::buyer_purchases_since(conn, &id, since)?;
            let returns = format!(
                "{opened} disputes ({approved} approved) on {bought} purchases in the last 30 days"
            );
            Ok((org, account, invoices, payments, names, returns))
        })
        .await?;
    let c = &state.config.currency;
    render(&AccountPage {
        layout: Layout::for_user(&user, &org.name, "/finance/buyers"),
        limit: money(account.credit_limit_cents, c),
        limit_major: format!(
            "{}.{:02}",
            account.credit_limit_cents / 100,
            account.credit_limit_cents % 100
        ),
        owed: money(account.owed_cents, c),
        available: money(account.available_cents, c),
        uninvoiced: money(account.uninvoiced_cents, c),
        open_invoices: money(account.open_invoices_cents, c),
        invoices: invoices
            .into_iter()
            .map(|i| invoice_line(i, &names, c, now))
            .collect(),
        payments: payments.iter().map(|p| payment_view(p, c)).collect(),
        return_rate: returns,
        name: org.name,
        slug: org.slug,
    })
}

// ---- aging -----------------------------------------------------------------------------

pub struct AgingRow {
    pub buyer_id: String,
    pub buyer: String,
    pub buckets: Vec<String>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "finance/aging.html")]
struct AgingPage {
    layout: Layout,
    buckets: [&'static str; 5],
    rows: Vec<AgingRow>,
    totals: Vec<String>,
    total: String,
}

/// Open amounts per buyer and bucket: (buyer id, amounts in bucket order).
pub fn aging(invoices: &[InvoiceRow], now: NaiveDateTime) -> Vec<(String, [i64; 5])> {
    let mut by_buyer: std::collections::BTreeMap<String, [i64; 5]> = Default::default();
    for i in invoices {
        let open = open_of(i);
        let Some(due) = i.due_at else { continue };
        if open == 0 {
            continue;
        }
        let bucket = rules::aging_bucket(due, now);
        let slot = AGING_BUCKETS.iter().position(|b| *b == bucket).unwrap_or(0);
        by_buyer.entry(i.buyer_id.clone()).or_default()[slot] += open;
    }
    by_buyer.into_iter().collect()
}

pub async fn aging_report(
    user: FinanceUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let now = store::now();
    let (rows, names) = state
        .db(move |conn| {
            let invoices = store::invoices::list(conn, None, true)?;
            let names = names_for(conn, &invoices)?;
            Ok((aging(&invoices, now), names))
        })
        .await?;
    let c = &state.config.currency;
    let mut totals = [0i64; 5];
    for (_, amounts) in &rows {
        for (t, a) in totals.iter_mut().zip(amounts) {
            *t += a;
        }
    }
    render(&AgingPage {
        layout: Layout::for_user(&user, "Aging", "/finance/aging"),
        buckets: AGING_BUCKETS,
        rows: rows
            .into_iter()
            .map(|(buyer_id, amounts)| AgingRow {
                buyer: names.get(&buyer_id).cloned().unwrap_or_default(),
                buckets: amounts.iter().map(|a| money(*a, c)).collect(),
                total: money(amounts.iter().sum(), c),
                buyer_id,
            })
            .collect(),
        totals: totals.iter().map(|a| money(*a, c)).collect(),
        total: money(totals.iter().sum(), c),
    })
}

// ---- payouts ---------------------------------------------------------------------------

pub struct StatementView {
    pub id: String,
    pub agency: String,
    pub period: String,
    pub gross: String,
    pub commission: String,
    pub returns: String,
    pub net: String,
    pub status: String,
    pub paid: String,
    /// The payout form's one-time token.
    pub form_token: String,
}

pub fn statement_view(
    s: StatementRow,
    names: &std::collections::HashMap<String, String>,
    currency: &str,
) -> StatementView {
    StatementView {
        agency: names.get(&s.agency_id).cloned().unwrap_or_default(),
        period: Period::containing(s.period_start).label(),
        gross: money(s.gross_cents, currency),
        commission: money(s.commission_cents, currency),
        returns: money(s.returns_cents, currency),
        net: money(s.net_cents, currency),
        paid: match (&s.paid_on, &s.paid_reference) {
            (Some(d), Some(r)) => format!("{} ({r})", d.format("%Y-%m-%d")),
            _ => String::new(),
        },
        status: s.status,
        id: s.id,
        form_token: form_token(),
    }
}

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
    let c = &state.config.currency;
    let due_total: i64 = statements
        .iter()
        .filter(|s| s.status == "open")
        .map(|s| s.net_cents)
        .sum();
    let (due, paid): (Vec<_>, Vec<_>) = statements.into_iter().partition(|s| s.status == "open");
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

pub async fn payouts(
    user: FinanceUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    render(&payouts_page(&user, &state, query.into_inner().notice, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct PayoutForm {
    paid_on: String,
    reference: String,
    #[serde(default)]
    form_token: Option<String>,
}

pub async fn mark_paid(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PayoutForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let result = match parse_day("paid_on", &form.paid_on) {
        Err(e) => Err(e),
        Ok(day) => {
            let token = sent_token(&form.form_token);
            state
                .db(move |conn| {
                    billing::mark_payout_once(conn, &id, day, &form.reference, token.as_deref())
                })
                .await
        }
    };
    match result {
        Ok(once) => {
            let notice = match &once {
                Once::Done(s) => format!(
                    "Payout of {} recorded.",
                    money(s.net_cents, &state.config.currency)
                ),
                Once::Already(s) => format!(
                    "This form was sent twice; the payout of {} was recorded once.",
                    money(s.net_cents, &state.config.currency)
                ),
            };
            Ok(redirect(&format!(
                "/finance/payouts?notice={}",
                urlencode(&notice)
            )))
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

// ---- the trial balance -----------------------------------------------------------------

pub struct AccountSum {
    pub account: String,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "finance/ledger.html")]
struct LedgerPage {
    layout: Layout,
    accounts: Vec<AccountSum>,
    total: String,
    balanced: bool,
    unbalanced: Vec<(String, String)>,
}

pub async fn ledger(user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let (total, unbalanced, per_account) = state
        .db(|conn| {
            let (total, unbalanced) = store::ledger::trial_balance(conn)?;
            let per_account = store::ledger::balances_by_account(conn)?;
            Ok((total, unbalanced, per_account))
        })
        .await?;
    let c = &state.config.currency;
    render(&LedgerPage {
        layout: Layout::for_user(&user, "Trial balance", "/finance/ledger"),
        balanced: total == 0 && unbalanced.is_empty(),
        accounts: per_account
            .into_iter()
            .map(|(account, sum)| AccountSum {
                account,
                balance: money(sum, c),
            })
            .collect(),
        total: money(total, c),
        unbalanced: unbalanced
            .into_iter()
            .map(|(id, sum)| (id, money(sum, c)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aging_puts_open_amounts_in_their_bucket() {
        let at = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
        };
        let invoice = |buyer: &str, total, paid, due| InvoiceRow {
            id: format!("{buyer}-{due}"),
            number: Some("LM".into()),
            kind: "invoice".into(),
            buyer_id: buyer.into(),
            status: "issued".into(),
            corrects_id: None,
            period_start: at(1),
            period_end: at(1),
            subtotal_cents: total,
            tax_bp: 0,
            tax_cents: 0,
            total_cents: total,
            paid_cents: paid,
            credited_cents: 0,
            note: String::new(),
            issued_at: Some(at(1)),
            due_at: Some(at(due)),
            issued_by: None,
            created_at: at(1),
        };
        let rows = aging(
            &[
                invoice("a", 100, 0, 30),
                invoice("a", 50, 20, 10),
                invoice("b", 70, 70, 1),
            ],
            at(24),
        );
        assert_eq!(rows, vec![("a".to_string(), [100, 30, 0, 0, 0])]);
    }
}
