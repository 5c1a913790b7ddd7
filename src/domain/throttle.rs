//! Login throttling: the decision, given recent failure counts from the database.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    /// Too many failures; try again after the window.
    Block {
        retry_after_seconds: i64,
    },
}

/// `account_failures` and `ip_failures` count failed logins within the window.
pub fn decide(
    account_failures: i64,
    ip_failures: i64,
    max_failures: i64,
    window_seconds: i64,
) -> ThrottleDecision {
    if account_failures >= max_failures || ip_failures >= max_failures {
        ThrottleDecision::Block {
            retry_after_seconds: window_seconds,
        }
    } else {
        ThrottleDecision::Allow
    }
}

/// The account as the throttle stores it: a hash, so the attempts table holds no emails.
pub fn account_key(email_as_typed: &str) -> String {
    hex::encode(Sha256::digest(
        email_as_typed.trim().to_lowercase().as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_the_limit_per_account_or_per_ip() {
        assert_eq!(decide(4, 4, 5, 60), ThrottleDecision::Allow);
        assert_eq!(
            decide(5, 0, 5, 60),
            ThrottleDecision::Block {
                retry_after_seconds: 60
            }
        );
        assert_eq!(
            decide(0, 5, 5, 60),
            ThrottleDecision::Block {
                retry_after_seconds: 60
            }
        );
    }

    #[test]
    fn account_key_ignores_case_and_spaces_and_hides_the_email() {
        assert_eq!(
            account_key(" Ann@Example.com"),
            account_key("ann@example.com")
        );
        assert!(!account_key("ann@example.com").contains("ann"));
    }
}
