//! Billing storage: actions, invoices and their lines, gapless numbers, payments,
//! statements, postback tokens and Stripe events seen. Ledger entries are claimed by the
//! invoice or statement that bills them, so nothing is billed twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    actions, batches, billing_runs, buyer_accounts, invoice_lines, invoices, leads, ledger_entries,
    ledger_transactions, number_sequences, organisations, payments, postback_tokens, purchases,
    statements, stripe_events, unapplied_payments,
};
use crate::domain::billing::{BillItem, Line};

/// Ledger transaction kinds that put something on a buyer's invoice.
pub const BILLABLE_KINDS: [&str; 3] = ["purchase", "action", "dispute_credit"];

// ---- actions ---------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = actions)]
pub struct ActionRow {
    pub id: String,
    pub purchase_id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub agency_id: String,
    pub kind: String,
    pub occurred_at: NaiveDateTime,
    pub price_cents: i64,
    pub commission_cents: i64,
    pub idempotency_key: String,
    pub transaction_id: String,
    pub created_at: NaiveDateTime,
}

pub fn action_by_key(
    conn: &mut AnyConnection,
    buyer_id: &str,
    key: &str,
) -> QueryResult<Option<ActionRow>> {
    actions::table
        .filter(actions::buyer_id.eq(buyer_id))
        .filter(actions::idempotency_key.eq(key))
        .select(ActionRow::as_select())
        .first(conn)
        .optional()
}

