//! Credit notes against issued invoices.

use super::{Applied, Ctx, Once, apply_to_issued, format_money, ledger_error, once};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::billing::{self, InvoiceKind, InvoiceStatus};
use crate::domain::ledger::{OnceKind, TransactionKind};
use crate::domain::money;
use crate::error::{AppError, FieldProblem};
use crate::mail;
use crate::services;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::invoices::InvoiceRow;

/// A credit note against an issued invoice, for at most what is still open: its own
/// number, the ledger, and a mail. The invoice itself is never changed but for the
/// credited amount.
pub fn credit_note(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    by: &Who,
) -> Result<InvoiceRow, AppError> {
    credit_note_as(
        conn,
        ctx,
        &store::new_id(),
        invoice_id,
        amount_cents,
        reason,
        by,
    )
}

/// `credit_note` once per form token: a second post answers with the first note.
pub fn credit_note_once(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    by: &Who,
    token: Option<&str>,
) -> Result<Once<InvoiceRow>, AppError> {
    once(
        conn,
        token,
        OnceKind::CreditNote,
        store::new_id(),
        |conn, first| Ok(store::invoices::find(conn, first)?),
        |conn, id| credit_note_as(conn, ctx, id, invoice_id, amount_cents, reason, by),
    )
}

fn credit_note_as(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    note_id: &str,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    by: &Who,
) -> Result<InvoiceRow, AppError> {
    let Ctx {
        cfg,
        currency,
        public_url,
    } = *ctx;
    let reason = reason.trim();
    let mut problems = Vec::new();
    if amount_cents <= 0 {
        problems.push(FieldProblem::new("amount", "must be more than zero"));
    }
    if reason.is_empty() || reason.len() > 500 {
        problems.push(FieldProblem::new(
            "reason",
            "say why (up to 500 characters)",
        ));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    write_transaction(conn, |conn| {
        let now = store::now();
        let (invoice, open) = apply_to_issued(
            conn,
            invoice_id,
            Applied::Credited(amount_cents),
            "only an issued invoice can be credited",
            currency,
        )?;
        let year = chrono::Datelike::year(&now);
        let number =
            billing::format_number("CN", year, store::invoices::next_number(conn, "CN", year)?);
        let tx =
            money::credit_note_postings(&invoice.buyer_id, amount_cents).map_err(ledger_error)?;
        store::ledger::post(
            conn,
            TransactionKind::CreditNote,
            &format!("credit note {number}"),
            &tx,
        )?;
        store::credit::add_owed(conn, &invoice.buyer_id, -amount_cents)?;
        let note = InvoiceRow {
            id: note_id.to_string(),
            number: Some(number.clone()),
            kind: InvoiceKind::CreditNote,
            buyer_id: invoice.buyer_id.clone(),
            status: InvoiceStatus::Issued,
            corrects_id: Some(invoice.id.clone()),
            period_start: invoice.period_start,
            period_end: invoice.period_end,
            subtotal_cents: amount_cents,
            tax_bp: 0,
            tax_cents: 0,
            total_cents: amount_cents,
            paid_cents: 0,
            credited_cents: 0,
            note: reason.to_string(),
            issued_at: Some(now),
            due_at: None,
            issued_by: by.user_id.clone(),
            created_at: now,
        };
        let line = billing::Line {
            kind: billing::LineKind::Credit,
            description: format!(
                "credit on {}: {reason}",
                invoice.number.as_deref().unwrap_or_default()
            ),
            batch_id: None,
            quantity: 1,
            unit_cents: amount_cents,
            amount_cents,
        };
        store::invoices::insert(conn, &note, &[line])?;
        let still_open = open - amount_cents;
        let void = if still_open == 0 && invoice.paid_cents == 0 {
            "; the invoice is now void"
        } else {
            ""
        };
        services::audit::record(
            conn,
            by,
            AuditAction::InvoiceCredited,
            Some(&invoice.buyer_id),
            &format!(
                "invoice {} credited {} by credit note {number}: open {} -> {}{void}",
                invoice.number.as_deref().unwrap_or_default(),
                format_money(amount_cents, currency),
                format_money(open, currency),
                format_money(still_open, currency),
            ),
            now,
        )?;
        let buyer = store::organisations::find(conn, &invoice.buyer_id)?;
        to_organisation(
            conn,
            &invoice.buyer_id,
            &mail::InvoiceIssued {
                seller_name: cfg.seller_name.clone(),
                buyer_name: buyer.name,
                number,
                kind_label: "Credit note".into(),
                total: format_money(amount_cents, currency),
                due_on: String::new(),
                url: format!("{public_url}/invoices/{}", note.id),
                payment_instructions: format!(
                    "It reduces what is open on invoice {}.",
                    invoice.number.as_deref().unwrap_or_default()
                ),
            },
            now,
        )?;
        Ok(note)
    })
}
