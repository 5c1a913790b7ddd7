//! Issuing a draft invoice: its gapless number, due date, tax and mail.

use chrono::{NaiveDateTime, TimeDelta};

use super::{Ctx, Once, format_money, ledger_error, once};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::billing::{self, InvoiceStatus};
use crate::domain::ledger::{OnceKind, TransactionKind};
use crate::domain::money;
use crate::error::AppError;
use crate::mail;
use crate::services;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::invoices::InvoiceRow;

/// Issues a draft: the next gapless number, the due date, tax through the ledger, and
/// the mail to the buyer, all in one transaction.
pub fn issue(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    by: &Who,
) -> Result<InvoiceRow, AppError> {
    issue_at(conn, ctx, invoice_id, by, store::now())
}

/// `issue` once per form token: a second post answers with the invoice as issued.
pub fn issue_once(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    by: &Who,
    token: Option<&str>,
) -> Result<Once<InvoiceRow>, AppError> {
    once(
        conn,
        token,
        OnceKind::Issue,
        invoice_id.to_string(),
        |conn, first| Ok(store::invoices::find(conn, first)?),
        |conn, _| issue(conn, ctx, invoice_id, by),
    )
}

/// `issue` as of `now` (the demo seeds invoices issued in the past).
pub fn issue_at(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    by: &Who,
    now: NaiveDateTime,
) -> Result<InvoiceRow, AppError> {
    let issued_by = by.user_id.as_deref();
    let Ctx {
        cfg,
        currency,
        public_url,
    } = *ctx;
    write_transaction(conn, |conn| {
        let draft = store::invoices::find(conn, invoice_id)?;
        if draft.status != InvoiceStatus::Draft {
            return Err(AppError::Conflict {
                code: "already_issued",
                message: format!(
                    "this invoice was issued already as {}",
                    draft.number.as_deref().unwrap_or("?")
                ),
            });
        }
        if now < draft.period_start {
            // An invoice dated before the month it bills (what the demo once seeded).
            return Err(AppError::invalid(
                "issued_at",
                "an invoice cannot be issued before the period it bills begins",
            ));
        }
        let year = chrono::Datelike::year(&now);
        let n = store::invoices::next_number(conn, "LM", year)?;
        let number = billing::format_number("LM", year, n);
        let tax_cents = billing::tax(draft.subtotal_cents, cfg.tax_bp);
        let due_at = now + TimeDelta::days(cfg.due_days);
        let issue = store::invoices::Issue {
            number: &number,
            issued_at: now,
            due_at,
            issued_by,
            tax_bp: cfg.tax_bp as i32,
            tax_cents,
        };
        if !store::invoices::mark_issued(conn, invoice_id, &issue)? {
            return Err(AppError::Conflict {
                code: "already_issued",
                message: "this invoice was issued a moment ago by someone else".into(),
            });
        }
        if tax_cents != 0 {
            let tx = money::tax_postings(&draft.buyer_id, tax_cents).map_err(ledger_error)?;
            store::ledger::post(
                conn,
                TransactionKind::InvoiceTax,
                &format!("tax on {number}"),
                &tx,
            )?;
            store::credit::add_owed(conn, &draft.buyer_id, tax_cents)?;
        }
        let issued = store::invoices::find(conn, invoice_id)?;
        services::audit::record(
            conn,
            by,
            AuditAction::InvoiceIssued,
            Some(&issued.buyer_id),
            &format!(
                "invoice {invoice_id}: draft -> issued as {number}, total {}, due {}",
                format_money(issued.total_cents, currency),
                due_at.format("%Y-%m-%d")
            ),
            now,
        )?;
        let buyer = store::organisations::find(conn, &issued.buyer_id)?;
        to_organisation(
            conn,
            &issued.buyer_id,
            &mail::InvoiceIssued {
                seller_name: cfg.seller_name.clone(),
                buyer_name: buyer.name,
                number: number.clone(),
                kind_label: "Invoice".into(),
                total: format_money(issued.total_cents, currency),
                due_on: due_at.format("%Y-%m-%d").to_string(),
                url: format!("{public_url}/invoices/{invoice_id}"),
                payment_instructions: cfg.payment_text(&number),
            },
            now,
        )?;
        Ok(issued)
    })
}
