//! A standing order's deliveries through the API: the list, and "retry now" of a dead
//! one. Buyers see their own orders' deliveries only; another's answer 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiCaller, idempotency};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::deliveries;
use crate::store;
use crate::store::deliveries::DeliveryRow;

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub purchase_id: String,
    pub lead_id: String,
    /// `email | callback`
    pub channel: String,
    /// `pending | delivered | failed | dead`
    pub status: String,
    pub attempts: i32,
    /// The HTTP status of the last callback answer, if one came.
    pub last_status_code: Option<i32>,
    /// When it is tried next (pending or failed); null once delivered or dead.
    pub next_attempt_at: Option<String>,
    /// `lead.delivered | lead.erased`: what the delivery tells the buyer.
    pub event: String,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            purchase_id: d.purchase_id,
            lead_id: d.lead_id,
            channel: d.channel.to_string(),
            status: d.status.to_string(),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            event: d.event.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/standing-orders/{id}/deliveries", tag = "buyers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The standing order"), ListQuery),
    responses((status = 200, body = DeliveryList, description = "Newest first"), (status = 404, description = "Not one of the caller's orders")))]
pub async fn list(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be from 1 to 500").into());
    }
    let (buyer, order, cursor) = (
        caller.org_id.clone(),
        path.into_inner(),
        query.cursor.clone(),
    );
    let rows = state
        .db(move |conn| deliveries::list(conn, &buyer, &order, cursor.as_deref(), limit))
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: rows.into_iter().map(DeliveryView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/v1/standing-orders/{id}/deliveries/{delivery_id}/retry", tag = "buyers", security(("bearer" = [])),
    params(("id" = String, Path, description = "The standing order"), ("delivery_id" = String, Path, description = "A dead delivery of it")),
    responses((status = 200, body = DeliveryView, description = "Pending again, due now"), (status = 404, description = "Not one of the caller's deliveries"), (status = 409, description = "`not_dead`: only a dead delivery is retried")))]
pub async fn retry(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (order, id) = path.into_inner();
    let hash = idempotency::hash_body(&[b"retry", order.as_bytes(), id.as_bytes()]);
    let buyer = caller.org_id.clone();
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let d = worker
            .db(move |conn| deliveries::retry(conn, &buyer, &order, &id, store::now()))
            .await;
        if d.is_ok() {
            worker.wake_deliveries();
        }
        idempotency::answer(
            StatusCode::OK,
            d.and_then(|d| serde_json::to_value(DeliveryView::from(d)).map_err(AppError::internal)),
        )
    })
    .await
}
