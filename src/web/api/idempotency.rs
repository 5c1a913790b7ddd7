//! `Idempotency-Key`: the same key with the same body returns the first response; with
//! another body, 422.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::{ApiResult, AppError, FieldProblem};
use crate::store;

pub fn hash_body(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

fn key(req: &HttpRequest) -> ApiResult<Option<String>> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => {
            let k = v.to_str().unwrap_or("").trim().to_string();
            if k.is_empty() || k.len() > 200 {
                return Err(AppError::Validation(vec![FieldProblem::new(
                    "Idempotency-Key",
                    "must be 1-200 visible characters",
                )])
                .into());
            }
            Ok(Some(k))
        }
    }
}

fn respond(status: i32, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK))
        .content_type("application/json")
        .body(body)
}

/// Runs `work` once per key. `work` returns every business outcome (2xx, 409, 422) as a
/// status and body, which are stored; errors (auth, 500) are not stored and may be retried.
pub async fn once<F, Fut>(
    state: &AppState,
    org_id: &str,
    req: &HttpRequest,
    request_hash: String,
    work: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<(StatusCode, serde_json::Value)>>,
{
    let Some(key) = key(req)? else {
        let (status, body) = work().await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let (org, k) = (org_id.to_string(), key.clone());
    if let Some(stored) = state
        .db(move |conn| Ok(store::idempotency::find(conn, &org, &k)?))
        .await?
    {
        return replay(stored, &request_hash);
    }
    let (status, body) = work().await?;
    let text = body.to_string();
    let (org, k, h, t) = (
        org_id.to_string(),
        key.clone(),
        request_hash.clone(),
        text.clone(),
    );
    let saved = state
        .db(move |conn| {
            Ok(store::idempotency::save(
                conn,
                &org,
                &k,
                &h,
                i32::from(status.as_u16()),
                &t,
            )?)
        })
        .await;
    match saved {
        Ok(_) => Ok(respond(i32::from(status.as_u16()), text)),
        // A concurrent request with the same key stored its answer first: give that one.
        Err(AppError::Conflict { .. }) => {
            let (org, k) = (org_id.to_string(), key);
            match state
                .db(move |conn| Ok(store::idempotency::find(conn, &org, &k)?))
                .await?
            {
                Some(stored) => replay(stored, &request_hash),
                None => Ok(respond(i32::from(status.as_u16()), text)),
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn replay(
    stored: store::idempotency::StoredResponse,
    request_hash: &str,
) -> ApiResult<HttpResponse> {
    if stored.request_hash != request_hash {
        return Err(AppError::Validation(vec![FieldProblem::new(
            "Idempotency-Key",
            "was used before with a different body; use a new key for a new request",
        )])
        .into());
    }
    Ok(respond(stored.status_code, stored.body))
}
