//! Billing use cases: per-action charges, the billing run (draft invoices and agency
//! statements), issuing with gapless numbers, credit notes, payments and payouts. Each
//! runs in one transaction with its ledger postings and its outbox mail.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::OptionalExtension as _;

use crate::config::BillingConfig;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::billing::{self, Period};
use crate::domain::money::{self, commission};
use crate::error::{AppError, FieldProblem};
use crate::mail;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::actions::ActionRow;
use crate::store::invoices::InvoiceRow;
use crate::store::payments::PaymentRow;
use crate::store::statements::StatementRow;

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

fn problem(field: &str, message: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldProblem::new(field, message)])
}

fn ledger_error(e: String) -> AppError {
    AppError::internal(anyhow::anyhow!(e))
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
    kind: &str,
    result_id: &str,
) -> Result<Option<String>, AppError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 100 {
        return Err(problem(
            "form_token",
            "the form is incomplete; reload the page",
        ));
    }
    match store::once_keys::claim(conn, token, kind, result_id, store::now())? {
        None => Ok(None),
        Some(taken) if taken.kind == kind => Ok(Some(taken.result_id)),
        Some(_) => Err(problem(
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
    kind: &str,
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

// ---- actions ---------------------------------------------------------------------------

pub const ACTION_KINDS: [&str; 3] = ["call", "consultation", "purchase"];

/// Reports an action on a lead the buyer bought. Returns the action and whether it was
/// new: the same idempotency key, or the same kind on the same purchase, answers with
/// the action already recorded and charges nothing.
pub fn report_action(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    lead_id: &str,
    kind: &str,
    occurred_at: Option<NaiveDateTime>,
    key: &str,
) -> Result<(ActionRow, bool), AppError> {
    let now = store::now();
    let mut problems = Vec::new();
    if !ACTION_KINDS.contains(&kind) {
        problems.push(FieldProblem::new(
            "kind",
            "must be call, consultation or purchase",
        ));
    }
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        problems.push(FieldProblem::new(
            "idempotency_key",
            "is required (1 to 200 characters)",
        ));
    }
    let occurred_at = occurred_at.unwrap_or(now);
    if occurred_at > now + TimeDelta::minutes(5) {
        problems.push(FieldProblem::new("occurred_at", "is in the future"));
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    write_transaction(conn, |conn| {
        let same = |a: &ActionRow| a.lead_id == lead_id && a.kind == kind;
        if let Some(existing) = store::actions::by_key(conn, buyer_id, key)? {
            return if same(&existing) {
                Ok((existing, false))
            } else {
                // api.md: the same key with a different body is 422.
                Err(problem(
                    "Idempotency-Key",
                    "this key was used for another action; send a new key",
                ))
            };
        }
        // A lead the buyer does not own is not found, whoever owns it.
        let store::actions::BoughtFor {
            purchase_id,
            agency_id,
            billing: billing_model,
            action_price_cents: action_price,
        } = store::actions::purchase_for_action(conn, buyer_id, lead_id)?
            .ok_or(AppError::NotFound)?;
        if let Some(existing) = store::actions::by_kind(conn, &purchase_id, kind)? {
            return Ok((existing, false));
        }
        if billing_model != "per_action" {
            return Err(problem(
                "lead_id",
                "this lead is billed per lead: there is no action to report",
            ));
        }
        let price = action_price.unwrap_or(0);
        let fee = commission(price, commission_bp);
        let tx = money::sale_postings(buyer_id, &[(agency_id.clone(), price, fee)])
            .map_err(ledger_error)?;
        let row = ActionRow {
            id: store::new_id(),
            purchase_id,
            lead_id: lead_id.to_string(),
            buyer_id: buyer_id.to_string(),
            agency_id,
            kind: kind.to_string(),
            occurred_at,
            price_cents: price,
            commission_cents: fee,
            idempotency_key: key.to_string(),
            transaction_id: String::new(),
            created_at: now,
        };
        // A concurrent report of the same action fails on a unique constraint inside its
        // savepoint; it then answers with the action that won.
        let inserted = write_transaction(conn, |conn| -> Result<ActionRow, AppError> {
            let transaction_id =
                store::ledger::post(conn, "action", &format!("{kind} on a lead"), &tx)?;
            let row = ActionRow {
                transaction_id,
                ..row.clone()
            };
            store::actions::insert(conn, &row)?;
            store::credit::add_owed(conn, buyer_id, price)?;
            Ok(row)
        });
        match inserted {
            Ok(row) => Ok((row, true)),
            // A unique violation (see `From<diesel::result::Error>`).
            Err(AppError::Conflict {
                code: "conflict", ..
            }) => {
                let existing = match store::actions::by_key(conn, buyer_id, key)? {
                    Some(a) => Some(a),
                    None => store::actions::by_kind(conn, &row.purchase_id, kind)?,
                };
                existing
                    .map(|a| (a, false))
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("action vanished")))
            }
            Err(e) => Err(e),
        }
    })
}

/// A new postback token for a buyer (the old one stops working); shown once.
pub fn rotate_postback_token(conn: &mut AnyConnection, buyer_id: &str) -> Result<String, AppError> {
    // Same strength and hashing as API keys; a different prefix tells them apart.
    let token = format!("lmp_{}", &crate::domain::apikey::generate().secret[4..]);
    store::postback_tokens::set(
        conn,
        buyer_id,
        &crate::domain::apikey::hash(&token),
        store::now(),
    )?;
    Ok(token)
}

/// Wrong tokens are counted per client address (`limits`), so tokens cannot be guessed
/// at speed.
pub fn buyer_for_postback(
    conn: &mut AnyConnection,
    limits: &crate::config::LoginThrottle,
    token: &str,
    address: &str,
) -> Result<String, AppError> {
    let scope = crate::domain::throttle::Scope::PostbackAddress;
    crate::services::throttle::guard_secret(conn, limits, scope, address, |conn| {
        store::postback_tokens::buyer_by_token(conn, &crate::domain::apikey::hash(token))?
            .ok_or_else(|| AppError::Unauthorized("the postback token is not valid".into()))
    })
}

// ---- the billing run -------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub drafts: usize,
    pub statements: usize,
}

