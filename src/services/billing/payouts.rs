//! Agency statements paid out.

use chrono::NaiveDateTime;

use super::{Once, ledger_error, once};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::{AuditAction, Who};
use crate::domain::ledger::{OnceKind, StatementStatus, TransactionKind};
use crate::domain::money;
use crate::error::AppError;
use crate::services;
use crate::store;
use crate::store::statements::StatementRow;

/// Marks an agency statement paid out: the ledger moves what is owed to cash.
pub fn mark_payout(
    conn: &mut AnyConnection,
    by: &Who,
    statement_id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
) -> Result<StatementRow, AppError> {
    let reference = reference.trim();
    if reference.is_empty() || reference.len() > 200 {
        return Err(AppError::invalid(
            "reference",
            "name the transfer's reference (up to 200 characters)",
        ));
    }
    write_transaction(conn, |conn| {
        let statement = store::statements::find(conn, statement_id)?;
        if statement.status != StatementStatus::Open {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out already".into(),
            });
        }
        if statement.net_cents <= 0 {
            // Billing runs no longer make these; an old one is not paid out, because a
            // negative payout would have the agency send money back.
            return Err(AppError::invalid(
                "statement",
                "nothing is payable on this statement: its returns exceed its earnings",
            ));
        }
        let tx = money::payout_postings(&statement.agency_id, statement.net_cents)
            .map_err(ledger_error)?;
        let transaction_id = store::ledger::post(
            conn,
            TransactionKind::Payout,
            &format!("payout {reference}"),
            &tx,
        )?;
        if !store::statements::mark_paid(conn, statement_id, paid_on, reference, &transaction_id)? {
            return Err(AppError::Conflict {
                code: "already_paid",
                message: "this statement was paid out a moment ago".into(),
            });
        }
        services::audit::record(
            conn,
            by,
            AuditAction::PayoutRecorded,
            Some(&statement.agency_id),
            &format!(
                "statement {statement_id}: open -> paid out {} (minor units) on {}, reference {reference}",
                statement.net_cents,
                paid_on.format("%Y-%m-%d")
            ),
            store::now(),
        )?;
        Ok(store::statements::find(conn, statement_id)?)
    })
}

/// `mark_payout` once per form token: a second post answers with the statement as paid.
pub fn mark_payout_once(
    conn: &mut AnyConnection,
    by: &Who,
    statement_id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
    token: Option<&str>,
) -> Result<Once<StatementRow>, AppError> {
    once(
        conn,
        token,
        OnceKind::Payout,
        statement_id.to_string(),
        |conn, first| Ok(store::statements::find(conn, first)?),
        |conn, _| mark_payout(conn, by, statement_id, paid_on, reference),
    )
}
