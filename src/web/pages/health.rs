//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection as _;
use serde_json::json;

use crate::app::AppState;
use crate::db;
use crate::error::AppError;

/// The process is up and answering.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers and has every migration this binary expects.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let check = state
        .db(|conn| {
            conn.batch_execute("SELECT 1")?;
            db::migrations_current(conn).map_err(AppError::internal)
        })
        .await;
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
