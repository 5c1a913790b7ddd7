//! CSRF protection for form posts: a random token kept in the (encrypted) session and
//! echoed by every form as `csrf_token`. `CsrfForm<T>` refuses a post without the right
//! token before the handler runs, so a handler cannot forget the check.

use actix_session::{Session, SessionExt as _};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use rand::RngCore as _;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;

use crate::domain::text;
use crate::error::AppError;

const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(existing)) = session.get::<String>(SESSION_KEY) {
        return Ok(existing);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let fresh = hex::encode(bytes);
    session
        .insert(SESSION_KEY, &fresh)
        .map_err(AppError::internal)?;
    Ok(fresh)
}

/// A new token, after login, so one taken before sign-in is worthless after it.
pub fn rotate(session: &Session) -> Result<String, AppError> {
    session.remove(SESSION_KEY);
    token(session)
}

/// A fresh one-time token for a form that records money (`form_token`): the service
/// records the work with it once, so a double click or a resent form records once.
pub fn form_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn matches(sent: &str, expected: &str) -> bool {
    sent.len() == expected.len() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

/// Checks a token sent with a form (e.g. a multipart upload) against the session's.
pub fn verify(session: &Session, sent: Option<&str>) -> Result<(), AppError> {
    let expected = session.get::<String>(SESSION_KEY).ok().flatten();
    match (sent, expected) {
        (Some(sent), Some(expected)) if matches(sent, &expected) => Ok(()),
        _ => Err(AppError::CsrfRejected),
    }
}

/// A url-encoded form whose `csrf_token` matched the session's.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = web::Bytes::from_request(req, payload);
        // The handler's role check speaks first (see `auth::user_decided`).
        let user_decided = super::auth::user_decided(req);
        Box::pin(async move {
            let body = body.await;
            user_decided.await;
            let body = body.map_err(|_| {
                AppError::BadRequest("the form could not be read (is it too large?)".into())
            })?;
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            let sent = pairs
                .iter()
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v.as_str());
            verify(&session, sent)?;
            // Every form's one edge: no field may carry a control character (textareas
            // keep their line breaks and tabs), so none reaches the database.
            let fields = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            if let Some((field, c)) = text::pairs_refused(fields, text::TextKind::Free) {
                return Err(AppError::invalid(field, text::problem(c)));
            }
            serde_urlencoded::from_bytes(&body)
                .map(CsrfForm)
                .map_err(|e| AppError::BadRequest(format!("the form is not valid: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        assert!(matches("abc", "abc"));
        assert!(!matches("abd", "abc"));
        assert!(!matches("ab", "abc"));
        assert!(!matches("", "abc"));
    }
}
