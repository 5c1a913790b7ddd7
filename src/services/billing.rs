//! Billing use cases: per-action charges, the billing run (draft invoices and agency
//! statements), issuing with gapless numbers, credit notes, payments and payouts. Each
//! runs in one transaction with its ledger postings and its outbox mail.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::BillingConfig;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::billing::{self, Period};
use crate::domain::money::{self, commission};
use crate::error::{AppError, FieldProblem};
use crate::mail;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::billing::{ActionRow, InvoiceRow, PaymentRow, StatementRow};

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

/// Formats minor units for mails and pages: `€1,234.50`.
pub fn format_money(cents: i64, currency: &str) -> String {
    crate::web::money(cents, currency)
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
        if let Some(existing) = store::billing::action_by_key(conn, buyer_id, key)? {
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
        let store::billing::BoughtFor {
            purchase_id,
            agency_id,
            billing: billing_model,
            action_price_cents: action_price,
        } = store::billing::purchase_for_action(conn, buyer_id, lead_id)?
            .ok_or(AppError::NotFound)?;
        if let Some(existing) = store::billing::action_by_kind(conn, &purchase_id, kind)? {
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
                store::market::post(conn, "action", &format!("{kind} on a lead"), &tx)?;
            let row = ActionRow {
                transaction_id,
                ..row.clone()
            };
            store::billing::insert_action(conn, &row)?;
            store::billing::add_owed(conn, buyer_id, price)?;
            Ok(row)
        });
        match inserted {
            Ok(row) => Ok((row, true)),
            // A unique violation (see `From<diesel::result::Error>`).
            Err(AppError::Conflict {
                code: "conflict", ..
            }) => {
                let existing = match store::billing::action_by_key(conn, buyer_id, key)? {
                    Some(a) => Some(a),
                    None => store::billing::action_by_kind(conn, &row.purchase_id, kind)?,
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
    store::billing::set_postback_token(
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
        store::billing::buyer_by_postback_token(conn, &crate::domain::apikey::hash(token))?
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
        for draft in store::billing::drafts(conn)? {
            store::billing::delete_draft(conn, &draft)?;
        }
        Ok(())
    })?;
    for buyer in store::billing::unbilled_organisations(conn, "buyer_receivable", before)? {
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
            store::billing::insert_invoice(conn, &invoice, &[])?;
            let (transactions, subtotal) =
                store::billing::claim_for_invoice(conn, &buyer, before, &id)?;
            let items = store::billing::bill_items(conn, &buyer, &transactions)?;
            let lines = billing::group_lines(&items);
            let lines_sum: i64 = lines.iter().map(|l| l.amount_cents).sum();
            if lines_sum != subtotal {
                return Err(AppError::internal(anyhow::anyhow!(
                    "invoice lines sum to {lines_sum} but the ledger says {subtotal}"
                )));
            }
            store::billing::delete_draft(conn, &id)?;
            invoice.subtotal_cents = subtotal;
            invoice.tax_cents = billing::tax(subtotal, cfg.tax_bp);
            invoice.total_cents = subtotal + invoice.tax_cents;
            store::billing::insert_invoice(conn, &invoice, &lines)?;
            store::billing::claim_for_invoice(conn, &buyer, before, &id)?;
            summary.drafts += 1;
            Ok(())
        })?;
    }
    for agency in store::billing::unbilled_organisations(conn, "agency_payable", before)? {
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
            store::billing::insert_statement(conn, &row)?;
            let (transactions, payable) =
                store::billing::claim_for_statement(conn, &agency, before, &row.id)?;
            let (gross, fee) = store::billing::agency_gross(conn, &agency, &transactions)?;
            row.gross_cents = gross;
            row.commission_cents = fee;
            // Payable entries are credits (negative); what is not sales less commission
            // is returns (approved disputes debit the agency).
            row.net_cents = -payable;
            row.returns_cents = gross - fee - row.net_cents;
            store::billing::update_statement_totals(conn, &row)?;
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
        let draft = store::billing::find_invoice(conn, invoice_id)?;
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
        let n = store::billing::next_number(conn, "LM", year)?;
        let number = billing::format_number("LM", year, n);
        let tax_cents = billing::tax(draft.subtotal_cents, cfg.tax_bp);
        let due_at = now + TimeDelta::days(cfg.due_days);
        let issue = store::billing::Issue {
            number: &number,
            issued_at: now,
            due_at,
            issued_by,
            tax_bp: cfg.tax_bp as i32,
            tax_cents,
        };
        if !store::billing::mark_issued(conn, invoice_id, &issue)? {
            return Err(AppError::Conflict {
                code: "already_issued",
                message: "this invoice was issued a moment ago by someone else".into(),
            });
        }
        if tax_cents != 0 {
            let tx = money::tax_postings(&draft.buyer_id, tax_cents).map_err(ledger_error)?;
            store::market::post(conn, "invoice_tax", &format!("tax on {number}"), &tx)?;
            store::billing::add_owed(conn, &draft.buyer_id, tax_cents)?;
        }
        let issued = store::billing::find_invoice(conn, invoice_id)?;
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
        let invoice = store::billing::find_invoice(conn, invoice_id)?;
        if invoice.status != "issued" || invoice.kind != "invoice" {
            return Err(problem("invoice", "only an issued invoice can be credited"));
        }
        let open = billing::open_cents(
            invoice.total_cents,
            invoice.paid_cents,
            invoice.credited_cents,
        );
        if amount_cents > open
            || !store::billing::apply_to_invoice(conn, invoice_id, 0, amount_cents)?
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
            billing::format_number("CN", year, store::billing::next_number(conn, "CN", year)?);
        let tx =
            money::credit_note_postings(&invoice.buyer_id, amount_cents).map_err(ledger_error)?;
        store::market::post(conn, "credit_note", &format!("credit note {number}"), &tx)?;
        store::billing::add_owed(conn, &invoice.buyer_id, -amount_cents)?;
        let note = InvoiceRow {
            id: store::new_id(),
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
        store::billing::insert_invoice(conn, &note, &[line])?;
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
        let invoice = store::billing::find_invoice(conn, invoice_id)?;
        if invoice.status != "issued" || invoice.kind != "invoice" {
            return Err(problem("invoice", "payments go against issued invoices"));
        }
        let open = billing::open_cents(
            invoice.total_cents,
            invoice.paid_cents,
            invoice.credited_cents,
        );
        if amount_cents > open
            || !store::billing::apply_to_invoice(conn, invoice_id, amount_cents, 0)?
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
        let tx = money::payment_postings(&invoice.buyer_id, amount_cents).map_err(ledger_error)?;
        let transaction_id =
            store::market::post(conn, "payment", &format!("payment for {number}"), &tx)?;
        store::billing::add_owed(conn, &invoice.buyer_id, -amount_cents)?;
        let row = PaymentRow {
            id: store::new_id(),
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
        store::billing::insert_payment(conn, &row)?;
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
        let statement = store::billing::find_statement(conn, statement_id)?;
        if statement.status != "open" {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out already".into(),
            });
        }
        let tx = money::payout_postings(&statement.agency_id, statement.net_cents)
            .map_err(ledger_error)?;
        let transaction_id =
            store::market::post(conn, "payout", &format!("payout {reference}"), &tx)?;
        if !store::billing::mark_statement_paid(
            conn,
            statement_id,
            paid_on,
            reference,
            &transaction_id,
        )? {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out a moment ago".into(),
            });
        }
        Ok(store::billing::find_statement(conn, statement_id)?)
    })
}

