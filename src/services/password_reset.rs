//! "Forgot password": a one-time link mailed to the account's address, valid for a short
//! time and stored only hashed; using it sets a new password and ends every session of
//! the account. Asking answers the same whether or not the account exists.

use chrono::{NaiveDateTime, TimeDelta};

use crate::config::{Config, LoginThrottle};
use crate::db::{AnyConnection, write_transaction};
use crate::domain::password::{self, NewPassword};
use crate::domain::throttle::{self, Scope};
use crate::domain::{Email, session};
use crate::error::AppError;
use crate::mail::{Email as _, PasswordReset};
use crate::services;
use crate::store;

/// How long a mailed link works.
pub const VALID_MINUTES: i64 = 30;

/// Mails a reset link when `email_as_typed` is an active account. Every request takes a
/// slot of the account's and the address's counters (never given back), so the answer
/// is 429 after too many, for accounts that exist and those that do not alike.
pub fn request(
    conn: &mut AnyConnection,
    config: &Config,
    email_as_typed: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let limits: &LoginThrottle = &config.login_throttle;
    let keys = [
        (
            throttle::counter_key(Scope::ResetAccount, &throttle::account_key(email_as_typed)),
            limits.max_failures,
        ),
        (
            throttle::counter_key(Scope::ResetAddress, address),
            limits.address_max_failures,
        ),
    ];
    if let Some(retry_after_seconds) =
        services::throttle::take_all(conn, limits.window_seconds, &keys)?
    {
        return Err(AppError::TooManyRequests {
            retry_after_seconds,
        });
    }
    let Ok(email) = email_as_typed.parse::<Email>() else {
        return Ok(());
    };
    write_transaction(conn, |conn| {
        let Some(user) = store::users::find_active_by_email(conn, email.as_str())? else {
            return Ok(());
        };
        let token = session::generate();
        store::password_resets::create(
            conn,
            &token.hash,
            &user.id,
            now,
            now + TimeDelta::minutes(VALID_MINUTES),
        )?;
        let mail = PasswordReset {
            seller_name: config.billing.seller_name.clone(),
            recipient_name: user.display_name.clone(),
            url: format!(
                "{}/password/reset?token={}",
                config.public_url.trim_end_matches('/'),
                token.secret
            ),
            valid_minutes: VALID_MINUTES,
        }
        .render()
        .map_err(AppError::internal)?;
        store::outbox::enqueue(
            conn,
            std::slice::from_ref(&user.email),
            mail.for_outbox(),
            now,
        )?;
        Ok(())
    })
}

fn link_refused() -> AppError {
    AppError::invalid(
        "token",
        "this link has expired or was used already; ask for a new one",
    )
}

/// Whether a mailed link still works (the page shows the form, or says to ask again).
pub fn link_is_live(
    conn: &mut AnyConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    Ok(store::password_resets::live_user(conn, &session::hash(token), now)?.is_some())
}

/// Sets the new password through a mailed link, once; every session of the account
/// ends (whoever knew the old password is signed out) and its other links stop working.
pub fn reset(
    conn: &mut AnyConnection,
    token: &str,
    new_password: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let new_password =
        NewPassword::parse(new_password).map_err(|e| AppError::invalid("password", e))?;
    let hash = session::hash(token);
    let hashed_password = password::hash(&new_password);
    write_transaction(conn, |conn| {
        let user_id =
            store::password_resets::live_user(conn, &hash, now)?.ok_or_else(link_refused)?;
        if !store::password_resets::use_once(conn, &hash, now)? {
            return Err(link_refused());
        }
        store::users::set_password_hash(conn, &user_id, &hashed_password)?;
        store::password_resets::use_all_for_user(conn, &user_id, now)?;
        services::accounts::end_all_sessions(conn, &user_id)?;
        Ok(())
    })
}
