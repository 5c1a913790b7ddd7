//! The ledger, in one place: balanced transactions and their entries, balances, and the
//! claims by which an invoice or statement bills entries (so nothing is billed twice).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{ledger_entries, ledger_transactions};
use crate::domain::ledger::TransactionKind;
use crate::domain::money::Balanced;

/// Ledger transaction kinds that put something on a buyer's invoice.
pub const BILLABLE_KINDS: [TransactionKind; 3] = [
    TransactionKind::Purchase,
    TransactionKind::Action,
    TransactionKind::DisputeCredit,
];

/// `SUM` of a BIGINT column as BIGINT: diesel types a plain SUM as NUMERIC, which the
/// two-backend connection cannot read.
fn sum_amount() -> crate::db::Fixed<diesel::sql_types::Nullable<diesel::sql_types::BigInt>> {
    crate::db::fixed("CAST(SUM(ledger_entries.amount_cents) AS BIGINT)")
}

/// Writes a balanced transaction; returns its id.
pub fn post(
    conn: &mut AnyConnection,
    kind: TransactionKind,
    description: &str,
    tx: &Balanced,
) -> QueryResult<String> {
    let id = super::new_id();
    let now = super::now();
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::id.eq(&id),
            ledger_transactions::kind.eq(kind),
            ledger_transactions::description.eq(description),
            ledger_transactions::created_at.eq(now),
        ))
        .execute(conn)?;
    let rows: Vec<_> = tx
        .postings()
        .iter()
        .map(|p| {
            (
                ledger_entries::id.eq(super::new_id()),
                ledger_entries::transaction_id.eq(id.clone()),
                ledger_entries::account.eq(p.account.as_str()),
                ledger_entries::organisation_id.eq(p.organisation_id.clone()),
                ledger_entries::amount_cents.eq(p.amount_cents),
                ledger_entries::created_at.eq(now),
            )
        })
        .collect();
    crate::insert_many!(&mut *conn, ledger_entries::table, &rows)?;
    Ok(id)
}

/// The balance of one account (of one organisation, or the platform's when `None`).
pub fn balance(
    conn: &mut AnyConnection,
    account: &str,
    organisation_id: Option<&str>,
) -> QueryResult<i64> {
    let q = ledger_entries::table
        .filter(ledger_entries::account.eq(account))
        .into_boxed();
    let q = match organisation_id {
        Some(org) => q.filter(ledger_entries::organisation_id.eq(org)),
        None => q.filter(ledger_entries::organisation_id.is_null()),
    };
    let sum: Option<i64> = q.select(sum_amount()).get_result::<Option<i64>>(conn)?;
    Ok(sum.unwrap_or(0))
}

/// The sum of every entry, and of each transaction that does not balance (should be none).
pub fn trial_balance(conn: &mut AnyConnection) -> QueryResult<(i64, Vec<(String, i64)>)> {
    let total: Option<i64> = ledger_entries::table
        .select(sum_amount())
        .get_result(conn)?;
    let per_tx: Vec<(String, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::transaction_id)
        .select((ledger_entries::transaction_id, sum_amount()))
        .load(conn)?;
    Ok((
        total.unwrap_or(0),
        per_tx
            .into_iter()
            .filter_map(|(id, s)| s.filter(|s| *s != 0).map(|s| (id, s)))
            .collect(),
    ))
}