// ---- card payments ---------------------------------------------------------------------

/// What became of a Stripe event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOutcome {
    /// A payment was recorded against the invoice.
    Paid {
        invoice_id: String,
        amount_cents: i64,
    },
    /// Seen before: nothing changes.
    Replay,
    /// Not an event we act on (answered 200 all the same).
    Ignored,
    /// A payment that cannot be applied (unknown invoice, more than is open): kept for
    /// finance to refund, with the reason logged.
    Unapplied(String),
}

/// Processes one verified Stripe event, once per event id, in one transaction: the seen
/// id and the payment it records commit together.
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
        if !store::billing::first_sight_of_event(conn, id, kind, store::now())? {
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
        let reference = session["payment_intent"]
            .as_str()
            .or(session["id"].as_str())
            .unwrap_or(id);
        // A payment that fails rolls back to this savepoint only: the event stays seen.
        let recorded = record_payment(
            conn,
            ctx,
            &NewPayment {
                invoice_id,
                method: "card",
                amount_cents: amount,
                received_on: store::now(),
                reference,
                recorded_by: None,
            },
        );
        match recorded {
            Ok(p) => Ok(EventOutcome::Paid {
                invoice_id: p.invoice_id,
                amount_cents: p.amount_cents,
            }),
            Err(AppError::NotFound) => Ok(EventOutcome::Unapplied(format!(
                "no invoice `{invoice_id}` for event {id}"
            ))),
            Err(AppError::Validation(problems)) => Ok(EventOutcome::Unapplied(
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.problem))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
            Err(e) => Err(e),
        }
    })
}

/// What a buyer pays by card: its issued invoice's open amount.
pub fn checkout_request(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    buyer_id: &str,
    invoice_id: &str,
) -> Result<crate::payments::CheckoutRequest, AppError> {
    let invoice = store::billing::find_invoice(conn, invoice_id)?;
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