/// Builds a draft invoice per buyer and a statement per agency from what the ledger has
/// not billed yet, up to the end of `period` (or now, for the running month). A buyer's
/// earlier draft is rebuilt, so running twice gives the same drafts.
pub fn run(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    period: Period,
) -> Result<RunSummary, AppError> {
    // Two runs at once would each draft the same buyers, and the later claim would find
    // the entries taken: one run per period at a time. A claim older than an hour is a
    // run whose process died.
    let code = period.code();
    let now = store::now();
    if !store::billing_runs::claim(conn, &code, now, now - TimeDelta::hours(1))? {
        return Err(AppError::Conflict {
            code: "billing_run_in_progress",
            message: format!(
                "a billing run for {} is in progress; try again when it has finished",
                period.label()
            ),
        });
    }
    let result = run_claimed(conn, ctx, period);
    if let Err(e) = store::billing_runs::finish(conn, &code, store::now()) {
        tracing::error!(error = %e, period = %code, "could not release the billing run claim");
    }
    result
}

fn run_claimed(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    period: Period,
) -> Result<RunSummary, AppError> {
    let Ctx {
        cfg,
        currency,
        public_url,
    } = *ctx;
    let now = store::now();
    let before = period.end.min(now);
    let mut summary = RunSummary::default();
    // Drafts are rebuilt from scratch: what they held is billed again below, with
    // whatever was bought since.
    write_transaction(conn, |conn| -> Result<(), AppError> {
        for draft in store::invoices::drafts(conn)? {
            store::invoices::delete_draft(conn, &draft)?;
        }
        Ok(())
    })?;
    for buyer in store::ledger::unbilled_organisations(conn, "buyer_receivable", before)? {
        write_transaction(conn, |conn| -> Result<(), AppError> {
            let id = store::new_id();
            let mut invoice = InvoiceRow {
                id: id.clone(),
                number: None,
                kind: "invoice".into(),
                buyer_id: buyer.clone(),
                status: "draft".into(),
                corrects_id: None,
                period_start: period.start,
                period_end: period.end,
                subtotal_cents: 0,
                tax_bp: cfg.tax_bp as i32,
                tax_cents: 0,
                total_cents: 0,
                paid_cents: 0,
                credited_cents: 0,
                note: String::new(),
                issued_at: None,
                due_at: None,
                issued_by: None,
                created_at: now,
            };
            // The invoice row exists first: the claim references it.
            store::invoices::insert(conn, &invoice, &[])?;
            let (transactions, subtotal) =
                store::ledger::claim_for_invoice(conn, &buyer, before, &id)?;
            if transactions.is_empty() {
                // Billed by then (a run of another period): no empty draft.
                store::invoices::delete_draft(conn, &id)?;
                return Ok(());
            }
            let items = store::invoices::bill_items(conn, &buyer, &transactions)?;
            let lines = billing::group_lines(&items);
            let lines_sum: i64 = lines.iter().map(|l| l.amount_cents).sum();
            if lines_sum != subtotal {
                return Err(AppError::internal(anyhow::anyhow!(
                    "invoice lines sum to {lines_sum} but the ledger says {subtotal}"
                )));
            }
            store::invoices::delete_draft(conn, &id)?;
            invoice.subtotal_cents = subtotal;
            invoice.tax_cents = billing::tax(subtotal, cfg.tax_bp);
            invoice.total_cents = subtotal + invoice.tax_cents;
            store::invoices::insert(conn, &invoice, &lines)?;
            store::ledger::claim_for_invoice(conn, &buyer, before, &id)?;
            summary.drafts += 1;
            Ok(())
        })?;
    }
    for agency in store::ledger::unbilled_organisations(conn, "agency_payable", before)? {
        write_transaction(conn, |conn| -> Result<(), AppError> {
            let mut row = StatementRow {
                id: store::new_id(),
                agency_id: agency.clone(),
                period_start: period.start,
                period_end: period.end,
                gross_cents: 0,
                commission_cents: 0,
                returns_cents: 0,
                net_cents: 0,
                status: "open".into(),
                paid_on: None,
                paid_reference: None,
                payout_transaction_id: None,
                created_at: now,
            };
            store::statements::insert(conn, &row)?;
            let (transactions, payable) =
                store::ledger::claim_for_statement(conn, &agency, before, &row.id)?;
            if transactions.is_empty() {
                store::statements::delete(conn, &row.id)?;
                return Ok(());
            }
            let (gross, fee) = store::statements::agency_gross(conn, &agency, &transactions)?;
            row.gross_cents = gross;
            row.commission_cents = fee;
            // Payable entries are credits (negative); what is not sales less commission
            // is returns (approved disputes debit the agency).
            row.net_cents = -payable;
            row.returns_cents = gross - fee - row.net_cents;
            store::statements::update_totals(conn, &row)?;
            let org = store::organisations::find(conn, &agency)?;
            to_organisation(
                conn,
                &agency,
                &mail::StatementReady {
                    seller_name: cfg.seller_name.clone(),
                    agency_name: org.name,
                    period: period.label(),
                    gross: format_money(row.gross_cents, currency),
                    commission: format_money(row.commission_cents, currency),
                    returns: format_money(row.returns_cents, currency),
                    net: format_money(row.net_cents, currency),
                    url: format!("{public_url}/statements/{}", row.id),
                },
                now,
            )?;
            summary.statements += 1;
            Ok(())
        })?;
    }
    Ok(summary)
}

