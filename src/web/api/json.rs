//! JSON request bodies with the character rule of `domain::text` applied before the
//! handler sees them: `Json<T>` for extracted bodies, `parse` for handlers that read the
//! raw bytes themselves (idempotency hashes, optional bodies).

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::domain::text;
use crate::error::{ApiError, AppError};

/// Refuses a document holding a control character, naming the value's path.
pub fn check(value: &serde_json::Value) -> Result<(), AppError> {
    match text::json_refused(value) {
        Some((field, c)) => Err(AppError::invalid(field, text::problem(c))),
        None => Ok(()),
    }
}

/// A raw body as `T`, checked first. `what` completes "is not ..." when it does not
/// parse, e.g. "a purchase".
pub fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, AppError> {
    let invalid = |e: serde_json::Error| AppError::invalid("body", format!("is not {what}: {e}"));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    check(&value)?;
    serde_json::from_value(value).map_err(invalid)
}

/// `web::Json<T>` (same config, limits and error handler) plus the character rule.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            check(&value).map_err(ApiError)?;
            let parsed: Result<T, serde_json::Error> = serde_json::from_value(value);
            parsed.map(Json).map_err(|e| -> actix_web::Error {
                ApiError(AppError::invalid("body", e.to_string())).into()
            })
        })
    }
}
