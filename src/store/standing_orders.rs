//! Standing orders (issue 20): a buyer's saved criteria, their counters (today's count
//! against the daily cap, the spend against the budget) and their signing secret.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::standing_orders;

/// One stored order. `secret` never leaves the services for a page or a body except
/// once, when it is made or rotated.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = standing_orders)]
#[diesel(treat_none_as_default_value = false)]
pub struct StandingOrderRow {
    pub id: String,
    pub buyer_id: String,
    pub name: String,
    /// The catalogue filter as a query string (`domain::catalogue` parses it).
    pub filter_query: String,
    /// Copied from the filter for the allocation's index (NULL: any).
    pub segment: Option<String>,
    pub country: Option<String>,
    pub max_price_cents: i64,
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub spent_cents: i64,
    pub cap_day: Option<String>,
    pub today_count: i32,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub secret: String,
    pub active: bool,
    pub active_from_minute: Option<i32>,
    pub active_to_minute: Option<i32>,
    pub last_allocated_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl StandingOrderRow {
    /// The counters as the domain's rules read them.
    pub fn allowance(&self) -> crate::domain::standing_order::Allowance<'_> {
        crate::domain::standing_order::Allowance {
            daily_cap: self.daily_cap,
            budget_cents: self.budget_cents,
            spent_cents: self.spent_cents,
            cap_day: self.cap_day.as_deref(),
            today_count: self.today_count,
        }
    }

    pub fn active_hours(&self) -> Option<crate::domain::standing_order::ActiveHours> {
        crate::domain::standing_order::ActiveHours::from_stored(
            self.active_from_minute,
            self.active_to_minute,
        )
    }
}
