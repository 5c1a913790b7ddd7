//! API keys: 256 random bits shown once, stored as a SHA-256 hash. The key's entropy makes
//! a slow hash unnecessary, and a fast one lets a key be looked up by its hash.

use rand::RngCore as _;
use sha2::{Digest, Sha256};

const PREFIX: &str = "lmk_";

/// A freshly generated key: `secret` is shown to the user once, never stored.
pub struct GeneratedKey {
    pub secret: String,
    /// First characters, stored to let people recognise a key in lists.
    pub display_prefix: String,
    pub hash: String,
}

pub fn generate() -> GeneratedKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    GeneratedKey {
        display_prefix: secret[..PREFIX.len() + 8].to_string(),
        hash: hash(&secret),
        secret,
    }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// Cheap shape check before touching the database.
pub fn looks_like_key(candidate: &str) -> bool {
    let c = candidate.trim();
    c.len() == PREFIX.len() + 64
        && c.starts_with(PREFIX)
        && c[PREFIX.len()..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_unique_and_hash_stably() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(looks_like_key(&a.secret));
        assert_eq!(hash(&a.secret), a.hash);
        assert_ne!(a.hash, b.hash);
        assert!(a.secret.starts_with(&a.display_prefix));
        assert!(!a.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn malformed_keys_are_spotted() {
        assert!(!looks_like_key("lmk_123"));
        assert!(!looks_like_key(&format!("xxx_{}", "a".repeat(64))));
        assert!(!looks_like_key(&format!("lmk_{}", "g".repeat(64))));
    }
}
