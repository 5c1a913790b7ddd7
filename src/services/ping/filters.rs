//! Standing orders' parsed rules (filter, zone, hours), kept between pings: a ping must
//! answer in milliseconds with a thousand orders, and parsing each order's filter query
//! on every ping is most of that. An entry is keyed by the order's id and valid for the
//! `updated_at` and zone it was parsed from, so an edited order is parsed again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use crate::domain::catalogue::{Filter, RawFilter, parse};
use crate::domain::standing_order::{ActiveHours, parse_time_zone};
use crate::store::standing_orders::StandingOrderRow;

/// An order's rules as parsed.
#[derive(Debug)]
pub struct OrderRules {
    pub filter: Filter,
    pub tz: chrono_tz::Tz,
    pub hours: Option<ActiveHours>,
}

struct Entry {
    updated_at: NaiveDateTime,
    time_zone: String,
    rules: Option<Arc<OrderRules>>,
}

/// Most entries one process keeps; past it the cache starts again (orders are few).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct FilterCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl FilterCache {
    /// The order's rules, or `None` when its filter or zone does not parse (it is passed
    /// over, never allowed to bid under a wider filter).
    pub fn rules(&self, order: &StandingOrderRow, time_zone: &str) -> Option<Arc<OrderRules>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get(&order.id)
            && e.updated_at == order.updated_at
            && e.time_zone == time_zone
        {
            return e.rules.clone();
        }
        let rules = parse_rules(order, time_zone).map(Arc::new);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            order.id.clone(),
            Entry {
                updated_at: order.updated_at,
                time_zone: time_zone.to_string(),
                rules: rules.clone(),
            },
        );
        rules
    }
}

fn parse_rules(order: &StandingOrderRow, time_zone: &str) -> Option<OrderRules> {
    let filter = RawFilter::from_query(&order.filter_query)
        .ok()
        .and_then(|raw| parse(&raw).ok())
        .map(|p| p.filter);
    let tz = parse_time_zone(time_zone).ok();
    let (Some(filter), Some(tz)) = (filter, tz) else {
        tracing::warn!(order = %order.id, "standing order's filter or time zone does not parse; passed over");
        return None;
    };
    Some(OrderRules {
        filter,
        tz,
        hours: order.active_hours(),
    })
}
