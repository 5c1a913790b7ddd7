//! `POST /api/v1/auth/token`: an API key in, a short-lived bearer token out.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::services::accounts;
use crate::web::client_ip;

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The key shown once when it was created (`lmk_...`).
    pub api_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires (at most 900).
    pub expires_in: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A bearer token for the key's organisation", body = TokenResponse),
        (status = 401, description = "Unknown or revoked API key"),
        (status = 422, description = "The body is missing `api_key`"),
        (status = 429, description = "Too many wrong keys from this address; see `Retry-After`"),
    )
)]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: super::json::Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let jwt = state.config().jwt.clone();
    let limits = state.config().api_auth_throttle.clone();
    let address = client_ip(&req, state.config().trust_proxy_headers);
    let key = body.into_inner().api_key;
    let token = state
        .db(move |conn| accounts::exchange_api_key(conn, &jwt, &limits, &key, &address))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token: token.token,
            token_type: "Bearer",
            expires_in: token.expires_in,
        }))
}
