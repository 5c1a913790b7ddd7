//! Sign-in session ids: 256 random bits in the (encrypted) cookie, stored only as a
//! SHA-256 hash, so the sessions table alone opens nothing.

use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// A new session: `secret` goes into the cookie, `hash` into the database.
pub struct NewSessionId {
    pub secret: String,
    pub hash: String,
}

pub fn generate() -> NewSessionId {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    NewSessionId {
        hash: hash(&secret),
        secret,
    }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_stored_only_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 64);
        assert_eq!(hash(&a.secret), a.hash);
        assert_ne!(a.hash, a.secret);
    }
}
