//! Database queries per aggregate. Every function takes `&mut AnyConnection`; callers own
//! the transaction (see `db::write_transaction`). Row types live here and never leave
//! for a page or an API body without being turned into a view type first.

pub mod api_keys;
pub mod batches;
pub mod billing;
pub mod disputes;
pub mod idempotency;
pub mod intake;
pub mod leads;
pub mod login_attempts;
pub mod market;
pub mod once_keys;
pub mod orders;
pub mod organisations;
pub mod outbox;
pub mod reference;
pub mod sessions;
pub mod throttle;
pub mod users;

/// Time-ordered (v7) UUIDs: new rows land at the end of primary-key indexes instead of
/// at random places, which keeps bulk inserts cheap on both backends.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Current UTC time at microsecond precision, as both backends store it.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(t, chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}
