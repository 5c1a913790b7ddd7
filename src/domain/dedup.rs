//! De-duplication keys: normalised contact values, hashed so they can be indexed and
//! compared (and kept on the suppression list) without holding the contact itself.
//! A key is the 32 bytes of its SHA-256 digest, stored as such (BYTEA / BLOB): as
//! 64-character hex text every index entry was twice the size.

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

/// A dedup key, or any other digest kept as a look-up key: 32 bytes of SHA-256.
pub type Key = Vec<u8>;

/// Bytes in a key.
pub const KEY_BYTES: usize = 32;

fn sha256(s: &str) -> Key {
    Sha256::digest(s.as_bytes()).to_vec()
}

pub fn email_key(email: &str) -> Key {
    sha256(&format!("email:{}", normalise_email(email)))
}

/// `phone_e164` must already be in E.164 (`+` and digits).
pub fn phone_key(phone_e164: &str) -> Key {
    sha256(&format!("phone:{}", phone_e164.trim()))
}

/// The key of a form's client IP address, for the burst check.
pub fn ip_key(ip: &str) -> Key {
    sha256(&format!("ip:{}", ip.trim()))
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
        assert_eq!(k.len(), KEY_BYTES);
        assert!(!k.windows(10).any(|w| w == b"7911123456"));
        assert_ne!(phone_key("+447911123456"), email_key("+447911123456"));
        assert_ne!(ip_key("+447911123456"), phone_key("+447911123456"));
    }

    #[test]
    fn keys_are_the_digests_the_hex_keys_spelled() {
        // The migration to binary keys decoded the stored hex: the same input must still
        // give the same key, or every earlier lead would stop counting as a duplicate.
        assert_eq!(
            hex::encode(phone_key("+447911123456")),
            "459e521a2e9e7b460fa7229893466e048acfaadc3ca8931a55190f1c82537a97"
        );
        assert_eq!(
            hex::encode(email_key("Ann.Lee@GMail.com")),
            "f6d5b87900751b6439fc59155eaf8dba15af545695e9d400e2db403ff5348787"
        );
        assert_eq!(
            hex::encode(ip_key(" 10.0.0.1 ")),
            "9192d2b445b7375ee7a1d199ebe4ba25a7e7463321fd4ae38f2ec37bcd68ab69"
        );
    }
}
