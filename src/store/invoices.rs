//! Invoices and credit notes, their lines, gapless numbers, and the items a buyer's
//! claimed ledger entries bill.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    actions, batches, invoice_lines, invoices, leads, number_sequences, purchases,
};
use crate::domain::billing::{BillItem, InvoiceKind, InvoiceStatus, Line, LineKind};
use crate::domain::ledger::ActionKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub number: Option<String>,
    pub kind: InvoiceKind,
    pub buyer_id: String,
    pub status: InvoiceStatus,
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
    pub kind: LineKind,
    pub description: String,
    pub batch_id: Option<String>,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

pub fn insert(conn: &mut AnyConnection, invoice: &InvoiceRow, lines: &[Line]) -> QueryResult<()> {
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
            kind: l.kind,
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
    super::ledger::release_invoice_claims(conn, invoice_id)?;
    let is_draft = invoices::table
        .find(invoice_id)
        .filter(invoices::status.eq(InvoiceStatus::Draft))
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
            .filter(invoices::status.eq(InvoiceStatus::Draft)),
    )
    .execute(conn)?;
    Ok(true)
}

/// Every draft invoice's id.
pub fn drafts(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    invoices::table
        .filter(invoices::status.eq(InvoiceStatus::Draft))
        .select(invoices::id)
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<InvoiceRow> {
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
pub fn list(
    conn: &mut AnyConnection,
    buyer_id: Option<&str>,
    only_issued: bool,
) -> QueryResult<Vec<InvoiceRow>> {
    let mut q = invoices::table.into_boxed();
    if let Some(b) = buyer_id {
        q = q.filter(invoices::buyer_id.eq(b.to_string()));
    }
    if only_issued {
        q = q.filter(invoices::status.eq(InvoiceStatus::Issued));
    }
    q.order((invoices::created_at.desc(), invoices::id.desc()))
        .select(InvoiceRow::as_select())
        .load(conn)
}

/// The next number of a series in a year, inside the caller's transaction: the row
/// update serialises concurrent issuers, and a rollback gives the number back.
pub fn next_number(conn: &mut AnyConnection, series: &str, year: i32) -> QueryResult<i64> {
    let bump = |conn: &mut AnyConnection| {
        diesel::update(
            number_sequences::table
                .filter(number_sequences::series.eq(series))
                .filter(number_sequences::year.eq(year)),
        )
        .set(number_sequences::last_number.eq(number_sequences::last_number + 1))
        .execute(conn)
    };
    if bump(conn)? == 0 {
        // The first number of the year. Two first issuers racing: one insert fails on the
        // primary key and its savepoint rolls back, then it bumps the row the other made.
        let inserted = super::insert_unless_taken(conn, |c| {
            diesel::insert_into(number_sequences::table)
                .values((
                    number_sequences::series.eq(series),
                    number_sequences::year.eq(year),
                    number_sequences::last_number.eq(1i64),
                ))
                .execute(c)
        })?;
        if inserted {
            return Ok(1);
        }
        bump(conn)?;
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
            .filter(invoices::status.eq(InvoiceStatus::Draft)),
    )
    .set((
        invoices::status.eq(InvoiceStatus::Issued),
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
            .filter(invoices::status.eq(InvoiceStatus::Issued))
            .filter(invoices::kind.eq(InvoiceKind::Invoice))
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

/// What is open on a buyer's issued invoices.
pub fn open_total(conn: &mut AnyConnection, buyer_id: &str) -> QueryResult<i64> {
    let rows: Vec<(i64, i64, i64)> = invoices::table
        .filter(invoices::buyer_id.eq(buyer_id))
        .filter(invoices::status.eq(InvoiceStatus::Issued))
        .filter(invoices::kind.eq(InvoiceKind::Invoice))
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

/// What names a batch on an invoice line.
#[derive(Debug, Clone, Queryable)]
pub struct BatchLabel {
    pub id: String,
    pub segment: Option<String>,
    pub channel: Option<String>,
    pub created_at: NaiveDateTime,
}

impl BatchLabel {
    /// `Car insurance via Landing page, batch of 2 Nov 2026`: what a person recognises
    /// (the uploaded file's name is the agency's, and means nothing to the buyer).
    pub fn label(&self, names: &super::reference::Names) -> String {
        let segment = self
            .segment
            .as_deref()
            .map(|s| names.segment(s))
            .unwrap_or_else(|| "Mixed segments".into());
        let channel = self
            .channel
            .as_deref()
            .map(|c| format!(" via {}", names.channel(c).to_lowercase()))
            .unwrap_or_default();
        format!(
            "{segment}{channel}, batch of {}",
            self.created_at.format("%-d %b %Y")
        )
    }
}

fn batch_label_columns() -> (
    batches::id,
    batches::segment,
    batches::channel,
    batches::created_at,
) {
    (
        batches::id,
        batches::segment,
        batches::channel,
        batches::created_at,
    )
}

/// The items billed by these transactions to `buyer_id`: each lead bought and each action.
pub fn bill_items(
    conn: &mut AnyConnection,
    buyer_id: &str,
    transaction_ids: &[String],
) -> QueryResult<Vec<BillItem>> {
    let names = super::reference::Names::load(conn)?;
    let mut items = Vec::new();
    for ids in transaction_ids.chunks(5000) {
        let bought: Vec<(BatchLabel, i64)> = purchases::table
            .inner_join(leads::table.inner_join(batches::table))
            .filter(purchases::buyer_id.eq(buyer_id))
            .filter(purchases::transaction_id.eq_any(ids))
            .select((batch_label_columns(), purchases::price_cents))
            .load(conn)?;
        items.extend(bought.into_iter().map(|(batch, price)| BillItem {
            kind: LineKind::Purchase,
            batch_label: batch.label(&names),
            batch_id: batch.id,
            amount_cents: price,
        }));
        let acted: Vec<(ActionKind, BatchLabel, i64)> = actions::table
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
            kind: LineKind::Credit,
            batch_label: batch.label(&names),
            batch_id: batch.id,
            amount_cents: -amount,
        }));
        items.extend(acted.into_iter().map(|(kind, batch, price)| BillItem {
            kind: LineKind::action(kind),
            batch_label: batch.label(&names),
            batch_id: batch.id,
            amount_cents: price,
        }));
    }
    Ok(items)
}