/// Issues a draft: the next gapless number, the due date, tax through the ledger, and
/// the mail to the buyer, all in one transaction.
pub fn issue(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    issued_by: Option<&str>,
) -> Result<InvoiceRow, AppError> {
    issue_at(conn, ctx, invoice_id, issued_by, store::now())
}

/// `issue` once per form token: a second post answers with the invoice as issued.
pub fn issue_once(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    issued_by: Option<&str>,
    token: Option<&str>,
) -> Result<Once<InvoiceRow>, AppError> {
    once(
        conn,
        token,
        "issue",
        invoice_id.to_string(),
        |conn, first| Ok(store::invoices::find(conn, first)?),
        |conn, _| issue(conn, ctx, invoice_id, issued_by),
    )
}

/// `issue` as of `now` (the demo seeds invoices issued in the past).
pub fn issue_at(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    issued_by: Option<&str>,
    now: NaiveDateTime,
) -> Result<InvoiceRow, AppError> {
    let Ctx {
        cfg,
        currency,
        public_url,
    } = *ctx;
    write_transaction(conn, |conn| {
        let draft = store::invoices::find(conn, invoice_id)?;
        if draft.status != "draft" {
            return Err(AppError::Conflict {
                code: "already_issued",
                message: format!(
                    "this invoice was issued already as {}",
                    draft.number.as_deref().unwrap_or("?")
                ),
            });
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
            store::ledger::post(conn, "invoice_tax", &format!("tax on {number}"), &tx)?;
            store::credit::add_owed(conn, &draft.buyer_id, tax_cents)?;
        }
        let issued = store::invoices::find(conn, invoice_id)?;
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
                payment_instructions: cfg.payment_instructions.clone(),
            },
            now,
        )?;
        Ok(issued)
    })
}

