//! Database queries per aggregate. Every function takes `&mut AnyConnection`; callers own
//! the transaction (see `db::write_transaction`). Row types live here and never leave
//! for a page or an API body without being turned into a view type first. Ledger entries
//! are written and read in `ledger` alone.
//!
//! A lookup by a unique key, or an aggregate, reads its one row with `get_result`, not
//! `first`: `first` binds `LIMIT 1`, and SQLite plans a bound limit as a constant, so the
//! statement was prepared again on every call (a twentieth of a ping's CPU). `first`
//! stays where the query may match many rows and the limit matters.

pub mod actions;
pub mod allocation;
pub mod api_keys;
pub mod audit;
pub mod batches;
pub mod billing_runs;
pub mod catalogue;
pub mod credit;
pub mod deliveries;
pub mod disputes;
pub mod erasure;
pub mod funnel;
pub mod idempotency;
pub mod intake;
pub mod invitations;
pub mod invoices;
pub mod lead_events;
pub mod leads;
pub mod ledger;
pub mod login_attempts;
pub mod once_keys;
pub mod orders;
pub mod organisations;
pub mod outbox;
pub mod password_resets;
pub mod payments;
pub mod pings;
pub mod planner_stats;
pub mod postback_tokens;
pub mod pricing;
pub mod purchases;
pub mod reference;
pub mod rights;
pub mod sessions;
pub mod settings;
pub mod standing_orders;
pub mod statements;
pub mod stripe_events;
pub mod throttle;
pub mod unapplied;
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

diesel::define_sql_function!(
    /// SQL `lower`, for case-insensitive search on both backends (PostgreSQL's LIKE is
    /// case-sensitive and ILIKE is its own).
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>
);

/// `%term%` for LIKE, with LIKE's own wildcards in the term taken literally (use with
/// `.escape('\\')`).
pub(crate) fn contains_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Runs an insert in its own (nested: savepoint) transaction: `false` when it hit a unique
/// key, so a lost race leaves the caller's transaction usable.
pub fn insert_unless_taken(
    conn: &mut crate::db::AnyConnection,
    insert: impl FnOnce(&mut crate::db::AnyConnection) -> diesel::QueryResult<usize>,
) -> diesel::QueryResult<bool> {
    match crate::db::write_transaction(conn, insert) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}
