//! Actions a buyer reports on bought leads (charged on per-action leads, recorded on
//! per-lead ones), and the postback token they are reported with.

use chrono::{NaiveDateTime, TimeDelta};

use super::ledger_error;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::ledger::{ActionKind, TransactionKind};
use crate::domain::money::{self, commission};
use crate::error::{AppError, FieldProblem};
use crate::store;
use crate::store::actions::ActionRow;

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
    let kind = kind.parse::<ActionKind>().ok();
    if kind.is_none() {
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
    let Some(kind) = kind.filter(|_| problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    write_transaction(conn, |conn| {
        let same = |a: &ActionRow| a.lead_id == lead_id && a.kind == kind;
        if let Some(existing) = store::actions::by_key(conn, buyer_id, key)? {
            return if same(&existing) {
                Ok((existing, false))
            } else {
                // api.md: the same key with a different body is 422.
                Err(AppError::invalid(
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
        // Per-lead leads are paid for already: their actions are recorded for the funnel
        // and the buyer's figures, and never charged.
        let charged = billing_model == "per_action";
        let price = if charged {
            action_price.unwrap_or(0)
        } else {
            0
        };
        let fee = commission(price, commission_bp);
        let row = ActionRow {
            id: store::new_id(),
            purchase_id,
            lead_id: lead_id.to_string(),
            buyer_id: buyer_id.to_string(),
            agency_id: agency_id.clone(),
            kind,
            occurred_at,
            price_cents: price,
            commission_cents: fee,
            idempotency_key: key.to_string(),
            transaction_id: None,
            created_at: now,
        };
        // A concurrent report of the same action fails on a unique constraint inside its
        // savepoint; it then answers with the action that won.
        let inserted = write_transaction(conn, |conn| -> Result<ActionRow, AppError> {
            let mut row = row.clone();
            if charged {
                let tx = money::sale_postings(buyer_id, &[(agency_id.clone(), price, fee)])
                    .map_err(ledger_error)?;
                row.transaction_id = Some(store::ledger::post(
                    conn,
                    TransactionKind::Action,
                    &format!("{kind} on a lead"),
                    &tx,
                )?);
            }
            store::actions::insert(conn, &row)?;
            if charged {
                store::credit::add_owed(conn, buyer_id, price)?;
            }
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
