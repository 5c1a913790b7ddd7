//! Create, change, pause, delete and list a buyer's standing orders, and rotate their
//! signing secret. Every input problem is listed per field; a callback URL is checked
//! with DNS at save (and again by the worker at connect time: DNS can change).

use std::net::ToSocketAddrs as _;

use chrono::{NaiveDateTime, TimeDelta};
use rand::RngCore as _;

use super::OrderView;
use crate::db::{AnyConnection, write_transaction};
use crate::domain::catalogue::{self, RawFilter};
use crate::domain::email::Email;
use crate::domain::problem::FieldProblem;
use crate::domain::standing_order::{self, ActiveHours, callback};
use crate::error::AppError;
use crate::store;
use crate::store::standing_orders::{OrderChanges, StandingOrderRow};

/// What the buyer typed or sent, before checking.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    /// The catalogue filter as a query string (`segment=travel&country=DE`).
    pub filter_query: String,
    pub max_price_cents: i64,
    pub daily_cap: Option<i64>,
    pub budget_cents: Option<i64>,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub active: bool,
    pub active_hours: Option<String>,
}

impl Draft {
    /// The stored order as a draft, for a change of some of its fields.
    pub fn from_row(row: &StandingOrderRow) -> Self {
        Self {
            name: row.name.clone(),
            filter_query: row.filter_query.clone(),
            max_price_cents: row.max_price_cents,
            daily_cap: row.daily_cap.map(i64::from),
            budget_cents: row.budget_cents,
            deliver_email: row.deliver_email.clone(),
            callback_url: row.callback_url.clone(),
            active: row.active,
            active_hours: row.active_hours().map(|h| h.to_string()),
        }
    }
}

