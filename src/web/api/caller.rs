//! The API caller: an organisation, proven by a bearer JWT whose API key is still live.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::token::{self, TokenError};
use crate::error::{ApiError, AppError};
use crate::store;

#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub org_id: String,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub key_id: String,
}

impl ApiCaller {
    /// Refuses callers whose organisation is of another kind (403).
    pub fn require(&self, kind: OrgKind) -> Result<(), ApiError> {
        if self.org_kind == kind {
            Ok(())
        } else {
            Err(ApiError(AppError::Forbidden))
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState is not registered")))?;
            let token = token.ok_or_else(|| {
                AppError::Unauthorized(
                    "send `Authorization: Bearer <token>`; get a token at POST /api/v1/auth/token"
                        .into(),
                )
            })?;
            let claims = token::verify(&state.config().jwt, &token).map_err(|e| match e {
                TokenError::Expired => {
                    AppError::Unauthorized("the access token has expired; request a new one".into())
                }
                TokenError::Invalid => {
                    AppError::Unauthorized("the access token is not valid".into())
                }
            })?;
            let found = state
                .db(move |conn| {
                    Ok(
                        store::api_keys::active_key_org(conn, &claims.kid, &claims.sub)?
                            .map(|o| (o, claims.kid)),
                    )
                })
                .await?;
            let ((org_id, org_kind, org_name), key_id) = found.ok_or_else(|| {
                AppError::Unauthorized("the API key behind this token has been revoked".into())
            })?;
            Ok(ApiCaller {
                org_id,
                org_kind,
                org_name,
                key_id,
            })
        })
    }
}
