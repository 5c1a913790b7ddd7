//! Throttling of guesses (logins, API keys, postback tokens): the keys the counters are
//! stored under and the wait once a counter is full. The counting itself is in the
//! database (`store::throttle`), so every `serve` process shares it.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// The account as the throttle stores it: a hash, so no table holds the typed email.
pub fn account_key(email_as_typed: &str) -> String {
    hex::encode(Sha256::digest(
        email_as_typed.trim().to_lowercase().as_bytes(),
    ))
}

/// What is being throttled; each scope counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    LoginAccount,
    LoginAddress,
    TokenAddress,
    PostbackAddress,
    /// "Forgot password" requests, per account typed and per address: each request
    /// counts, so the form cannot be used to flood someone's mailbox.
    ResetAccount,
    ResetAddress,
    /// "My data" requests, per contact typed (its dedup key) and per address: each
    /// request counts, so the form can flood neither a mailbox nor the admins' queue.
    RightsContact,
    RightsAddress,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::LoginAccount => "login-account",
            Scope::LoginAddress => "login-address",
            Scope::TokenAddress => "token-address",
            Scope::PostbackAddress => "postback-address",
            Scope::ResetAccount => "reset-account",
            Scope::ResetAddress => "reset-address",
            Scope::RightsContact => "rights-contact",
            Scope::RightsAddress => "rights-address",
        }
    }
}

/// The counter's key: a hash of scope and value, so addresses are not stored either.
pub fn counter_key(scope: Scope, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(scope.as_str().as_bytes());
    h.update(b"\0");
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// Seconds until a full counter's window ends; at least one, so `Retry-After` never
/// says "now" to a client that is still blocked.
pub fn retry_after_seconds(
    window_start: NaiveDateTime,
    now: NaiveDateTime,
    window_seconds: i64,
) -> i64 {
    let ends = window_start + chrono::TimeDelta::seconds(window_seconds);
    // Rounded up: a client that waits exactly this long finds the window over.
    let ms = (ends - now).num_milliseconds();
    (ms + 999).div_euclid(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_key_ignores_case_and_spaces_and_hides_the_email() {
        assert_eq!(
            account_key(" Ann@Example.com"),
            account_key("ann@example.com")
        );
        assert!(!account_key("ann@example.com").contains("ann"));
    }

    #[test]
    fn counter_keys_differ_per_scope_and_hide_the_value() {
        let a = counter_key(Scope::TokenAddress, "203.0.113.9");
        assert_ne!(a, counter_key(Scope::PostbackAddress, "203.0.113.9"));
        assert_ne!(a, counter_key(Scope::TokenAddress, "203.0.113.10"));
        assert!(!a.contains("203"));
    }

    #[test]
    fn retry_after_counts_down_to_the_end_of_the_window_and_never_zero() {
        let start = chrono::DateTime::from_timestamp(1_000_000, 0)
            .unwrap()
            .naive_utc();
        let later = |s| start + chrono::TimeDelta::seconds(s);
        assert_eq!(retry_after_seconds(start, later(10), 60), 50);
        let a_bit_later = start + chrono::TimeDelta::milliseconds(10_200);
        assert_eq!(retry_after_seconds(start, a_bit_later, 60), 50);
        assert_eq!(retry_after_seconds(start, later(60), 60), 1);
        assert_eq!(retry_after_seconds(start, later(600), 60), 1);
    }
}
