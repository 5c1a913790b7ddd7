//! De-duplication keys: normalised contact values, hashed so they can be indexed and
//! compared (and kept on the suppression list) without holding the contact itself.

use sha2::{Digest, Sha256};

/// Domains whose mailboxes ignore dots and `+tags` in the local part.
const GMAIL_STYLE: &[&str] = &["gmail.com", "googlemail.com"];

/// Lower-cases the address; for gmail-style domains drops dots and the `+tag`.
pub fn normalise_email(email: &str) -> String {
    let lower = email.trim().to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower;
    };
    if GMAIL_STYLE.contains(&domain) {
        let base = local.split('+').next().unwrap_or(local).replace('.', "");
        format!("{base}@gmail.com")
    } else {
        lower
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn email_key(email: &str) -> String {
    sha256_hex(&format!("email:{}", normalise_email(email)))
}

/// `phone_e164` must already be in E.164 (`+` and digits).
pub fn phone_key(phone_e164: &str) -> String {
    sha256_hex(&format!("phone:{}", phone_e164.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_style_addresses_collapse() {
        assert_eq!(
            normalise_email("Ann.Lee+promo@GMail.com"),
            "annlee@gmail.com"
        );
        assert_eq!(
            normalise_email("ann.lee@googlemail.com"),
            "annlee@gmail.com"
        );
        assert_eq!(
            email_key("annlee@gmail.com"),
            email_key("A.nn.Lee+x@gmail.com")
        );
    }

    #[test]
    fn other_domains_keep_dots_and_tags() {
        assert_eq!(
            normalise_email("Ann.Lee+x@Example.com"),
            "ann.lee+x@example.com"
        );
        assert_ne!(
            email_key("ann.lee@example.com"),
            email_key("annlee@example.com")
        );
    }

    proptest::proptest! {
        #[test]
        fn normalising_never_panics_and_is_idempotent(email in "\\PC{0,60}") {
            let once = normalise_email(&email);
            proptest::prop_assert_eq!(normalise_email(&once), once.clone());
            let _ = email_key(&email);
            let _ = phone_key(&email);
        }

        #[test]
        fn gmail_dots_and_tags_never_change_the_key(local in "[a-z]{1,8}", dots in 0usize..4, tag in "[a-z0-9]{0,6}") {
            let mut dotted = local.clone();
            for i in 0..dots.min(local.len().saturating_sub(1)) {
                dotted.insert(i * 2 + 1, '.');
            }
            let tagged = if tag.is_empty() { dotted } else { format!("{dotted}+{tag}") };
            proptest::prop_assert_eq!(email_key(&format!("{local}@gmail.com")), email_key(&format!("{tagged}@GMail.com")));
        }
    }

    #[test]
    fn keys_are_hashes_not_contacts() {
        let k = phone_key("+447911123456");
        assert_eq!(k.len(), 64);
        assert!(!k.contains("7911123456"));
        assert_ne!(phone_key("+447911123456"), email_key("+447911123456"));
    }
}
