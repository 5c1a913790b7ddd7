//! A buyer's account: what is owed and may still be spent, and the credit limit.

use crate::db::{AnyConnection, write_transaction};
use crate::domain::OrgKind;
use crate::error::AppError;
use crate::store;

/// What a buyer owes and may still spend.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub credit_limit_cents: i64,
    pub owed_cents: i64,
    pub available_cents: i64,
    /// Owed and not yet on an issued invoice.
    pub uninvoiced_cents: i64,
    pub open_invoices_cents: i64,
}

pub fn account(conn: &mut AnyConnection, buyer_id: &str) -> Result<AccountView, AppError> {
    let (limit, owed) = store::credit::buyer_account(conn, buyer_id)?;
    let open = store::invoices::open_total(conn, buyer_id)?;
    Ok(AccountView {
        credit_limit_cents: limit,
        owed_cents: owed,
        available_cents: (limit - owed).max(0),
        // What is owed is either on an open invoice or not invoiced yet.
        uninvoiced_cents: owed - open,
        open_invoices_cents: open,
    })
}

/// Sets a buyer's credit limit (finance desk and `leadmarket credit set`).
pub fn set_credit_limit(
    conn: &mut AnyConnection,
    org_slug: &str,
    limit_cents: i64,
) -> Result<(), AppError> {
    if limit_cents < 0 {
        return Err(AppError::invalid("limit_cents", "must be 0 or more"));
    }
    write_transaction(conn, |conn| {
        let org = store::organisations::find_by_slug(conn, org_slug).map_err(|_| {
            AppError::invalid("org", format!("no organisation with slug `{org_slug}`"))
        })?;
        if org.kind != OrgKind::Buyer {
            return Err(AppError::invalid(
                "org",
                format!("`{org_slug}` is not a buyer"),
            ));
        }
        store::credit::set_credit_limit(conn, &org.id, limit_cents)?;
        Ok(())
    })
}