pub fn action_by_kind(
    conn: &mut AnyConnection,
    purchase_id: &str,
    kind: &str,
) -> QueryResult<Option<ActionRow>> {
    actions::table
        .filter(actions::purchase_id.eq(purchase_id))
        .filter(actions::kind.eq(kind))
        .select(ActionRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_action(conn: &mut AnyConnection, row: &ActionRow) -> QueryResult<()> {
    diesel::insert_into(actions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Actions a buyer reported on its leads, newest first.
pub fn actions_of_buyer(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_ids: &[String],
) -> QueryResult<Vec<ActionRow>> {
    actions::table
        .filter(actions::buyer_id.eq(buyer_id))
        .filter(actions::lead_id.eq_any(lead_ids))
        .order(actions::created_at.desc())
        .select(ActionRow::as_select())
        .load(conn)
}

/// What billing needs of the buyer's purchase of a lead.
#[derive(Debug, Clone, Queryable)]
pub struct BoughtFor {
    pub purchase_id: String,
    pub agency_id: String,
    /// The batch's billing model: `per_lead` or `per_action`.
    pub billing: String,
    pub action_price_cents: Option<i64>,
}

pub fn purchase_for_action(
    conn: &mut AnyConnection,
    buyer_id: &str,
    lead_id: &str,
) -> QueryResult<Option<BoughtFor>> {
    purchases::table
        .inner_join(leads::table.inner_join(batches::table))
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::lead_id.eq(lead_id))
        .select((
            purchases::id,
            purchases::agency_id,
            batches::billing,
            batches::action_price_cents,
        ))
        .first(conn)
        .optional()
}

/// Adds to what a buyer owes without the credit check (an action already happened).
pub fn add_owed(conn: &mut AnyConnection, buyer_id: &str, amount_cents: i64) -> QueryResult<()> {
    let n = diesel::update(buyer_accounts::table.find(buyer_id))
        .set(buyer_accounts::owed_cents.eq(buyer_accounts::owed_cents + amount_cents))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(buyer_accounts::table)
            .values((
                buyer_accounts::organisation_id.eq(buyer_id),
                buyer_accounts::credit_limit_cents.eq(0i64),
                buyer_accounts::owed_cents.eq(amount_cents),
                buyer_accounts::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---- postback tokens -------------------------------------------------------------------

pub fn set_postback_token(
    conn: &mut AnyConnection,
    buyer_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(postback_tokens::table.find(buyer_id)).execute(conn)?;
    diesel::insert_into(postback_tokens::table)
        .values((
            postback_tokens::organisation_id.eq(buyer_id),
            postback_tokens::token_hash.eq(token_hash),
            postback_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn buyer_by_postback_token(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> QueryResult<Option<String>> {
    postback_tokens::table
        .filter(postback_tokens::token_hash.eq(token_hash))
        .select(postback_tokens::organisation_id)
        .first(conn)
        .optional()
}

pub fn postback_token_created(
    conn: &mut AnyConnection,
    buyer_id: &str,
) -> QueryResult<Option<NaiveDateTime>> {
    postback_tokens::table
        .find(buyer_id)
        .select(postback_tokens::created_at)
        .first(conn)
        .optional()
}

// ---- what is not billed yet ------------------------------------------------------------

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
            .filter(ledger_transactions::kind.ne("payout"))
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
        .filter(ledger_transactions::kind.eq("payout"))
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

/// What names a batch on an invoice line.
#[derive(Debug, Clone, Queryable)]
pub struct BatchLabel {
    pub id: String,
    pub filename: Option<String>,
    pub segment: String,
    pub created_at: NaiveDateTime,
}

impl BatchLabel {
    /// `leads.csv (insurance.car, 2026-11-02)`, or `API leads (...)` without a file.
    pub fn label(&self) -> String {
        format!(
            "{} ({}, {})",
            self.filename.as_deref().unwrap_or("API leads"),
            if self.segment.is_empty() {
                "mixed segments"
            } else {
                &self.segment
            },
            self.created_at.format("%Y-%m-%d")
        )
    }
}

fn batch_label_columns() -> (
    batches::id,
    batches::filename,
    batches::segment,
    batches::created_at,
) {
    (
        batches::id,
        batches::filename,
        batches::segment,
        batches::created_at,
    )
}

/// The items billed by these transactions to `buyer_id`: each lead bought and each action.
pub fn bill_items(
    conn: &mut AnyConnection,
    buyer_id: &str,
    transaction_ids: &[String],
) -> QueryResult<Vec<BillItem>> {
    let mut items = Vec::new();
    for ids in transaction_ids.chunks(5000) {
        let bought: Vec<(BatchLabel, i64)> = purchases::table
            .inner_join(leads::table.inner_join(batches::table))
            .filter(purchases::buyer_id.eq(buyer_id))
            .filter(purchases::transaction_id.eq_any(ids))
            .select((batch_label_columns(), purchases::price_cents))
            .load(conn)?;
        items.extend(bought.into_iter().map(|(batch, price)| BillItem {
            kind: "purchase".into(),
            batch_label: batch.label(),
            batch_id: batch.id,
            amount_cents: price,
        }));
        let acted: Vec<(String, BatchLabel, i64)> = actions::table
            .inner_join(leads::table.on(leads::id.eq(actions::lead_id)))
            .inner_join(batches::table.on(batches::id.eq(leads::batch_id)))
            .filter(actions::buyer_id.eq(buyer_id))
            .filter(actions::transaction_id.eq_any(ids))
            .select((actions::kind, batch_label_columns(), actions::price_cents))
            .load(conn)?;
        let returned: Vec<(BatchLabel, i64)> = crate::db::schema::disputes::table
            .inner_join(leads::table.on(leads::id.eq(crate::db::schema::disputes::lead_id)))
            .inner_join(batches::table.on(batches::id.eq(leads::batch_id)))
            .filter(crate::db::schema::disputes::buyer_id.eq(buyer_id))
            .filter(crate::db::schema::disputes::credit_transaction_id.eq_any(ids))
            .select((
                batch_label_columns(),
                crate::db::schema::disputes::amount_cents,
            ))
            .load(conn)?;
        items.extend(returned.into_iter().map(|(batch, amount)| BillItem {
            kind: "credit".into(),
            batch_label: batch.label(),
            batch_id: batch.id,
            amount_cents: -amount,
        }));
        items.extend(acted.into_iter().map(|(kind, batch, price)| BillItem {
            kind: format!("action:{kind}"),
            batch_label: batch.label(),
            batch_id: batch.id,
            amount_cents: price,
        }));
    }
    Ok(items)
}

/// (gross, commission) of an agency's sales and actions in these transactions.
pub fn agency_gross(
    conn: &mut AnyConnection,
    agency_id: &str,
    transaction_ids: &[String],
) -> QueryResult<(i64, i64)> {
    let (mut gross, mut commission) = (0, 0);
    for ids in transaction_ids.chunks(5000) {
        let sold: Vec<(i64, i64)> = purchases::table
            .filter(purchases::agency_id.eq(agency_id))
            .filter(purchases::transaction_id.eq_any(ids))
            .select((purchases::price_cents, purchases::commission_cents))
            .load(conn)?;
        let acted: Vec<(i64, i64)> = actions::table
            .filter(actions::agency_id.eq(agency_id))
            .filter(actions::transaction_id.eq_any(ids))
            .select((actions::price_cents, actions::commission_cents))
            .load(conn)?;
        for (p, c) in sold.into_iter().chain(acted) {
            gross += p;
            commission += c;
        }
    }
    Ok((gross, commission))
}

// ---- invoices --------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub number: Option<String>,
    pub kind: String,
    pub buyer_id: String,
    pub status: String,
    pub corrects_id: Option<String>,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub subtotal_cents: i64,
    pub tax_bp: i32,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub credited_cents: i64,
    pub note: String,
    pub issued_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub issued_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
pub struct LineRow {
    pub id: String,
    pub invoice_id: String,
    pub position: i32,
    pub kind: String,
    pub description: String,
    pub batch_id: Option<String>,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

pub fn insert_invoice(
    conn: &mut AnyConnection,
    invoice: &InvoiceRow,
    lines: &[Line],
) -> QueryResult<()> {
    diesel::insert_into(invoices::table)
        .values(invoice)
        .execute(conn)?;
    let rows: Vec<LineRow> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineRow {
            id: super::new_id(),
            invoice_id: invoice.id.clone(),
            position: i as i32 + 1,
            kind: l.kind.clone(),
            description: l.description.clone(),
            batch_id: l.batch_id.clone(),
            quantity: l.quantity,
            unit_cents: l.unit_cents,
            amount_cents: l.amount_cents,
        })
        .collect();
    for row in &rows {
        diesel::insert_into(invoice_lines::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a draft (never an issued invoice) and its lines.
pub fn delete_draft(conn: &mut AnyConnection, invoice_id: &str) -> QueryResult<bool> {
    release_invoice_claims(conn, invoice_id)?;
    let is_draft = invoices::table
        .find(invoice_id)
        .filter(invoices::status.eq("draft"))
        .count()
        .get_result::<i64>(conn)?
        == 1;
    if !is_draft {
        return Ok(false);
    }
    diesel::delete(invoice_lines::table.filter(invoice_lines::invoice_id.eq(invoice_id)))
        .execute(conn)?;
    diesel::delete(
        invoices::table
            .find(invoice_id)
            .filter(invoices::status.eq("draft")),
    )
    .execute(conn)?;
    Ok(true)
}

/// Every draft invoice's id.
pub fn drafts(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    invoices::table
        .filter(invoices::status.eq("draft"))
        .select(invoices::id)
        .load(conn)
}

pub fn find_invoice(conn: &mut AnyConnection, id: &str) -> QueryResult<InvoiceRow> {
    invoices::table
        .find(id)
        .select(InvoiceRow::as_select())
        .first(conn)
}

pub fn lines_of(conn: &mut AnyConnection, invoice_id: &str) -> QueryResult<Vec<LineRow>> {
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(invoice_id))
        .order(invoice_lines::position.asc())
        .select(LineRow::as_select())
        .load(conn)
}

/// Invoices for finance's lists, newest first; `buyer_id` narrows to one buyer.
pub fn list_invoices(
    conn: &mut AnyConnection,
    buyer_id: Option<&str>,
    only_issued: bool,
) -> QueryResult<Vec<InvoiceRow>> {
    let mut q = invoices::table.into_boxed();
    if let Some(b) = buyer_id {
        q = q.filter(invoices::buyer_id.eq(b.to_string()));
    }
    if only_issued {
        q = q.filter(invoices::status.eq("issued"));
    }
    q.order((invoices::created_at.desc(), invoices::id.desc()))
        .select(InvoiceRow::as_select())
        .load(conn)
}

/// The next number of a series in a year, inside the caller's transaction: the row
/// update serialises concurrent issuers, and a rollback gives the number back.
pub fn next_number(conn: &mut AnyConnection, series: &str, year: i32) -> QueryResult<i64> {
    let bumped = diesel::update(
        number_sequences::table
            .filter(number_sequences::series.eq(series))
            .filter(number_sequences::year.eq(year)),
    )
    .set(number_sequences::last_number.eq(number_sequences::last_number + 1))
    .execute(conn)?;
    if bumped == 0 {
        // The first number of the year. Two first issuers racing: one insert fails on the
        // primary key and its savepoint rolls back, then it bumps the row the other made.
        let inserted = crate::db::write_transaction(conn, |c| {
            diesel::insert_into(number_sequences::table)
                .values((
                    number_sequences::series.eq(series),
                    number_sequences::year.eq(year),
                    number_sequences::last_number.eq(1i64),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(1),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                diesel::update(
                    number_sequences::table
                        .filter(number_sequences::series.eq(series))
                        .filter(number_sequences::year.eq(year)),
                )
                .set(number_sequences::last_number.eq(number_sequences::last_number + 1))
                .execute(conn)?;
            }
            Err(e) => return Err(e),
        }
    }
    number_sequences::table
        .filter(number_sequences::series.eq(series))
        .filter(number_sequences::year.eq(year))
        .select(number_sequences::last_number)
        .first(conn)
}

/// Issues a draft: false when it is no longer a draft (someone issued it first).
pub struct Issue<'a> {
    pub number: &'a str,
    pub issued_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub issued_by: Option<&'a str>,
    pub tax_bp: i32,
    pub tax_cents: i64,
}

pub fn mark_issued(conn: &mut AnyConnection, id: &str, issue: &Issue<'_>) -> QueryResult<bool> {
    let Issue {
        number,
        issued_at,
        due_at,
        issued_by,
        tax_bp,
        tax_cents,
    } = *issue;
    Ok(diesel::update(
        invoices::table
            .find(id)
            .filter(invoices::status.eq("draft")),
    )
    .set((
        invoices::status.eq("issued"),
        invoices::number.eq(number),
        invoices::issued_at.eq(issued_at),
        invoices::due_at.eq(due_at),
        invoices::issued_by.eq(issued_by),
        invoices::tax_bp.eq(tax_bp),
        invoices::tax_cents.eq(tax_cents),
        invoices::total_cents.eq(invoices::subtotal_cents + tax_cents),
    ))
    .execute(conn)?
        == 1)
}

/// Applies a payment or a credit to an issued invoice, never beyond what is open.
pub fn apply_to_invoice(
    conn: &mut AnyConnection,
    id: &str,
    paid_cents: i64,
    credited_cents: i64,
) -> QueryResult<bool> {
    let amount = paid_cents + credited_cents;
    Ok(diesel::update(
        invoices::table
            .find(id)
            .filter(invoices::status.eq("issued"))
            .filter(invoices::kind.eq("invoice"))
            .filter(
                (invoices::paid_cents + invoices::credited_cents + amount)
                    .le(invoices::total_cents),
            ),
    )
    .set((
        invoices::paid_cents.eq(invoices::paid_cents + paid_cents),
        invoices::credited_cents.eq(invoices::credited_cents + credited_cents),
    ))
    .execute(conn)?
        == 1)
}

// ---- payments --------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub invoice_id: String,
    pub buyer_id: String,
    pub method: String,
    pub amount_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: String,
    pub transaction_id: String,
    pub recorded_by: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_payment(conn: &mut AnyConnection, row: &PaymentRow) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_payment(conn: &mut AnyConnection, id: &str) -> QueryResult<PaymentRow> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
}

pub fn payments_of(
    conn: &mut AnyConnection,
    invoice_id: Option<&str>,
    buyer_id: Option<&str>,
) -> QueryResult<Vec<PaymentRow>> {
    let mut q = payments::table.into_boxed();
    if let Some(i) = invoice_id {
        q = q.filter(payments::invoice_id.eq(i.to_string()));
    }
    if let Some(b) = buyer_id {
        q = q.filter(payments::buyer_id.eq(b.to_string()));
    }
    q.order(payments::received_on.desc())
        .select(PaymentRow::as_select())
        .load(conn)
}

// ---- statements ------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statements)]
pub struct StatementRow {
    pub id: String,
    pub agency_id: String,
    pub period_start: NaiveDateTime,
    pub period_end: NaiveDateTime,
    pub gross_cents: i64,
    pub commission_cents: i64,
    pub returns_cents: i64,
    pub net_cents: i64,
    pub status: String,
    pub paid_on: Option<NaiveDateTime>,
    pub paid_reference: Option<String>,
    pub payout_transaction_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_statement(conn: &mut AnyConnection, row: &StatementRow) -> QueryResult<()> {
    diesel::insert_into(statements::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn update_statement_totals(conn: &mut AnyConnection, row: &StatementRow) -> QueryResult<()> {
    diesel::update(statements::table.find(&row.id))
        .set((
            statements::gross_cents.eq(row.gross_cents),
            statements::commission_cents.eq(row.commission_cents),
            statements::returns_cents.eq(row.returns_cents),
            statements::net_cents.eq(row.net_cents),
        ))
        .execute(conn)
        .map(drop)
}

/// Drops a statement that claimed nothing (a run found the agency's entries billed by then).
pub fn delete_statement(conn: &mut AnyConnection, id: &str) -> QueryResult<()> {
    diesel::delete(statements::table.find(id))
        .execute(conn)
        .map(drop)
}

pub fn find_statement(conn: &mut AnyConnection, id: &str) -> QueryResult<StatementRow> {
    statements::table
        .find(id)
        .select(StatementRow::as_select())
        .first(conn)
}

pub fn list_statements(
    conn: &mut AnyConnection,
    agency_id: Option<&str>,
    only_open: bool,
) -> QueryResult<Vec<StatementRow>> {
    let mut q = statements::table.into_boxed();
    if let Some(a) = agency_id {
        q = q.filter(statements::agency_id.eq(a.to_string()));
    }
    if only_open {
        q = q.filter(statements::status.eq("open"));
    }
    q.order((
        statements::period_start.desc(),
        statements::created_at.desc(),
    ))
    .select(StatementRow::as_select())
    .load(conn)
}

/// Marks a statement paid: false when it was paid already.
pub fn mark_statement_paid(
    conn: &mut AnyConnection,
    id: &str,
    paid_on: NaiveDateTime,
    reference: &str,
    transaction_id: &str,
) -> QueryResult<bool> {
    Ok(diesel::update(
        statements::table
            .find(id)
            .filter(statements::status.eq("open")),
    )
    .set((
        statements::status.eq("paid"),
        statements::paid_on.eq(paid_on),
        statements::paid_reference.eq(reference),
        statements::payout_transaction_id.eq(transaction_id),
    ))
    .execute(conn)?
        == 1)
}

// ---- billing runs ----------------------------------------------------------------------

/// Claims `period` for a billing run: false while another run holds it. A claim older
/// than `stale_before` is taken over (its process died mid-run). Commits on its own, so
/// other processes see the claim while the run works in many transactions.
pub fn claim_billing_run(
    conn: &mut AnyConnection,
    period: &str,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> QueryResult<bool> {
    crate::db::write_transaction(conn, |conn| {
        // PostgreSQL re-checks this WHERE after waiting for a concurrent claimer's row
        // lock, so of two runs only one sees the row free.
        let retaken = diesel::update(
            billing_runs::table.find(period).filter(
                billing_runs::finished_at
                    .is_not_null()
                    .or(billing_runs::started_at.lt(stale_before)),
            ),
        )
        .set((
            billing_runs::started_at.eq(now),
            billing_runs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        if retaken == 1 {
            return Ok(true);
        }
        let exists = billing_runs::table
            .find(period)
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if exists {
            return Ok(false);
        }
        let inserted = crate::db::write_transaction(conn, |c| {
            diesel::insert_into(billing_runs::table)
                .values((
                    billing_runs::period.eq(period),
                    billing_runs::started_at.eq(now),
                    billing_runs::finished_at.eq(None::<NaiveDateTime>),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(e) => Err(e),
        }
    })
}

pub fn finish_billing_run(
    conn: &mut AnyConnection,
    period: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(billing_runs::table.find(period))
        .set(billing_runs::finished_at.eq(now))
        .execute(conn)
        .map(drop)
}

// ---- unapplied payments ----------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unapplied_payments)]
pub struct UnappliedRow {
    pub id: String,
    pub buyer_id: String,
    pub method: String,
    pub amount_cents: i64,
    pub applied_cents: i64,
    pub received_on: NaiveDateTime,
    pub reference: String,
    pub reason: String,
    /// `unapplied`, `applied` or `refunded`.
    pub status: String,
    pub transaction_id: String,
    pub refund_transaction_id: Option<String>,
    pub settled_by: Option<String>,
    pub settled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl UnappliedRow {
    /// What is still to apply or refund.
    pub fn left_cents(&self) -> i64 {
        if self.status == "unapplied" {
            self.amount_cents - self.applied_cents
        } else {
            0
        }
    }
}

pub fn insert_unapplied(conn: &mut AnyConnection, row: &UnappliedRow) -> QueryResult<()> {
    diesel::insert_into(unapplied_payments::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find_unapplied(conn: &mut AnyConnection, id: &str) -> QueryResult<UnappliedRow> {
    unapplied_payments::table
        .find(id)
        .select(UnappliedRow::as_select())
        .first(conn)
}

/// Unapplied payments, newest first; `only_open` keeps those with something left.
pub fn list_unapplied(conn: &mut AnyConnection, only_open: bool) -> QueryResult<Vec<UnappliedRow>> {
    let mut q = unapplied_payments::table.into_boxed();
    if only_open {
        q = q.filter(unapplied_payments::status.eq("unapplied"));
    }
    q.order((
        unapplied_payments::created_at.desc(),
        unapplied_payments::id.desc(),
    ))
    .select(UnappliedRow::as_select())
    .load(conn)
}

/// Takes `amount` of what is left (false when less is left: someone applied or refunded
/// it first); the row turns `applied` once nothing is left.
pub fn take_unapplied(
    conn: &mut AnyConnection,
    id: &str,
    amount: i64,
    by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        unapplied_payments::table
            .find(id)
            .filter(unapplied_payments::status.eq("unapplied"))
            .filter(
                (unapplied_payments::applied_cents + amount).le(unapplied_payments::amount_cents),
            ),
    )
    .set((
        unapplied_payments::applied_cents.eq(unapplied_payments::applied_cents + amount),
        unapplied_payments::settled_by.eq(by),
        unapplied_payments::settled_at.eq(now),
    ))
    .execute(conn)?
        == 1;
    if taken {
        diesel::update(
            unapplied_payments::table
                .find(id)
                .filter(unapplied_payments::applied_cents.eq(unapplied_payments::amount_cents)),
        )
        .set(unapplied_payments::status.eq("applied"))
        .execute(conn)?;
    }
    Ok(taken)
}

/// Marks what is left refunded (false when nothing was left to refund).
pub fn mark_unapplied_refunded(
    conn: &mut AnyConnection,
    id: &str,
    refund_transaction_id: &str,
    by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(diesel::update(
        unapplied_payments::table
            .find(id)
            .filter(unapplied_payments::status.eq("unapplied")),
    )
    .set((
        unapplied_payments::status.eq("refunded"),
        unapplied_payments::refund_transaction_id.eq(refund_transaction_id),
        unapplied_payments::settled_by.eq(by),
        unapplied_payments::settled_at.eq(now),
    ))
    .execute(conn)?
        == 1)
}

// ---- stripe ----------------------------------------------------------------------------

/// Records a Stripe event id: false when it was seen before (a replay).
pub fn first_sight_of_event(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let seen = stripe_events::table
        .find(id)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if seen {
        return Ok(false);
    }
    let inserted = crate::db::write_transaction(conn, |c| {
        diesel::insert_into(stripe_events::table)
            .values((
                stripe_events::id.eq(id),
                stripe_events::kind.eq(kind),
                stripe_events::received_at.eq(now),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Names of organisations by id (for lists).
pub fn organisation_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The balance of each ledger account over all organisations.
pub fn balances_by_account(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(String, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::account)
        .select((
            ledger_entries::account,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>(
                "CAST(SUM(ledger_entries.amount_cents) AS BIGINT)",
            ),
        ))
        .order(ledger_entries::account.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(|(a, s)| (a, s.unwrap_or(0))).collect())
}

/// What is open on a buyer's issued invoices.
pub fn open_invoices_total(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<i64> {
    let rows: Vec<(i64, i64, i64)> = invoices::table
        .filter(invoices::buyer_id.eq(buyer_id))
        .filter(invoices::status.eq("issued"))
        .filter(invoices::kind.eq("invoice"))
        .select((
            invoices::total_cents,
            invoices::paid_cents,
            invoices::credited_cents,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(t, p, c)| crate::domain::billing::open_cents(t, p, c))
        .sum())
}

/// One ledger entry with its transaction, for the accounting export.
#[derive(Debug, Clone, Queryable)]
pub struct LedgerLine {
    pub transaction_id: String,
    pub kind: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub account: String,
    pub organisation_id: Option<String>,
    pub amount_cents: i64,
}

/// Ledger entries after `after` (keyset by entry id), oldest first.
pub fn ledger_page(
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

pub fn billing_address(conn: &mut AnyConnection, organisation_id: &str) -> QueryResult<String> {
    organisations::table
        .find(organisation_id)
        .select(organisations::billing_address)
        .first(conn)
}

/// Which of these leads come from per-action batches.
pub fn per_action_leads(
    conn: &mut AnyConnection,
    lead_ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    Ok(leads::table
        .inner_join(batches::table)
        .filter(leads::id.eq_any(lead_ids))
        .filter(batches::billing.eq("per_action"))
        .select(leads::id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}
