//! Failure counters of the throttle, one row per key, in fixed windows. Each step is one
//! statement that is atomic on its own on both backends (PostgreSQL re-checks an
//! UPDATE's WHERE after waiting for the row; SQLite runs one writer at a time), so
//! concurrent guesses cannot all read "below the limit" and all pass.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::AnyConnection;
use crate::db::schema::throttle_counters as tc;
use crate::domain::throttle::retry_after_seconds;

/// Takes one slot of the key's window. `None`: taken, go ahead; `Some(seconds)`: the
/// window is full, try again after that many seconds.
pub fn take(
    conn: &mut AnyConnection,
    key_hash: &str,
    now: NaiveDateTime,
    window_seconds: i64,
    limit: i64,
) -> QueryResult<Option<i64>> {
    let opened_after = now - TimeDelta::seconds(window_seconds);
    // Another process may change the row between two statements; a few rounds settle it.
    for _ in 0..5 {
        let taken = diesel::update(
            tc::table
                .find(key_hash)
                .filter(tc::window_start.gt(opened_after))
                .filter(tc::failures.lt(limit)),
        )
        .set(tc::failures.eq(tc::failures + 1))
        .execute(conn)?;
        if taken == 1 {
            return Ok(None);
        }
        // An expired window starts afresh with this attempt.
        let restarted = diesel::update(
            tc::table
                .find(key_hash)
                .filter(tc::window_start.le(opened_after)),
        )
        .set((tc::window_start.eq(now), tc::failures.eq(1)))
        .execute(conn)?;
        if restarted == 1 {
            return Ok(None);
        }
        let row: Option<(NaiveDateTime, i64)> = tc::table
            .find(key_hash)
            .select((tc::window_start, tc::failures))
            .first(conn)
            .optional()?;
        match row {
            Some((start, failures)) if start > opened_after && failures >= limit => {
                return Ok(Some(retry_after_seconds(start, now, window_seconds)));
            }
            Some(_) => continue,
            None => {
                // A savepoint when nested, so a lost race does not abort the caller's
                // PostgreSQL transaction.
                let inserted = conn.transaction(|conn| {
                    diesel::insert_into(tc::table)
                        .values((
                            tc::key_hash.eq(key_hash),
                            tc::window_start.eq(now),
                            tc::failures.eq(1i64),
                        ))
                        .execute(conn)
                });
                match inserted {
                    Ok(_) => {
                        prune(conn, now)?;
                        return Ok(None);
                    }
                    Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    // Contended beyond reason: refusing is the safe answer.
    Ok(Some(window_seconds))
}

/// Gives a slot back: the attempt turned out not to be a failure.
pub fn release(conn: &mut AnyConnection, key_hash: &str) -> QueryResult<()> {
    diesel::update(tc::table.find(key_hash).filter(tc::failures.gt(0i64)))
        .set(tc::failures.eq(tc::failures - 1))
        .execute(conn)?;
    Ok(())
}

/// Windows are minutes long, so counters a day old are dead weight.
fn prune(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(tc::table.filter(tc::window_start.lt(now - TimeDelta::days(1))))
        .execute(conn)?;
    Ok(())
}
