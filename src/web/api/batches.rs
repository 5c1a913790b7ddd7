//! `GET /api/v1/batches/{id}`: a batch's status and counts, for its agency only.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiCaller;
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::error::{ApiResult, AppError};
use crate::store;

#[derive(Serialize, ToSchema)]
pub struct BatchStatus {
    pub id: String,
    /// `processing`, `done` or `failed`.
    pub status: String,
    pub rows_total: i32,
    pub rows_done: i32,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub suppressed: i32,
    /// Visitors the agency reported for the batch, if it did.
    pub traffic: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id (UUID)")),
    responses(
        (status = 200, body = BatchStatus),
        (status = 403, description = "The caller is not an agency"),
        (status = 404, description = "No such batch of the caller's"),
    ))]
pub async fn get_batch(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let id = path.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::NotFound.into());
    }
    let batch = state
        .db(move |conn| {
            store::batches::find_for_agency(conn, &caller.org_id, &id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(BatchStatus {
        id: batch.id,
        status: batch.status.to_string(),
        rows_total: batch.rows_total,
        rows_done: batch.rows_done,
        accepted: batch.accepted,
        rejected: batch.rejected,
        duplicates: batch.duplicates,
        suppressed: batch.suppressed,
        traffic: batch.traffic,
    }))
}
