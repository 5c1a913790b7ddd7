//! Billing use cases, one file each: per-action charges ([`actions`]), the billing run
//! (draft invoices and agency statements), issuing with gapless numbers, credit notes,
//! payments, payouts and card payments. Each runs in one transaction with its ledger
//! postings and its outbox mail. Here: what they share (the configuration they need,
//! one-time form keys, validation helpers).

use crate::config::BillingConfig;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::billing::{self, InvoiceKind, InvoiceStatus};
use crate::domain::ledger::OnceKind;
use crate::domain::money;
use crate::error::AppError;
use crate::store;

mod actions;
mod card;
mod credit_note;
mod issue;
mod payments;
mod payouts;
mod run;

pub use actions::{buyer_for_postback, report_action, rotate_postback_token};
pub use card::{EventOutcome, checkout_request, stripe_event};
pub use credit_note::{credit_note, credit_note_once};
pub use issue::{issue, issue_at, issue_once};
pub(crate) use payments::record_payment_as;
pub use payments::{NewPayment, record_payment, record_payment_once};
pub use payouts::{mark_payout, mark_payout_once};
pub use run::{RunSummary, run};

/// What billing needs from the configuration.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub cfg: &'a BillingConfig,
    pub currency: &'a str,
    pub public_url: &'a str,
}

impl<'a> From<&'a crate::config::Config> for Ctx<'a> {
    fn from(c: &'a crate::config::Config) -> Self {
        Ctx {
            cfg: &c.billing,
            currency: &c.currency,
            public_url: &c.public_url,
        }
    }
}

fn ledger_error(e: String) -> AppError {
    AppError::internal(anyhow::anyhow!(e))
}

/// What a payment or a credit note takes off an invoice's open amount.
enum Applied {
    Paid(i64),
    Credited(i64),
}

/// Takes a payment or credit note off an issued invoice, at most its open amount (the
/// guarded UPDATE settles a race between two finance users); returns the invoice as it
/// was read and what was open before. `not_issued` is the refusal for a draft or a
/// credit note.
fn apply_to_issued(
    conn: &mut AnyConnection,
    invoice_id: &str,
    applied: Applied,
    not_issued: &str,
    currency: &str,
) -> Result<(store::invoices::InvoiceRow, i64), AppError> {
    let invoice = store::invoices::find(conn, invoice_id)?;
    if invoice.status != InvoiceStatus::Issued || invoice.kind != InvoiceKind::Invoice {
        return Err(AppError::invalid("invoice", not_issued));
    }
    let open = billing::open_cents(
        invoice.total_cents,
        invoice.paid_cents,
        invoice.credited_cents,
    );
    let (paid, credited) = match applied {
        Applied::Paid(a) => (a, 0),
        Applied::Credited(a) => (0, a),
    };
    if paid + credited > open
        || !store::invoices::apply_to_invoice(conn, invoice_id, paid, credited)?
    {
        return Err(AppError::invalid(
            "amount",
            format!(
                "at most {} is open on this invoice",
                format_money(open, currency)
            ),
        ));
    }
    Ok((invoice, open))
}

// ---- once per form post -----------------------------------------------------------------

/// What a finance form post (or a card payment) did: the work, or, when its one-time key
/// was used before, the work that first use did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    Done(T),
    Already(T),
}

impl<T> Once<T> {
    pub fn into_inner(self) -> T {
        match self {
            Once::Done(t) | Once::Already(t) => t,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Once::Done(_))
    }
}

/// Claims a form's one-time token for `kind` inside the caller's transaction: `Some(id)`
/// of the first result when the token was used already.
pub(crate) fn claim_once(
    conn: &mut AnyConnection,
    token: &str,
    kind: OnceKind,
    result_id: &str,
) -> Result<Option<String>, AppError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::invalid(
            "form_token",
            "the form is incomplete; reload the page",
        ));
    }
    match store::once_keys::claim(conn, token, kind, result_id, store::now())? {
        None => Ok(None),
        Some(taken) if taken.kind == kind => Ok(Some(taken.result_id)),
        Some(_) => Err(AppError::invalid(
            "form_token",
            "this form was sent for something else already; reload the page",
        )),
    }
}

/// Runs `work` with a fresh result id once per `token` (when there is one): a second
/// post with the same token finds the first result with `already` instead.
fn once<T>(
    conn: &mut AnyConnection,
    token: Option<&str>,
    kind: OnceKind,
    result_id: String,
    already: impl FnOnce(&mut AnyConnection, &str) -> Result<T, AppError>,
    work: impl FnOnce(&mut AnyConnection, &str) -> Result<T, AppError>,
) -> Result<Once<T>, AppError> {
    let Some(token) = token else {
        return work(conn, &result_id).map(Once::Done);
    };
    write_transaction(conn, |conn| {
        if let Some(first) = claim_once(conn, token, kind, &result_id)? {
            return already(conn, &first).map(Once::Already);
        }
        work(conn, &result_id).map(Once::Done)
    })
}

/// Formats minor units for mails and pages: `€1,234.50`.
pub fn format_money(cents: i64, currency: &str) -> String {
    money::format_amount(cents, currency)
}
