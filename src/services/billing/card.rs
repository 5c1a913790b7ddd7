//! Card payments: Stripe events and checkout requests.

use diesel::OptionalExtension as _;

use super::payments::{NewPayment, record_payment_as};
use super::{Ctx, ledger_error};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::Who;
use crate::domain::billing::{self, InvoiceKind, InvoiceStatus};
use crate::domain::ledger::{OnceKind, TransactionKind, UnappliedStatus};
use crate::domain::money;
use crate::error::AppError;
use crate::store;

/// What became of a Stripe event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// A payment was recorded against the invoice; what exceeded the open amount is kept
    /// as an unapplied payment (`unapplied_cents`).
    Paid {
        invoice_id: String,
        amount_cents: i64,
        unapplied_cents: i64,
    },
    /// Seen before (this event id, or this payment intent under another event id):
    /// nothing changes.
    Replay,
    /// Not an event we act on (answered 200 all the same).
    Ignored,
    /// A payment no invoice could take: kept as an unapplied payment for finance to
    /// apply or refund, or, with no invoice to name its buyer, only logged.
    Unapplied(String),
}

/// Processes one verified Stripe event, once per event id and once per payment intent,
/// in one transaction: the seen id, the intent's claim and the payment commit together.
pub fn stripe_event(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    event: &serde_json::Value,
) -> Result<EventOutcome, AppError> {
    let id = event["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::BadRequest("the event has no id".into()))?;
    let kind = event["type"].as_str().unwrap_or("");
    write_transaction(conn, |conn| {
        if !store::stripe_events::first_sight(conn, id, kind, store::now())? {
            return Ok(EventOutcome::Replay);
        }
        if kind != "checkout.session.completed" {
            return Ok(EventOutcome::Ignored);
        }
        let session = &event["data"]["object"];
        if session["payment_status"].as_str() != Some("paid") {
            return Ok(EventOutcome::Ignored);
        }
        let invoice_id = session["metadata"]["invoice_id"].as_str().unwrap_or("");
        let amount = session["amount_total"].as_i64().unwrap_or(0);
        if amount <= 0 {
            return Ok(EventOutcome::Ignored);
        }
        let reference = session["payment_intent"]
            .as_str()
            .or(session["id"].as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(id);
        // Stripe may send one payment under several events (checkout and a retry, say):
        // the payment intent is the money, so it is recorded once.
        let receipt_id = store::new_id();
        if store::once_keys::claim(
            conn,
            &format!("stripe:{reference}"),
            OnceKind::CardPayment,
            &receipt_id,
            store::now(),
        )?
        .is_some()
        {
            return Ok(EventOutcome::Replay);
        }
        let Some(invoice) = store::invoices::find(conn, invoice_id).optional()? else {
            return Ok(EventOutcome::Unapplied(format!(
                "no invoice `{invoice_id}` for event {id} ({amount} cents, {reference})"
            )));
        };
        let number = invoice.number.clone().unwrap_or_else(|| "(draft)".into());
        let payable =
            invoice.status == InvoiceStatus::Issued && invoice.kind == InvoiceKind::Invoice;
        let open = if payable {
            billing::open_cents(
                invoice.total_cents,
                invoice.paid_cents,
                invoice.credited_cents,
            )
        } else {
            0
        };
        let mut paid = 0;
        if open > 0 {
            // A payment that fails rolls back to its savepoint only (an invoice paid
            // a moment ago by another intent): the whole amount is then unapplied.
            let recorded = record_payment_as(
                conn,
                ctx,
                &NewPayment {
                    invoice_id,
                    method: "card",
                    amount_cents: amount.min(open),
                    received_on: store::now(),
                    reference,
                    by: &Who::system(),
                },
                &receipt_id,
                None,
            );
            match recorded {
                Ok(p) => paid = p.amount_cents,
                Err(AppError::Validation(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let excess = amount - paid;
        if excess > 0 {
            let reason = if paid > 0 {
                format!("paid more than was open on {number}")
            } else if payable {
                format!("{number} had nothing open")
            } else {
                format!("{number} is not an issued invoice")
            };
            keep_unapplied(
                conn,
                &invoice.buyer_id,
                excess,
                reference,
                &reason,
                if paid > 0 {
                    store::new_id()
                } else {
                    receipt_id
                },
            )?;
            if paid == 0 {
                return Ok(EventOutcome::Unapplied(format!(
                    "{reason}: {excess} cents kept unapplied (event {id})"
                )));
            }
        }
        Ok(EventOutcome::Paid {
            invoice_id: invoice_id.to_string(),
            amount_cents: paid,
            unapplied_cents: excess,
        })
    })
}

/// Card money no invoice took: received into the ledger (cash in, the buyer's
/// receivable down) and listed for finance to apply or refund.
fn keep_unapplied(
    conn: &mut AnyConnection,
    buyer_id: &str,
    amount_cents: i64,
    reference: &str,
    reason: &str,
    id: String,
) -> Result<(), AppError> {
    let now = store::now();
    let tx = money::payment_postings(buyer_id, amount_cents).map_err(ledger_error)?;
    let transaction_id = store::ledger::post(
        conn,
        TransactionKind::Payment,
        &format!("unapplied card payment {reference}"),
        &tx,
    )?;
    store::credit::add_owed(conn, buyer_id, -amount_cents)?;
    store::unapplied::insert(
        conn,
        &store::unapplied::UnappliedRow {
            id,
            buyer_id: buyer_id.to_string(),
            method: "card".into(),
            amount_cents,
            applied_cents: 0,
            received_on: now,
            reference: reference.to_string(),
            reason: reason.to_string(),
            status: UnappliedStatus::Unapplied,
            transaction_id,
            refund_transaction_id: None,
            settled_by: None,
            settled_at: None,
            created_at: now,
        },
    )?;
    Ok(())
}

/// What a buyer pays by card: its issued invoice's open amount.
pub fn checkout_request(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    buyer_id: &str,
    invoice_id: &str,
) -> Result<crate::payments::CheckoutRequest, AppError> {
    let invoice = store::invoices::find(conn, invoice_id)?;
    if invoice.buyer_id != buyer_id
        || invoice.status != InvoiceStatus::Issued
        || invoice.kind != InvoiceKind::Invoice
    {
        return Err(AppError::NotFound);
    }
    let open = billing::open_cents(
        invoice.total_cents,
        invoice.paid_cents,
        invoice.credited_cents,
    );
    if open == 0 {
        return Err(AppError::Conflict {
            code: "nothing_open",
            message: "this invoice is paid already".into(),
        });
    }
    let url = format!("{}/invoices/{invoice_id}", ctx.public_url);
    Ok(crate::payments::CheckoutRequest {
        invoice_id: invoice_id.to_string(),
        number: invoice.number.unwrap_or_default(),
        amount_cents: open,
        currency: ctx.currency.to_string(),
        success_url: format!("{url}?paid=1"),
        cancel_url: url,
    })
}
