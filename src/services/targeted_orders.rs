//! Targeted orders (issue 21): a buyer orders leads captured for it (criteria, quantity,
//! price per lead, deadline) and closes the order; agencies list the open ones and fill
//! them with targeted batches (intake sells each row to the order's buyer, see
//! `intake::pipeline`). An order past its deadline is closed when next read.

use chrono::NaiveDateTime;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::catalogue::{self, RawFilter};
use crate::domain::market::OrderStatus;
use crate::domain::problem::FieldProblem;
use crate::error::AppError;
use crate::store;
use crate::store::orders::OrderRow;

/// A new order as its buyer entered it.
#[derive(Debug, Clone, Default)]
pub struct OrderDraft {
    pub name: String,
    pub segment: Option<String>,
    /// Catalogue filters as a query string.
    pub filter_query: String,
    pub quantity: Option<i64>,
    pub price_cents: Option<i64>,
    pub deadline: Option<NaiveDateTime>,
}

/// Checks the draft (every problem listed) and stores the order, open.
pub fn create(
    conn: &mut AnyConnection,
    buyer_id: &str,
    draft: &OrderDraft,
    now: NaiveDateTime,
) -> Result<OrderRow, AppError> {
    let mut p = Vec::new();
    let name = draft.name.trim().to_string();
    if name.is_empty() {
        p.push(FieldProblem::new("name", "is required"));
    } else if name.chars().count() > 120 {
        p.push(FieldProblem::new("name", "must be at most 120 characters"));
    } else if let Some(c) =
        crate::domain::text::refused_character(&name, crate::domain::text::TextKind::Line)
    {
        p.push(FieldProblem::new("name", crate::domain::text::problem(c)));
    }
    let filter_query = draft
        .filter_query
        .trim()
        .trim_start_matches('?')
        .to_string();
    let mut filter_segment = None;
    match RawFilter::from_query(&filter_query) {
        Err(problems) => p.extend(problems.into_iter().map(prefix)),
        Ok(raw) => {
            for (key, set) in [
                ("sort", raw.sort.is_some()),
                ("limit", raw.limit.is_some()),
                ("cursor", raw.cursor.is_some()),
            ] {
                if set {
                    p.push(FieldProblem::new(
                        format!("filter.{key}"),
                        "is not a criterion of an order",
                    ));
                }
            }
            match catalogue::parse(&raw) {
                Ok(parsed) => filter_segment = parsed.filter.segment,
                Err(problems) => p.extend(problems.into_iter().map(prefix)),
            }
        }
    }
    let segment = draft
        .segment
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or(filter_segment.clone());
    let tree = store::reference::segment_tree(conn)?;
    if let (Some(s), Some(f)) = (&segment, &filter_segment)
        && !tree.within(f, s)
        && !tree.within(s, f)
    {
        p.push(FieldProblem::new(
            "filter.segment",
            "must be the order's segment or within it",
        ));
    }
    if let Some(s) = &segment
        && !tree.contains(s)
    {
        p.push(FieldProblem::new("segment", "is not a known segment"));
    }
    let quantity = match draft.quantity {
        Some(q) if (1..=1_000_000).contains(&q) => q as i32,
        _ => {
            p.push(FieldProblem::new(
                "quantity",
                "must be a whole number from 1 to 1,000,000",
            ));
            0
        }
    };
    let price_cents = match draft.price_cents {
        Some(c) if c > 0 => c,
        _ => {
            p.push(FieldProblem::new(
                "price_cents",
                "must be the price per lead in minor units, above 0",
            ));
            0
        }
    };
    match draft.deadline {
        Some(d) if d > now => {}
        Some(_) => p.push(FieldProblem::new("deadline", "must be in the future")),
        None => p.push(FieldProblem::new(
            "deadline",
            "is required (RFC 3339, such as 2026-12-31T18:00:00Z)",
        )),
    }
    if !p.is_empty() {
        return Err(AppError::Validation(p));
    }
    let row = OrderRow {
        id: store::new_id(),
        buyer_id: buyer_id.to_string(),
        name,
        segment,
        status: OrderStatus::Open,
        created_at: now,
        filter_query,
        quantity,
        delivered: 0,
        price_cents,
        deadline: draft.deadline,
        closed_at: None,
    };
    store::orders::insert(conn, &row)?;
    Ok(row)
}

fn prefix(p: FieldProblem) -> FieldProblem {
    FieldProblem::new(format!("filter.{}", p.field), p.problem)
}

/// A buyer's orders, newest first (past deadlines closed first).
pub fn list(
    conn: &mut AnyConnection,
    buyer_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<OrderRow>, AppError> {
    store::orders::close_past_deadline(conn, now)?;
    Ok(store::orders::list_for_buyer(conn, buyer_id)?)
}

/// One of the buyer's orders (404 for another's).
pub fn get(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    now: NaiveDateTime,
) -> Result<OrderRow, AppError> {
    if uuid::Uuid::parse_str(order_id).is_err() {
        return Err(AppError::NotFound);
    }
    store::orders::close_past_deadline(conn, now)?;
    store::orders::find_for_buyer(conn, buyer_id, order_id)?.ok_or(AppError::NotFound)
}

/// Closes the buyer's order: no more leads are taken for it (409 when it is closed).
pub fn close(
    conn: &mut AnyConnection,
    buyer_id: &str,
    order_id: &str,
    now: NaiveDateTime,
) -> Result<OrderRow, AppError> {
    write_transaction(conn, |conn| {
        let order = get(conn, buyer_id, order_id, now)?;
        if !store::orders::close(conn, buyer_id, &order.id, now)? {
            return Err(AppError::Conflict {
                code: "order_closed",
                message: "this order is closed already".into(),
            });
        }
        store::orders::find(conn, &order.id)?.ok_or(AppError::NotFound)
    })
}

/// The orders agencies may fill now, with their buyers' names.
pub fn open_orders(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Vec<(OrderRow, String)>, AppError> {
    store::orders::close_past_deadline(conn, now)?;
    Ok(store::orders::list_open(conn, now)?)
}
