//! Account email addresses: trimmed, lower-cased, syntax checked by `email_address`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let normalised = raw.trim().to_lowercase();
        if normalised.is_empty() {
            return Err("email is empty".into());
        }
        if normalised.len() > 254 {
            return Err("email is longer than 254 characters".into());
        }
        email_address::EmailAddress::from_str(&normalised)
            .map_err(|e| format!("email is not valid: {e}"))?;
        Ok(Self(normalised))
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            "  Ann@Example.COM ".parse::<Email>().unwrap().as_str(),
            "ann@example.com"
        );
        assert!("ann".parse::<Email>().is_err());
        assert!("ann@".parse::<Email>().is_err());
        assert!("".parse::<Email>().is_err());
        assert!(
            format!("{}@example.com", "a".repeat(250))
                .parse::<Email>()
                .is_err()
        );
    }
}
