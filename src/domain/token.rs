//! API access tokens: HS256 JWTs (the algorithm is pinned), short-lived, with issuer and
//! audience checked. The subject is the API key's organisation.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::secret::Secret;

/// The JWT settings the token rules need; config builds them from the environment.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Organisation id.
    pub sub: String,
    /// API key id, so a revoked key stops its tokens at once.
    pub kid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue(config: &JwtConfig, organisation_id: &str, api_key_id: &str, now_unix: i64) -> String {
    let claims = Claims {
        sub: organisation_id.to_string(),
        kid: api_key_id.to_string(),
        iss: config.issuer.clone(),
        aud: config.audience.clone(),
        iat: now_unix,
        exp: now_unix + config.ttl_seconds.min(900),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.secret.expose()),
    )
    .expect("HS256 encoding of plain claims cannot fail")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
}

/// Verifies signature, algorithm (HS256 only), expiry, issuer and audience.
pub fn verify(config: &JwtConfig, token: &str) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.leeway = 5;
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(config.secret.expose()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
        _ => TokenError::Invalid,
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn config() -> JwtConfig {
        JwtConfig {
            secret: Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()),
            issuer: "leadmarket".into(),
            audience: "leadmarket-api".into(),
            ttl_seconds: 900,
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_organisation() {
        let t = issue(&config(), "org-1", "key-1", now());
        let claims = verify(&config(), &t).unwrap();
        assert_eq!(claims.sub, "org-1");
        assert_eq!(claims.kid, "key-1");
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn expired_tokens_are_refused() {
        let t = issue(&config(), "org-1", "key-1", now() - 910);
        assert_eq!(verify(&config(), &t), Err(TokenError::Expired));
    }

    #[test]
    fn other_secret_issuer_or_audience_are_refused() {
        let t = issue(&config(), "org-1", "key-1", now());
        let mut other = config();
        other.secret = Secret::new(b"another-secret-another-secret-xx".to_vec());
        assert_eq!(verify(&other, &t), Err(TokenError::Invalid));
        let mut other = config();
        other.issuer = "someone-else".into();
        assert_eq!(verify(&other, &t), Err(TokenError::Invalid));
        let mut other = config();
        other.audience = "another-api".into();
        assert_eq!(verify(&other, &t), Err(TokenError::Invalid));
    }

    #[test]
    fn unsigned_and_other_algorithm_tokens_are_refused() {
        let t = issue(&config(), "org-1", "key-1", now());
        let payload = t.split('.').nth(1).unwrap();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
        ] {
            let forged = format!("{}.{}.", URL_SAFE_NO_PAD.encode(header), payload);
            assert_eq!(
                verify(&config(), &forged),
                Err(TokenError::Invalid),
                "{header}"
            );
        }
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &verify(&config(), &t).unwrap(),
            &EncodingKey::from_secret(config().secret.expose()),
        )
        .unwrap();
        assert_eq!(verify(&config(), &hs512), Err(TokenError::Invalid));
    }
}