/// A credit note against an issued invoice, for at most what is still open: its own
/// number, the ledger, and a mail. The invoice itself is never changed but for the
/// credited amount.
pub fn credit_note(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    issued_by: Option<&str>,
) -> Result<InvoiceRow, AppError> {
    credit_note_as(
        conn,
        ctx,
        &store::new_id(),
        invoice_id,
        amount_cents,
        reason,
        issued_by,
    )
}

/// `credit_note` once per form token: a second post answers with the first note.
pub fn credit_note_once(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    issued_by: Option<&str>,
    token: Option<&str>,
) -> Result<Once<InvoiceRow>, AppError> {
    once(
        conn,
        token,
        "credit_note",
        store::new_id(),
        |conn, first| Ok(store::invoices::find(conn, first)?),
        |conn, id| credit_note_as(conn, ctx, id, invoice_id, amount_cents, reason, issued_by),
    )
}

fn credit_note_as(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    note_id: &str,
    invoice_id: &str,
    amount_cents: i64,
    reason: &str,
    issued_by: Option<&str>,
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
        let invoice = store::invoices::find(conn, invoice_id)?;
        if invoice.status != "issued" || invoice.kind != "invoice" {
            return Err(problem("invoice", "only an issued invoice can be credited"));
        }
        let open = billing::open_cents(
            invoice.total_cents,
            invoice.paid_cents,
            invoice.credited_cents,
        );
        if amount_cents > open
            || !store::invoices::apply_to_invoice(conn, invoice_id, 0, amount_cents)?
        {
            return Err(problem(
                "amount",
                format!(
                    "at most {} is open on this invoice",
                    format_money(open, currency)
                ),
            ));
        }
        let year = chrono::Datelike::year(&now);
        let number =
            billing::format_number("CN", year, store::invoices::next_number(conn, "CN", year)?);
        let tx =
            money::credit_note_postings(&invoice.buyer_id, amount_cents).map_err(ledger_error)?;
        store::ledger::post(conn, "credit_note", &format!("credit note {number}"), &tx)?;
        store::credit::add_owed(conn, &invoice.buyer_id, -amount_cents)?;
        let note = InvoiceRow {
            id: note_id.to_string(),
            number: Some(number.clone()),
            kind: "credit_note".into(),
            buyer_id: invoice.buyer_id.clone(),
            status: "issued".into(),
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
            issued_by: issued_by.map(str::to_string),
            created_at: now,
        };
        let line = billing::Line {
            kind: "credit".into(),
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

/// Records a payment against an issued invoice (bank transfer by finance, or a card
/// payment from Stripe): at most what is open; the ledger and the buyer's balance follow.
pub struct NewPayment<'a> {
    pub invoice_id: &'a str,
    /// `bank_transfer` or `card`.
    pub method: &'a str,
    pub amount_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: &'a str,
    pub recorded_by: Option<&'a str>,
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
        "payment",
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
        recorded_by,
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
        let invoice = store::invoices::find(conn, invoice_id)?;
        if invoice.status != "issued" || invoice.kind != "invoice" {
            return Err(problem("invoice", "payments go against issued invoices"));
        }
        let open = billing::open_cents(
            invoice.total_cents,
            invoice.paid_cents,
            invoice.credited_cents,
        );
        if amount_cents > open
            || !store::invoices::apply_to_invoice(conn, invoice_id, amount_cents, 0)?
        {
            return Err(problem(
                "amount",
                format!(
                    "at most {} is open on this invoice",
                    format_money(open, currency)
                ),
            ));
        }
        let number = invoice.number.clone().unwrap_or_default();
        let transaction_id = match received {
            Some(receipt) => receipt.to_string(),
            None => {
                let tx = money::payment_postings(&invoice.buyer_id, amount_cents)
                    .map_err(ledger_error)?;
                let id =
                    store::ledger::post(conn, "payment", &format!("payment for {number}"), &tx)?;
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
            recorded_by: recorded_by.map(str::to_string),
            created_at: now,
        };
        store::payments::insert(conn, &row)?;
        let still_open = open - amount_cents;
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

/// Marks an agency statement paid out: the ledger moves what is owed to cash.
pub fn mark_payout(
    conn: &mut AnyConnection,
    statement_id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
) -> Result<StatementRow, AppError> {
    let reference = reference.trim();
    if reference.is_empty() || reference.len() > 200 {
        return Err(problem(
            "reference",
            "name the transfer's reference (up to 200 characters)",
        ));
    }
    write_transaction(conn, |conn| {
        let statement = store::statements::find(conn, statement_id)?;
        if statement.status != "open" {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out already".into(),
            });
        }
        let tx = money::payout_postings(&statement.agency_id, statement.net_cents)
            .map_err(ledger_error)?;
        let transaction_id =
            store::ledger::post(conn, "payout", &format!("payout {reference}"), &tx)?;
        if !store::statements::mark_paid(conn, statement_id, paid_on, reference, &transaction_id)? {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out a moment ago".into(),
            });
        }
        Ok(store::statements::find(conn, statement_id)?)
    })
}

/// `mark_payout` once per form token: a second post answers with the statement as paid.
pub fn mark_payout_once(
    conn: &mut AnyConnection,
    statement_id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
    token: Option<&str>,
) -> Result<Once<StatementRow>, AppError> {
    once(
        conn,
        token,
        "payout",
        statement_id.to_string(),
        |conn, first| Ok(store::statements::find(conn, first)?),
        |conn, _| mark_payout(conn, statement_id, paid_on, reference),
    )
}

// ---- card payments ---------------------------------------------------------------------

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
            "card_payment",
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
        let payable = invoice.status == "issued" && invoice.kind == "invoice";
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
                    recorded_by: None,
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
        "payment",
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
            status: "unapplied".into(),
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
    if invoice.buyer_id != buyer_id || invoice.status != "issued" || invoice.kind != "invoice" {
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
