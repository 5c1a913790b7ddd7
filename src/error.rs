//! The one application error. Pages render it as a friendly HTML page (in
//! `web::error_page`: rendering is the web layer's); `/api` handlers wrap it in
//! `ApiError`, which renders api.md's JSON shape. Causes are logged once, when the
//! response is built, and users only ever see a stable code and a message, never SQL or
//! a backtrace.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

// The domain owns the problem type so it needs nothing of `error`; re-exported for
// every caller that names it here.
pub use crate::domain::problem::FieldProblem;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("{0}")]
    Unauthorized(String),
    #[error("login required")]
    LoginRequired { next: Option<String> },
    #[error("the form has expired or did not come from this site")]
    CsrfRejected,
    #[error("{0}")]
    BadRequest(String),
    #[error("the input is not valid")]
    Validation(Vec<FieldProblem>),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Unsellable {
        message: String,
        details: Vec<FieldProblem>,
    },
    #[error("not enough credit: {available_cents} minor units available, {needed_cents} needed")]
    InsufficientCredit {
        available_cents: i64,
        needed_cents: i64,
    },
    #[error("Too many attempts. Try again in {retry_after_seconds} seconds.")]
    TooManyRequests { retry_after_seconds: i64 },
    #[error("the service is busy; try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// A deadlock or serialisation failure, which PostgreSQL resolves by rolling one
    /// transaction back: the same work, run again, may well succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, AppError::Internal(inner)
            if inner.downcast_ref::<diesel::result::Error>().is_some_and(crate::db::is_transient))
    }

    /// One refused field: the common case of `Validation`, spelt once.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Validation(vec![FieldProblem::new(field, problem)])
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::Unauthorized(_) | AppError::LoginRequired { .. } => "unauthorized",
            AppError::CsrfRejected => "csrf_rejected",
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation(_) => "invalid_input",
            AppError::Conflict { code, .. } => code,
            AppError::Unsellable { .. } => "not_available",
            AppError::InsufficientCredit { .. } => "insufficient_credit",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::Unavailable => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } | AppError::Unsellable { .. } => StatusCode::CONFLICT,
            AppError::InsufficientCredit { .. } => StatusCode::PAYMENT_REQUIRED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a user may read.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "There is nothing here, or it is not yours to see.".into(),
            AppError::Internal(_) => {
                "Something went wrong on our side. It has been logged; please try again.".into()
            }
            other => other.to_string(),
        }
    }

    /// Which fields were refused, for the page or the JSON body.
    pub fn details(&self) -> Vec<FieldProblem> {
        match self {
            AppError::Validation(problems)
            | AppError::Unsellable {
                details: problems, ..
            } => problems.clone(),
            _ => Vec::new(),
        }
    }

    /// Logs the cause once; called by whatever renders the response.
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable => tracing::warn!("database pool exhausted"),
            _ => {}
        }
    }

    /// Adds `Retry-After` to a throttled answer.
    pub fn with_retry_after(&self, mut resp: HttpResponse) -> HttpResponse {
        if let AppError::TooManyRequests {
            retry_after_seconds,
        } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::Conflict {
                code: "conflict",
                message: "this already exists".into(),
            },
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection available");
        AppError::Unavailable
    }
}

/// `AppError` as `/api` renders it: `{"error": {"code", "message", "details"}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The API's error shape: `{"error": {"code", "message", "details"}}`.
pub fn error_body(code: &str, message: &str, details: &[FieldProblem]) -> serde_json::Value {
    serde_json::json!({"error": {"code": code, "message": message, "details": details}})
}

impl ApiError {
    /// The JSON body this error answers with.
    pub fn body(&self) -> serde_json::Value {
        error_body(self.0.code(), &self.0.public_message(), &self.0.details())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            // A missing login on the API is a 401, never a redirect.
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            ref e => e.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        self.0
            .with_retry_after(HttpResponse::build(self.status_code()).json(self.body()))
    }
}

pub type AppResult<T> = Result<T, AppError>;
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    #[actix_web::test]
    async fn api_errors_have_the_documented_shape_and_hide_internals() {
        let err = ApiError(AppError::internal(anyhow::anyhow!(
            "SELECT secret FROM users failed"
        )));
        let resp = err.error_response();
        assert_eq!(resp.status(), 500);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "internal");
        assert!(!String::from_utf8_lossy(&body).contains("SELECT"));
    }

    #[actix_web::test]
    async fn validation_errors_list_every_problem() {
        let err = ApiError(AppError::Validation(vec![
            FieldProblem::new("email", "is not valid"),
            FieldProblem::new("age", "must be 18-120"),
        ]));
        let resp = err.error_response();
        assert_eq!(resp.status(), 422);
        let json: serde_json::Value =
            serde_json::from_slice(&to_bytes(resp.into_body()).await.unwrap()).unwrap();
        assert_eq!(json["error"]["details"][1]["field"], "age");
    }

    #[test]
    fn database_not_found_is_404_and_pool_timeouts_are_503() {
        assert_eq!(
            AppError::from(diesel::result::Error::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            AppError::Unavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
