//! Payments recorded against issued invoices.

use chrono::{NaiveDateTime, TimeDelta};

use super::{Applied, Ctx, Once, apply_to_issued, format_money, ledger_error, once};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::ledger::{OnceKind, TransactionKind};
use crate::domain::money;
use crate::error::{AppError, FieldProblem};
use crate::mail;
use crate::services;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::payments::PaymentRow;

/// Records a payment against an issued invoice (bank transfer by finance, or a card
/// payment from Stripe): at most what is open; the ledger and the buyer's balance follow.
pub struct NewPayment<'a> {
    pub invoice_id: &'a str,
    /// `bank_transfer` or `card`.
    pub method: &'a str,
    pub amount_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: &'a str,
    /// Finance for a bank transfer, the system for a card payment from Stripe.
    pub by: &'a Who,
}

pub fn record_payment(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    payment: &NewPayment<'_>,
) -> Result<PaymentRow, AppError> {
    record_payment_as(conn, ctx, payment, &store::new_id(), None)
}

/// `record_payment` once per form token: a second post answers with the first payment.
pub fn record_payment_once(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    payment: &NewPayment<'_>,
    token: Option<&str>,
) -> Result<Once<PaymentRow>, AppError> {
    once(
        conn,
        token,
        OnceKind::Payment,
        store::new_id(),
        |conn, first| Ok(store::payments::find(conn, first)?),
        |conn, id| record_payment_as(conn, ctx, payment, id, None),
    )
}

/// Records `payment` as `payment_id`. `received` is the ledger transaction of money that
/// came in before (an unapplied payment now applied): the ledger and the buyer's balance
/// moved then, so only the invoice moves now.
pub(crate) fn record_payment_as(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    payment: &NewPayment<'_>,
    payment_id: &str,
    received: Option<&str>,
) -> Result<PaymentRow, AppError> {
    let Ctx {
        cfg,
        currency,
        public_url,
    } = *ctx;
    let NewPayment {
        invoice_id,
        method,
        amount_cents,
        received_on,
        reference,
        by,
    } = *payment;
    let reference = reference.trim();
    let mut problems = Vec::new();
    if amount_cents <= 0 {
        problems.push(FieldProblem::new("amount", "must be more than zero"));
    }
    if reference.is_empty() || reference.len() > 200 {
        problems.push(FieldProblem::new(
            "reference",
            "name the transfer's reference (up to 200 characters)",
        ));
    }
    if received_on > store::now() + TimeDelta::days(1) {
        problems.push(FieldProblem::new("received_on", "is in the future"));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    write_transaction(conn, |conn| {
        let now = store::now();
        let (invoice, open) = apply_to_issued(
            conn,
            invoice_id,
            Applied::Paid(amount_cents),
            "payments go against issued invoices",
            currency,
        )?;
        let number = invoice.number.clone().unwrap_or_default();
        let transaction_id = match received {
            Some(receipt) => receipt.to_string(),
            None => {
                let tx = money::payment_postings(&invoice.buyer_id, amount_cents)
                    .map_err(ledger_error)?;
                let id = store::ledger::post(
                    conn,
                    TransactionKind::Payment,
                    &format!("payment for {number}"),
                    &tx,
                )?;
                store::credit::add_owed(conn, &invoice.buyer_id, -amount_cents)?;
                id
            }
        };
        let row = PaymentRow {
            id: payment_id.to_string(),
            invoice_id: invoice_id.to_string(),
            buyer_id: invoice.buyer_id.clone(),
            method: method.to_string(),
            amount_cents,
            received_on,
            reference: reference.to_string(),
            transaction_id,
            recorded_by: by.user_id.clone(),
            created_at: now,
        };
        store::payments::insert(conn, &row)?;
        let still_open = open - amount_cents;
        services::audit::record(
            conn,
            by,
            AuditAction::PaymentRecorded,
            Some(&invoice.buyer_id),
            &format!(
                "payment {} by {method} (reference {reference}) on invoice {number}: open {} -> {}",
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
            &mail::PaymentReceived {
                seller_name: cfg.seller_name.clone(),
                buyer_name: buyer.name,
                number,
                amount: format_money(amount_cents, currency),
                method: if method == "card" {
                    "card"
                } else {
                    "bank transfer"
                }
                .into(),
                still_open: format_money(still_open, currency),
                settled: still_open == 0,
                url: format!("{public_url}/invoices/{invoice_id}"),
            },
            now,
        )?;
        Ok(row)
    })
}
