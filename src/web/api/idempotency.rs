//! `Idempotency-Key`: the same key with the same body returns the first response; with
//! another body, 422. The key is reserved before the work runs (its own short statement,
//! unique on organisation + key), so concurrent retries run the work once: a retry that
//! finds the key reserved but unanswered waits briefly for the answer, then gets 409
//! `request_in_progress`.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::db::Pool;
use crate::error::{ApiError, ApiResult, AppError};
use crate::store;

/// How long a retry waits for the first request's answer before answering 409.
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(25);
/// A reservation unanswered for this long belongs to a request whose process died: a
/// retry may take it over. Longer than any request runs (a large upload is stored
/// within its request).
const STALE_AFTER_MINUTES: i64 = 10;

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
                return Err(AppError::invalid(
                    "Idempotency-Key",
                    "must be 1-200 visible characters",
                )
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

/// A held reservation: released if the request ends without an answer (an internal
/// error, or the client went away and the handler was dropped), so a retry can run.
struct Reservation {
    pool: Pool,
    org_id: String,
    key: String,
    answered: bool,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let (pool, org, key) = (self.pool.clone(), self.org_id.clone(), self.key.clone());
        // Drop cannot await; a short thread frees the key without blocking this worker.
        std::thread::spawn(move || {
            if let Ok(mut conn) = pool.get()
                && let Err(e) = store::idempotency::release(&mut conn, &org, &key)
            {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        });
    }
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
    let started = Instant::now();
    loop {
        let (org, k, h) = (org_id.to_string(), key.clone(), request_hash.clone());
        let reserved = state
            .db(move |conn| Ok(store::idempotency::reserve(conn, &org, &k, &h)?))
            .await?;
        if reserved {
            break;
        }
        let (org, k) = (org_id.to_string(), key.clone());
        let Some(stored) = state
            .db(move |conn| Ok(store::idempotency::find(conn, &org, &k)?))
            .await?
        else {
            // Released by a request that failed meanwhile: try to reserve it again.
            continue;
        };
        if stored.request_hash != request_hash {
            return Err(reused_key());
        }
        if stored.status_code != store::idempotency::PENDING {
            return Ok(respond(stored.status_code, stored.body));
        }
        let stale_before = store::now() - chrono::TimeDelta::minutes(STALE_AFTER_MINUTES);
        if stored.created_at < stale_before {
            let (org, k, h) = (org_id.to_string(), key.clone(), request_hash.clone());
            let taken = state
                .db(move |conn| {
                    Ok(store::idempotency::take_over(
                        conn,
                        &org,
                        &k,
                        &h,
                        stale_before,
                    )?)
                })
                .await?;
            if taken {
                break;
            }
            continue;
        }
        if started.elapsed() >= WAIT_FOR_ANSWER {
            return Err(AppError::Conflict {
                code: "request_in_progress",
                message: "a request with this Idempotency-Key is still running; retry in a moment"
                    .into(),
            }
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
    let mut reservation = Reservation {
        pool: state.pool.clone(),
        org_id: org_id.to_string(),
        key: key.clone(),
        answered: false,
    };
    let (status, body) = work().await?;
    // The work is done: from here the key must never be freed for a second run.
    reservation.answered = true;
    let text = body.to_string();
    let code = i32::from(status.as_u16());
    let (org, k, t) = (org_id.to_string(), key, text.clone());
    state
        .db(move |conn| Ok(store::idempotency::complete(conn, &org, &k, code, &t)?))
        .await?;
    Ok(respond(code, text))
}

/// A use case's result as an answer to store under the key: refusals the same request
/// would meet again (404, 409, 402, 422) are answers like a success; other errors (5xx)
/// are not stored, so a retry runs again.
pub fn answer(
    status: StatusCode,
    result: Result<serde_json::Value, AppError>,
) -> ApiResult<(StatusCode, serde_json::Value)> {
    match result {
        Ok(body) => Ok((status, body)),
        Err(
            e @ (AppError::NotFound
            | AppError::Validation(_)
            | AppError::Conflict { .. }
            | AppError::Unsellable { .. }
            | AppError::InsufficientCredit { .. }),
        ) => Ok((e.status(), ApiError(e).body())),
        Err(e) => Err(e.into()),
    }
}

/// A JSON body read from raw bytes (kept for the request hash), refused as the JSON
/// extractor would refuse it (control characters included).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    Ok(super::json::parse(body, "a valid body for this call")?)
}

fn reused_key() -> ApiError {
    AppError::invalid(
        "Idempotency-Key",
        "was used before with a different body; use a new key for a new request",
    )
    .into()
}
