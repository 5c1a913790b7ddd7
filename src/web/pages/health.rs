//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use std::time::Duration;

use serde_json::json;

use crate::app::AppState;
use crate::db;

/// The process is up and answering.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long the probe waits for the database: orchestrators time out probes in a few
/// seconds, and an unreachable database must read as "not ready", not as a hang.
const READY_WAIT: Duration = Duration::from_secs(1);

/// The database answers and has every migration this binary expects.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let probe = web::block(move || db::check_ready(&pool, READY_WAIT));
    // A connection check can block on a dead network for longer than the pool's wait;
    // the answer must not.
    let check = match actix_web::rt::time::timeout(READY_WAIT * 3 / 2, probe).await {
        Ok(Ok(result)) => result,
        Ok(Err(blocking)) => Err(anyhow::anyhow!(blocking)),
        Err(_) => Err(anyhow::anyhow!("no answer within {READY_WAIT:?}")),
    };
    match check {
        Ok(true) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(false) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "reason": "migrations pending"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "not_ready", "reason": "database unreachable"}))
        }
    }
}
