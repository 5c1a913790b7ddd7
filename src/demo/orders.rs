//! The demo's standing orders: one delivering by email, one by callback to the demo's
//! own inbox (`inbox::PATH`, a private address the demo allows), one paused.

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::services::standing_orders::manage::{self, Draft};
use crate::store;

/// Seeds the orders; returns how many. `public_url` is where the demo serves.
pub fn seed_standing_orders(
    conn: &mut AnyConnection,
    public_url: &str,
    now: NaiveDateTime,
) -> anyhow::Result<usize> {
    let callback = format!("{}{}", public_url.trim_end_matches('/'), super::inbox::PATH);
    let orders = [
        (
            "surecover",
            Draft {
                name: "Hot car insurance leads".into(),
                filter_query: "segment=insurance.car&warmth=hot&warmth=warm".into(),
                max_price_cents: 2_500,
                daily_cap: Some(25),
                budget_cents: Some(200_000),
                deliver_email: Some("orders@surecover.example.com".into()),
                active: true,
                ..Draft::default()
            },
        ),
        (
            "keystone-lending",
            Draft {
                name: "Loans, straight to our CRM".into(),
                filter_query: "segment=finance.loans&age_min=25".into(),
                max_price_cents: 3_000,
                daily_cap: Some(50),
                budget_cents: Some(300_000),
                callback_url: Some(callback),
                active: true,
                active_hours: None,
                ..Draft::default()
            },
        ),
        (
            "habitat-realty",
            Draft {
                name: "Buyers of homes (paused over the holidays)".into(),
                filter_query: "segment=real_estate&min_score=60".into(),
                max_price_cents: 4_000,
                daily_cap: Some(10),
                budget_cents: None,
                deliver_email: Some("leads@habitat-realty.example.com".into()),
                active: false,
                active_hours: Some("08:00-18:00".into()),
                ..Draft::default()
            },
        ),
    ];
    let mut made = 0;
    for (slug, draft) in orders {
        let buyer = store::organisations::find_by_slug(conn, slug)?;
        // The demo's receiver is on this machine: private addresses are allowed here.
        manage::create(conn, true, &buyer.id, &draft, now)
            .map_err(|e| anyhow::anyhow!("demo standing order {:?}: {e}", draft.name))?;
        made += 1;
    }
    Ok(made)
}
