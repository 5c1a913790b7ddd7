//! Throttling of guessed secrets (passwords, API keys, postback tokens). A slot is taken
//! *before* the secret is checked and given back when the secret was right, so however
//! many guesses arrive at once, at most the limit of them are ever checked.

use crate::config::LoginThrottle;
use crate::db::AnyConnection;
use crate::domain::throttle::{Scope, counter_key};
use crate::error::AppError;
use crate::store;

/// Takes a slot under every key, each with its own limit. `Some(seconds)` when one of
/// them is full; the slots already taken are given back then, so one full counter does
/// not fill the others.
pub fn take_all(
    conn: &mut AnyConnection,
    window_seconds: i64,
    keys: &[(String, i64)],
) -> diesel::QueryResult<Option<i64>> {
    let now = store::now();
    for (i, (key, limit)) in keys.iter().enumerate() {
        if let Some(wait) = store::throttle::take(conn, key, now, window_seconds, *limit)? {
            let taken: Vec<String> = keys[..i].iter().map(|(k, _)| k.clone()).collect();
            release_all(conn, &taken)?;
            return Ok(Some(wait));
        }
    }
    Ok(None)
}

pub fn release_all(conn: &mut AnyConnection, keys: &[String]) -> diesel::QueryResult<()> {
    for key in keys {
        store::throttle::release(conn, key)?;
    }
    Ok(())
}

/// Runs `check` of a secret sent from `address` under the address's counter of `scope`:
/// 429 once the window holds the limit of failures; an `Unauthorized` answer counts as
/// a failure, anything else does not.
pub fn guard_secret<T>(
    conn: &mut AnyConnection,
    limits: &LoginThrottle,
    scope: Scope,
    address: &str,
    check: impl FnOnce(&mut AnyConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let keys = [counter_key(scope, address)];
    let limited = [(keys[0].clone(), limits.max_failures)];
    if let Some(retry_after_seconds) = take_all(conn, limits.window_seconds, &limited)? {
        return Err(AppError::TooManyRequests {
            retry_after_seconds,
        });
    }
    let outcome = check(conn);
    if !matches!(outcome, Err(AppError::Unauthorized(_))) {
        release_all(conn, &keys)?;
    }
    outcome
}
