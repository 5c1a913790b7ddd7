//! The finance desk, one file per use case: the invoice list and one invoice
//! (`invoices`), the monthly billing run, a buyer's account, buyers' credit, aging,
//! agency payouts, unapplied payments and the trial balance. This module holds the views
//! they share (and the buyers' invoice pages reuse) and registers every `/finance` page.

mod accounts;
mod aging;
mod billing_run;
mod buyers;
mod invoice;
mod invoices;
mod ledger;
mod payouts;
mod unapplied;

use std::collections::HashMap;

use actix_web::web;
use chrono::NaiveDateTime;

use crate::domain::billing::{InvoiceKind, Period};
use crate::error::AppError;
use crate::store;
use crate::store::invoices::InvoiceRow;
use crate::store::payments::PaymentRow;
use crate::store::statements::StatementRow;
use crate::web::csrf::form_token;
use crate::web::{invoice_facts, money};

/// Every `/finance/...` page. One scope owns the prefix, so a finance route registered
/// anywhere else would never be reached: they all live here (dispute decisions and the
/// CSV exports keep their handlers where they are).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/finance")
            .route("/invoices", web::get().to(invoices::list))
            .route("/billing-run", web::post().to(billing_run::run))
            .route("/invoices/{id}", web::get().to(invoice::show))
            .route("/invoices/{id}/issue", web::post().to(invoice::issue))
            .route("/invoices/{id}/payments", web::post().to(invoice::pay))
            .route(
                "/invoices/{id}/credit-notes",
                web::post().to(invoice::credit),
            )
            .route("/buyers/{id}", web::get().to(accounts::account))
            .route("/aging", web::get().to(aging::report))
            .route("/payouts", web::get().to(payouts::list))
            .route("/statements/{id}/paid", web::post().to(payouts::mark_paid))
            .route("/ledger", web::get().to(ledger::trial_balance))
            .route("/unapplied", web::get().to(unapplied::list))
            .route("/unapplied/{id}/apply", web::post().to(unapplied::apply))
            .route("/unapplied/{id}/refund", web::post().to(unapplied::refund))
            .route(
                "/exports/invoices.csv",
                web::get().to(crate::web::exports::invoices),
            )
            .route(
                "/exports/payments.csv",
                web::get().to(crate::web::exports::payments),
            )
            .route(
                "/exports/ledger.csv",
                web::get().to(crate::web::exports::ledger),
            )
            .route("/disputes", web::get().to(super::disputes::queue))
            .route(
                "/disputes/{id}/decide",
                web::post().to(super::disputes::decide),
            )
            .route("/buyers", web::get().to(buyers::list))
            .route("/buyers/credit", web::post().to(buyers::set_credit)),
    );
}

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

/// `2 Dec 2026`: read by people, not parsed.
fn day(t: Option<NaiveDateTime>) -> String {
    t.map(|t| t.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

pub fn invoice_line(
    i: InvoiceRow,
    names: &HashMap<String, String>,
    currency: &str,
    now: NaiveDateTime,
) -> InvoiceLine {
    let facts = invoice_facts(&i);
    let open_cents = facts.open_cents();
    InvoiceLine {
        status: facts.status(now),
        number: i.number.clone().unwrap_or_else(|| "(draft)".into()),
        kind: match facts.kind {
            InvoiceKind::CreditNote => "Credit note",
            InvoiceKind::Invoice => "Invoice",
        },
        buyer: names.get(&i.buyer_id).cloned().unwrap_or_default(),
        period: Period::containing(i.period_start).label(),
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

/// Invoice lines for rows, in their order.
pub fn invoice_lines(
    invoices: Vec<InvoiceRow>,
    names: &HashMap<String, String>,
    currency: &str,
    now: NaiveDateTime,
) -> Vec<InvoiceLine> {
    invoices
        .into_iter()
        .map(|i| invoice_line(i, names, currency, now))
        .collect()
}

fn names_for(
    conn: &mut crate::db::AnyConnection,
    invoices: &[InvoiceRow],
) -> Result<HashMap<String, String>, AppError> {
    let ids: Vec<String> = invoices.iter().map(|i| i.buyer_id.clone()).collect();
    Ok(store::organisations::names(conn, &ids)?)
}

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
    /// Only a positive net is paid out.
    pub payable: bool,
    /// The payout form's one-time token.
    pub form_token: String,
}

pub fn statement_view(
    s: StatementRow,
    names: &HashMap<String, String>,
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
        status: s.status.to_string(),
        payable: s.net_cents > 0,
        id: s.id,
        form_token: form_token(),
    }
}

/// A form's one-time token; forms from before tokens (or scripts) send none.
fn sent_token(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

pub(super) fn parse_day(field: &str, raw: &str) -> Result<NaiveDateTime, AppError> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN))
        .map_err(|_| AppError::invalid(field, "must be a date such as 2026-11-24"))
}
