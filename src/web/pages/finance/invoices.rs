//! The invoice list, filtered by status (one invoice is in `invoice.rs`).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{InvoiceLine, invoice_line, names_for};
use crate::app::AppState;
use crate::domain::billing::{InvoiceKind, Period};
use crate::error::{AppResult, FieldProblem};
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::flash;
use crate::web::layout::Layout;
use crate::web::{invoice_facts, money, render, render_status};

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
pub(super) struct InvoicesPage {
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
}

pub(super) async fn invoices_page(
    user: &FinanceUser,
    state: &AppState,
    status: String,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<InvoicesPage> {
    let currency = state.config().currency.clone();
    let now = store::now();
    let wanted = status.clone();
    let invoices = state
        .db(move |conn| {
            let all = store::invoices::list(conn, None, false)?;
            let names = names_for(conn, &all)?;
            let mut shown = Vec::new();
            for i in all {
                let facts = invoice_facts(&i);
                let wanted = match wanted.as_str() {
                    "" => true,
                    "credit_note" => facts.kind == InvoiceKind::CreditNote,
                    s => facts.kind == InvoiceKind::Invoice && facts.status(now) == s,
                };
                if wanted {
                    shown.push(invoice_line(i, &names, &currency, now));
                }
            }
            Ok(shown)
        })
        .await?;
    let c = &state.config().currency;
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

pub async fn list(
    user: FinanceUser,
    state: web::Data<AppState>,
    query: web::Query<InvoiceFilter>,
    session: Session,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    if !q.status.is_empty() && !STATUSES.contains(&q.status.as_str()) {
        let problems = vec![FieldProblem::new("status", "is not an invoice status")];
        return render_status(
            &invoices_page(&user, &state, String::new(), None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let notice = flash::take(&session).map(|f| f.message);
    render(&invoices_page(&user, &state, q.status, notice, Vec::new()).await?)
}
