//! Actions a buyer reports on bought leads (billed per action), and what billing needs of
//! the purchase behind one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{actions, batches, leads, purchases};
use crate::domain::ledger::ActionKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = actions)]
pub struct ActionRow {
    pub id: String,
    pub purchase_id: String,
    pub lead_id: String,
    pub buyer_id: String,
    pub agency_id: String,
    pub kind: ActionKind,
    pub occurred_at: NaiveDateTime,
    pub price_cents: i64,
    pub commission_cents: i64,
    pub idempotency_key: String,
    /// `None`: recorded on a per-lead lead, not charged.
    pub transaction_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn by_key(
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

pub fn by_kind(
    conn: &mut AnyConnection,
    purchase_id: &str,
    kind: ActionKind,
) -> QueryResult<Option<ActionRow>> {
    actions::table
        .filter(actions::purchase_id.eq(purchase_id))
        .filter(actions::kind.eq(kind))
        .select(ActionRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, row: &ActionRow) -> QueryResult<()> {
    diesel::insert_into(actions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Actions a buyer reported on its leads, newest first.
pub fn of_buyer(
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
