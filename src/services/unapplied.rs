//! Unapplied payments: money received that no invoice took (a card payment above what
//! was open). Finance applies what is left to an open invoice of the same buyer, or
//! records that it was refunded. The receipt is in the ledger already, so applying moves
//! only the invoice; a refund moves the cash back out.
//!
//! The refund itself (Stripe's refund call or a bank transfer) is done by finance outside
//! the app; this records it.

use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::billing::{self as rules, InvoiceKind, InvoiceStatus};
use crate::domain::ledger::{OnceKind, TransactionKind};
use crate::domain::money;
use crate::error::AppError;
use crate::services;
use crate::services::billing::{Ctx, NewPayment, Once, claim_once, format_money};
use crate::store;
use crate::store::payments::PaymentRow;
use crate::store::unapplied::UnappliedRow;

fn nothing_left() -> AppError {
    AppError::Conflict {
        code: "nothing_left",
        message: "this payment was applied or refunded already".into(),
    }
}

/// Applies what is left of an unapplied payment, up to what is open, to an issued invoice
/// of the same buyer; once per form token.
pub fn apply(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    unapplied_id: &str,
    invoice_id: &str,
    who: &Who,
    token: &str,
) -> Result<Once<PaymentRow>, AppError> {
    let by = who.user_id.as_deref();
    let payment_id = store::new_id();
    write_transaction(conn, |conn| {
        if let Some(first) = claim_once(conn, token, OnceKind::Apply, &payment_id)? {
            return Ok(Once::Already(store::payments::find(conn, &first)?));
        }
        let unapplied = store::unapplied::find(conn, unapplied_id)?;
        let left = unapplied.left_cents();
        if left == 0 {
            return Err(nothing_left());
        }
        let invoice = store::invoices::find(conn, invoice_id).map_err(|e| match e {
            diesel::result::Error::NotFound => {
                AppError::invalid("invoice", "pick one of the invoices listed")
            }
            e => e.into(),
        })?;
        if invoice.buyer_id != unapplied.buyer_id
            || invoice.status != InvoiceStatus::Issued
            || invoice.kind != InvoiceKind::Invoice
        {
            return Err(AppError::invalid(
                "invoice",
                "pick an issued invoice of the buyer who paid",
            ));
        }
        let open = rules::open_cents(
            invoice.total_cents,
            invoice.paid_cents,
            invoice.credited_cents,
        );
        if open == 0 {
            return Err(AppError::invalid(
                "invoice",
                "this invoice has nothing open",
            ));
        }
        let amount = left.min(open);
        let now = store::now();
        // The guarded update fails when another apply or a refund took the money first.
        if !store::unapplied::take(conn, unapplied_id, amount, by, now)? {
            return Err(nothing_left());
        }
        let reference = format!("{} (unapplied payment)", unapplied.reference);
        crate::services::billing::record_payment_as(
            conn,
            ctx,
            &NewPayment {
                invoice_id,
                method: &unapplied.method,
                amount_cents: amount,
                received_on: unapplied.received_on,
                reference: &reference,
                by: who,
            },
            &payment_id,
            Some(&unapplied.transaction_id),
        )
        .map(Once::Done)
    })
}

/// Records that what is left of an unapplied payment was refunded: cash out, the
/// buyer's receivable back up; once per form token.
pub fn refund(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    unapplied_id: &str,
    who: &Who,
    token: &str,
) -> Result<Once<UnappliedRow>, AppError> {
    let by = who.user_id.as_deref();
    write_transaction(conn, |conn| {
        if claim_once(conn, token, OnceKind::Refund, unapplied_id)?.is_some() {
            return Ok(Once::Already(store::unapplied::find(conn, unapplied_id)?));
        }
        let unapplied = store::unapplied::find(conn, unapplied_id)?;
        let left = unapplied.left_cents();
        if left == 0 {
            return Err(nothing_left());
        }
        let tx = money::refund_postings(&unapplied.buyer_id, left)
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
        let transaction_id = store::ledger::post(
            conn,
            TransactionKind::Refund,
            &format!(
                "refund of {} ({})",
                format_money(left, ctx.currency),
                unapplied.reference
            ),
            &tx,
        )?;
        store::credit::add_owed(conn, &unapplied.buyer_id, left)?;
        if !store::unapplied::mark_refunded(conn, unapplied_id, &transaction_id, by, store::now())?
        {
            return Err(nothing_left());
        }
        services::audit::record(
            conn,
            who,
            AuditAction::PaymentRefunded,
            Some(&unapplied.buyer_id),
            &format!(
                "unapplied payment {unapplied_id} (reference {}): {} refunded",
                unapplied.reference,
                format_money(left, ctx.currency)
            ),
            store::now(),
        )?;
        Ok(Once::Done(store::unapplied::find(conn, unapplied_id)?))
    })
}