/// A draft that passed every check.
struct Valid {
    name: String,
    filter_query: String,
    segment: Option<String>,
    country: Option<String>,
    max_price_cents: i64,
    daily_cap: Option<i32>,
    budget_cents: Option<i64>,
    deliver_email: Option<String>,
    callback_url: Option<String>,
    active: bool,
    hours: Option<ActiveHours>,
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Checks a draft, listing every problem by its field.
fn validate(draft: &Draft, allow_private: bool) -> Result<Valid, Vec<FieldProblem>> {
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

    let (mut segment, mut country) = (None, None);
    let filter_query = draft
        .filter_query
        .trim()
        .trim_start_matches('?')
        .to_string();
    match RawFilter::from_query(&filter_query) {
        Err(problems) => p.extend(problems.into_iter().map(prefix_filter)),
        Ok(raw) => {
            // Paging makes no sense for an order that buys as leads arrive.
            for (key, set) in [
                ("sort", raw.sort.is_some()),
                ("limit", raw.limit.is_some()),
                ("cursor", raw.cursor.is_some()),
            ] {
                if set {
                    p.push(FieldProblem::new(
                        format!("filter.{key}"),
                        "is not a filter of a standing order",
                    ));
                }
            }
            match catalogue::parse(&raw) {
                Ok(parsed) => {
                    segment = parsed.filter.segment;
                    country = parsed.filter.country;
                }
                Err(problems) => p.extend(problems.into_iter().map(prefix_filter)),
            }
        }
    }

    if draft.max_price_cents < 0 {
        p.push(FieldProblem::new("max_price_cents", "must be 0 or more"));
    }
    let daily_cap = match draft.daily_cap {
        None => None,
        Some(n) if n > 0 && n <= i64::from(i32::MAX) => Some(n as i32),
        Some(_) => {
            p.push(FieldProblem::new(
                "daily_cap",
                "must be a whole number above 0, or empty for no cap",
            ));
            None
        }
    };
    if draft.budget_cents.is_some_and(|b| b < 0) {
        p.push(FieldProblem::new(
            "budget_cents",
            "must be 0 or more, or empty for no budget",
        ));
    }
    let deliver_email = match blank(&draft.deliver_email) {
        None => None,
        Some(raw) => match raw.parse::<Email>() {
            Ok(e) => Some(e.to_string()),
            Err(e) => {
                p.push(FieldProblem::new("deliver_email", e));
                None
            }
        },
    };
    let callback_url = match blank(&draft.callback_url) {
        None => None,
        Some(raw) => match check_callback(&raw, allow_private) {
            Ok(url) => Some(url),
            Err(e) => {
                p.push(FieldProblem::new("callback_url", e));
                None
            }
        },
    };
    let hours = match blank(&draft.active_hours) {
        None => None,
        Some(raw) => match ActiveHours::parse(&raw) {
            Ok(h) => Some(h),
            Err(e) => {
                p.push(FieldProblem::new("active_hours", e));
                None
            }
        },
    };
    if !p.is_empty() {
        return Err(p);
    }
    Ok(Valid {
        name,
        filter_query,
        segment,
        country,
        max_price_cents: draft.max_price_cents,
        daily_cap,
        budget_cents: draft.budget_cents,
        deliver_email,
        callback_url,
        active: draft.active,
        hours,
    })
}

fn prefix_filter(p: FieldProblem) -> FieldProblem {
    FieldProblem::new(format!("filter.{}", p.field), p.problem)
}

/// The URL checks that need no network, then every address the host resolves to must
/// be public (unless the operator allows private ones, in development and tests).
fn check_callback(raw: &str, allow_private: bool) -> Result<String, String> {
    let url = callback::check_url(raw, allow_private)?;
    if allow_private {
        return Ok(url.to_string());
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    // Blocking lookup: we run inside the services' blocking database closure.
    let host_only = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = (host_only, port)
        .to_socket_addrs()
        .map_err(|_| format!("the host {host} cannot be found (DNS)"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("the host {host} cannot be found (DNS)"));
    }
    if addrs.iter().any(|a| !callback::is_public(a.ip())) {
        return Err(
            "callbacks go only to public addresses, and this host resolves to a loopback, private, link-local or metadata one".into(),
        );
    }
    Ok(url.to_string())
}

/// 32 random bytes, hex: the key that signs an order's callbacks.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn changes(v: &Valid, now: NaiveDateTime) -> OrderChanges<'_> {
    OrderChanges {
        name: &v.name,
        filter_query: &v.filter_query,
        segment: v.segment.as_deref(),
        country: v.country.as_deref(),
        max_price_cents: v.max_price_cents,
        daily_cap: v.daily_cap,
        budget_cents: v.budget_cents,
        deliver_email: v.deliver_email.as_deref(),
        callback_url: v.callback_url.as_deref(),
        active: v.active,
        active_from_minute: v.hours.map(|h| h.from_minute as i32),
        active_to_minute: v.hours.map(|h| h.to_minute as i32),
        updated_at: now,
    }
}

/// A new order and its secret, shown to the buyer this once.
pub struct Created {
    pub order: OrderView,
    pub secret: String,
}

pub fn create(
    conn: &mut AnyConnection,
    allow_private: bool,
    buyer_id: &str,
    draft: &Draft,
    now: NaiveDateTime,
) -> Result<Created, AppError> {
    let v = validate(draft, allow_private).map_err(AppError::Validation)?;
    let secret = new_secret();
    let row = StandingOrderRow {
        id: store::new_id(),
        buyer_id: buyer_id.to_string(),
        name: v.name.clone(),
        filter_query: v.filter_query.clone(),
        segment: v.segment.clone(),
        country: v.country.clone(),
        max_price_cents: v.max_price_cents,
        daily_cap: v.daily_cap,
        budget_cents: v.budget_cents,
        spent_cents: 0,
        cap_day: None,
        today_count: 0,
        deliver_email: v.deliver_email.clone(),
        callback_url: v.callback_url.clone(),
        secret: secret.clone(),
        active: v.active,
        active_from_minute: v.hours.map(|h| h.from_minute as i32),
        active_to_minute: v.hours.map(|h| h.to_minute as i32),
        last_allocated_at: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let order = write_transaction(conn, |conn| {
        store::standing_orders::insert(conn, &row)?;
        view(conn, row, now)
    })?;
    Ok(Created { order, secret })
}

/// Applies `edit` to the stored order and saves it if it still passes every check.
pub fn update(
    conn: &mut AnyConnection,
    allow_private: bool,
    buyer_id: &str,
    id: &str,
    edit: impl FnOnce(&mut Draft),
    now: NaiveDateTime,
) -> Result<OrderView, AppError> {
    write_transaction(conn, |conn| {
        let row = store::standing_orders::find_for_buyer(conn, buyer_id, id)?;
        let mut draft = Draft::from_row(&row);
        edit(&mut draft);
        let v = validate(&draft, allow_private).map_err(AppError::Validation)?;
        if !store::standing_orders::update(conn, buyer_id, id, &changes(&v, now))? {
            return Err(AppError::NotFound);
        }
        let row = store::standing_orders::find_for_buyer(conn, buyer_id, id)?;
        view(conn, row, now)
    })
}

pub fn set_active(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    active: bool,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if store::standing_orders::set_active(conn, buyer_id, id, active, now)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Soft delete: purchases and deliveries keep pointing at the order.
pub fn delete(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if store::standing_orders::delete(conn, buyer_id, id, now)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A new signing secret; the old one stops signing at once.
pub fn rotate_secret(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let secret = new_secret();
    if store::standing_orders::set_secret(conn, buyer_id, id, &secret, now)? {
        Ok(secret)
    } else {
        Err(AppError::NotFound)
    }
}

pub fn get(
    conn: &mut AnyConnection,
    buyer_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<OrderView, AppError> {
    let row = store::standing_orders::find_for_buyer(conn, buyer_id, id)?;
    view(conn, row, now)
}

pub fn list(
    conn: &mut AnyConnection,
    buyer_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<OrderView>, AppError> {
    store::standing_orders::list_for_buyer(conn, buyer_id)?
        .into_iter()
        .map(|row| view(conn, row, now))
        .collect()
}

/// The UTC bounds of the buyer's local day at `now`.
fn local_day_bounds(
    conn: &mut AnyConnection,
    buyer_id: &str,
    now: NaiveDateTime,
) -> Result<(NaiveDateTime, NaiveDateTime), AppError> {
    let zone = store::organisations::time_zone(conn, buyer_id)?;
    let tz = standing_order::parse_time_zone(&zone).unwrap_or(chrono_tz::UTC);
    let day = standing_order::local_day(now, tz);
    let start = |d: chrono::NaiveDate| {
        use chrono::TimeZone as _;
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone that skips midnight (DST) starts the day at the first valid moment.
        tz.from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(midnight + TimeDelta::hours(1)))
                    .earliest()
            })
            .map(|t| t.naive_utc())
            .unwrap_or(midnight)
    };
    let next = day.succ_opt().unwrap_or(day);
    Ok((start(day), start(next)))
}

fn view(
    conn: &mut AnyConnection,
    row: StandingOrderRow,
    now: NaiveDateTime,
) -> Result<OrderView, AppError> {
    let (from, to) = local_day_bounds(conn, &row.buyer_id, now)?;
    let today_count = store::standing_orders::purchases_between(conn, &row.id, from, to)?;
    let spent_cents = store::standing_orders::spent_cents(conn, &row.id)?;
    let active_hours = row.active_hours().map(|h| h.to_string());
    Ok(OrderView {
        budget_left_cents: row.budget_cents.map(|b| (b - spent_cents).max(0)),
        id: row.id,
        name: row.name,
        filter_query: row.filter_query,
        max_price_cents: row.max_price_cents,
        daily_cap: row.daily_cap,
        budget_cents: row.budget_cents,
        deliver_email: row.deliver_email,
        callback_url: row.callback_url,
        active: row.active,
        active_hours,
        today_count,
        spent_cents,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The API's `"filter": {...}` object (the catalogue's names as keys) as the stored
/// query string; a repeatable filter (`warmth`) may be an array.
pub fn filter_query_from_json(filter: &serde_json::Value) -> Result<String, AppError> {
    use serde_json::Value;
    let obj = match filter {
        Value::Null => return Ok(String::new()),
        Value::Object(o) => o,
        _ => {
            return Err(AppError::invalid(
                "filter",
                "must be an object of catalogue filters",
            ));
        }
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for (k, v) in obj {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    match scalar(item) {
                        Some(s) => pairs.push((k.clone(), s)),
                        None => problems.push(FieldProblem::new(
                            format!("filter.{k}"),
                            "must be a string, a number or a list of them",
                        )),
                    }
                }
            }
            other => match scalar(other) {
                Some(s) => pairs.push((k.clone(), s)),
                None => problems.push(FieldProblem::new(
                    format!("filter.{k}"),
                    "must be a string, a number or a list of them",
                )),
            },
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    serde_urlencoded::to_string(&pairs).map_err(AppError::internal)
}

/// The stored query string as the API's object: numbers and flags typed, `warmth` a list.
pub fn filter_json(query: &str) -> serde_json::Value {
    use serde_json::{Map, Value};
    const NUMBERS: [&str; 7] = [
        "age_min",
        "age_max",
        "income_min_cents",
        "income_max_cents",
        "min_score",
        "max_price_cents",
        "max_age_days",
    ];
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut out = Map::new();
    for (k, v) in pairs {
        if k == "warmth" {
            let list = out.entry(k).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.to_string())),
                );
            }
            continue;
        }
        let value = if NUMBERS.contains(&k.as_str()) {
            v.trim()
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(v))
        } else if matches!(k.as_str(), "verified" | "exclusive") {
            match v.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(v),
            }
        } else {
            Value::String(v)
        };
        out.insert(k, value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_filter_becomes_the_stored_query_and_back() {
        let json = serde_json::json!({"segment": "travel", "age_min": 25, "warmth": ["warm", "hot"], "verified": true});
        let q = filter_query_from_json(&json).unwrap();
        assert!(RawFilter::from_query(&q).is_ok(), "{q}");
        assert_eq!(filter_json(&q), json);
        assert!(filter_query_from_json(&serde_json::json!("segment=travel")).is_err());
    }

    #[test]
    fn every_problem_of_a_draft_is_named_by_its_field() {
        let draft = Draft {
            name: " ".into(),
            filter_query: "age_min=5&sort=price".into(),
            max_price_cents: -1,
            daily_cap: Some(0),
            budget_cents: Some(-5),
            deliver_email: Some("not-an-email".into()),
            callback_url: Some("ftp://example.com/".into()),
            active: true,
            active_hours: Some("25:00-26:00".into()),
        };
        let problems = validate(&draft, false).err().unwrap();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in [
            "name",
            "filter.sort",
            "filter.age_min",
            "max_price_cents",
            "daily_cap",
            "budget_cents",
            "deliver_email",
            "callback_url",
            "active_hours",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
    }
}
