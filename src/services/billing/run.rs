//! The billing run: draft invoices per buyer and statements per agency from what the
//! ledger has not billed yet.

use chrono::TimeDelta;

use super::{Ctx, format_money};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::billing::{self, InvoiceKind, InvoiceStatus, Period};
use crate::domain::ledger::StatementStatus;
use crate::error::AppError;
use crate::mail;
use crate::services::mail::to_organisation;
use crate::store;
use crate::store::invoices::InvoiceRow;
use crate::store::statements::StatementRow;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub drafts: usize,
    pub statements: usize,
    /// Buyers whose credits (approved disputes) exceed their charges: no negative
    /// invoice; the credit waits, unbilled, for their next charges.
    pub credits_carried: usize,
    /// Agencies whose returns exceed their earnings: no negative payout; the debt waits,
    /// unbilled, for their next earnings.
    pub debts_carried: usize,
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
                kind: InvoiceKind::Invoice,
                buyer_id: buyer.clone(),
                status: InvoiceStatus::Draft,
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
            if subtotal <= 0 {
                // Credits cover the charges: deleting the draft sets its entries free, so
                // the credit is carried forward onto the buyer's next invoice.
                store::invoices::delete_draft(conn, &id)?;
                summary.credits_carried += 1;
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
            // One statement per agency and period: an open one is rebuilt with what came
            // since; after a payout, later entries wait for the next period's statement.
            let earlier = store::statements::for_period(conn, &agency, period.start)?;
            if earlier.iter().any(|s| s.status != StatementStatus::Open) {
                return Ok(());
            }
            let rebuilt = !earlier.is_empty();
            for s in &earlier {
                store::ledger::release_statement_claims(conn, &s.id)?;
                store::statements::delete(conn, &s.id)?;
            }
            let mut row = StatementRow {
                id: store::new_id(),
                agency_id: agency.clone(),
                period_start: period.start,
                period_end: period.end,
                gross_cents: 0,
                commission_cents: 0,
                returns_cents: 0,
                net_cents: 0,
                status: StatementStatus::Open,
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
            if payable >= 0 {
                // Returns at least equal earnings: nothing to pay out. Setting the entries
                // free carries the debt forward to the agency's next statement.
                store::ledger::release_statement_claims(conn, &row.id)?;
                store::statements::delete(conn, &row.id)?;
                summary.debts_carried += 1;
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
            summary.statements += 1;
            if rebuilt {
                // The agency was told about this period's statement already.
                return Ok(());
            }
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
            Ok(())
        })?;
    }
    Ok(summary)
}