/// Organisations with entries on `account` not yet claimed, created before `before`.
pub fn unbilled_organisations(
    conn: &mut AnyConnection,
    account: &str,
    before: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let q = ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(ledger_entries::account.eq(account))
        .filter(ledger_entries::created_at.lt(before))
        .filter(ledger_entries::organisation_id.is_not_null())
        .into_boxed();
    let q = if account == "buyer_receivable" {
        q.filter(ledger_entries::invoice_id.is_null())
            .filter(ledger_transactions::kind.eq_any(BILLABLE_KINDS))
    } else {
        q.filter(ledger_entries::statement_id.is_null())
            .filter(ledger_transactions::kind.ne(TransactionKind::Payout))
    };
    let ids: Vec<Option<String>> = q
        .select(ledger_entries::organisation_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Claims a buyer's unbilled receivable entries for `invoice_id`; returns the claimed
/// entries' transaction ids and their sum.
pub fn claim_for_invoice(
    conn: &mut AnyConnection,
    buyer_id: &str,
    before: NaiveDateTime,
    invoice_id: &str,
) -> QueryResult<(Vec<String>, i64)> {
    let billable = ledger_transactions::table
        .filter(ledger_transactions::kind.eq_any(BILLABLE_KINDS))
        .select(ledger_transactions::id);
    diesel::update(
        ledger_entries::table
            .filter(ledger_entries::account.eq("buyer_receivable"))
            .filter(ledger_entries::organisation_id.eq(buyer_id))
            .filter(ledger_entries::invoice_id.is_null())
            .filter(ledger_entries::created_at.lt(before))
            .filter(ledger_entries::transaction_id.eq_any(billable)),
    )
    .set(ledger_entries::invoice_id.eq(invoice_id))
    .execute(conn)?;
    let claimed: Vec<(String, i64)> = ledger_entries::table
        .filter(ledger_entries::invoice_id.eq(invoice_id))
        .select((ledger_entries::transaction_id, ledger_entries::amount_cents))
        .load(conn)?;
    let sum = claimed.iter().map(|(_, a)| a).sum();
    Ok((claimed.into_iter().map(|(t, _)| t).collect(), sum))
}

/// Claims an agency's unbilled payable entries for `statement_id`; returns the
/// transactions and the sum (negative: what the platform owes).
pub fn claim_for_statement(
    conn: &mut AnyConnection,
    agency_id: &str,
    before: NaiveDateTime,
    statement_id: &str,
) -> QueryResult<(Vec<String>, i64)> {
    let payouts = ledger_transactions::table
        .filter(ledger_transactions::kind.eq(TransactionKind::Payout))
        .select(ledger_transactions::id);
    diesel::update(
        ledger_entries::table
            .filter(ledger_entries::account.eq("agency_payable"))
            .filter(ledger_entries::organisation_id.eq(agency_id))
            .filter(ledger_entries::statement_id.is_null())
            .filter(ledger_entries::created_at.lt(before))
            .filter(ledger_entries::transaction_id.ne_all(payouts)),
    )
    .set(ledger_entries::statement_id.eq(statement_id))
    .execute(conn)?;
    let claimed: Vec<(String, i64)> = ledger_entries::table
        .filter(ledger_entries::statement_id.eq(statement_id))
        .select((ledger_entries::transaction_id, ledger_entries::amount_cents))
        .load(conn)?;
    let sum = claimed.iter().map(|(_, a)| a).sum();
    Ok((claimed.into_iter().map(|(t, _)| t).collect(), sum))
}

/// Sets free what a draft had claimed (the draft is being rebuilt).
pub fn release_invoice_claims(conn: &mut AnyConnection, invoice_id: &str) -> QueryResult<()> {
    diesel::update(ledger_entries::table.filter(ledger_entries::invoice_id.eq(invoice_id)))
        .set(ledger_entries::invoice_id.eq(None::<String>))
        .execute(conn)
        .map(drop)
}

/// Sets free what a statement had claimed (it is rebuilt, or it carried nothing to pay).
pub fn release_statement_claims(conn: &mut AnyConnection, statement_id: &str) -> QueryResult<()> {
    diesel::update(ledger_entries::table.filter(ledger_entries::statement_id.eq(statement_id)))
        .set(ledger_entries::statement_id.eq(None::<String>))
        .execute(conn)
        .map(drop)
}

/// What an agency earned, net of commission and returns, from entries created in
/// `[from, to)` (all time without bounds): its payable account's credits and debits,
/// payouts left out. Statements sum these same entries, so the two agree.
pub fn agency_earned(
    conn: &mut AnyConnection,
    agency_id: &str,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<i64> {
    let payouts = ledger_transactions::table
        .filter(ledger_transactions::kind.eq(TransactionKind::Payout))
        .select(ledger_transactions::id);
    let mut q = ledger_entries::table
        .filter(ledger_entries::account.eq("agency_payable"))
        .filter(ledger_entries::organisation_id.eq(agency_id))
        .filter(ledger_entries::transaction_id.ne_all(payouts))
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(ledger_entries::created_at.ge(from));
    }
    if let Some(to) = to {
        q = q.filter(ledger_entries::created_at.lt(to));
    }
    let sum: Option<i64> = q.select(sum_amount()).get_result(conn)?;
    // Payable entries are credits (negative): what is earned is their opposite.
    Ok(-sum.unwrap_or(0))
}

/// The balance of each ledger account over all organisations.
pub fn balances_by_account(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::account)
        .select((ledger_entries::account, sum_amount()))
        .order(ledger_entries::account.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(a, s)| (a, s.unwrap_or(0))).collect())
}

/// One ledger entry with its transaction, for the accounting export.
#[derive(Debug, Clone, Queryable)]
pub struct LedgerLine {
    pub transaction_id: String,
    pub kind: TransactionKind,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub account: String,
    pub organisation_id: Option<String>,
    pub amount_cents: i64,
}

/// Ledger entries after `after` (keyset by entry id), oldest first.
pub fn page(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<(String, LedgerLine)>> {
    ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(ledger_entries::id.gt(after))
        .order(ledger_entries::id.asc())
        .limit(limit)
        .select((
            ledger_entries::id,
            (
                ledger_entries::transaction_id,
                ledger_transactions::kind,
                ledger_transactions::description,
                ledger_entries::created_at,
                ledger_entries::account,
                ledger_entries::organisation_id,
                ledger_entries::amount_cents,
            ),
        ))
        .load(conn)
}
