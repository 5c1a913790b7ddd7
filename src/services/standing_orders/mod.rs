//! Standing orders (issue 20): buyers manage them (`manage`); the allocation buys
//! matching leads for them, from the order book (`book`). Shared here: the view of an order with its counters.

pub mod allocate;
pub mod book;
pub mod manage;

use chrono::NaiveDateTime;

/// An order as its buyer sees it: never the secret.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub id: String,
    pub name: String,
    /// The catalogue filter as stored (a query string).
    pub filter_query: String,
    pub max_price_cents: i64,
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub active: bool,
    /// `HH:MM-HH:MM` in the buyer's zone; `None`: all day.
    pub active_hours: Option<String>,
    /// Leads bought today in the buyer's time zone.
    pub today_count: i64,
    pub spent_cents: i64,
    pub budget_left_cents: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
