//! Targeted orders through the API: buyers post, list, read and close theirs
//! (`/orders`); agencies list the open ones they may fill (`/orders/open`) and upload
//! targeted batches against one (`POST /batches` with `kind=targeted` and `order_id`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{ApiCaller, idempotency};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::problem::FieldProblem;
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::standing_orders::manage::{filter_json, filter_query_from_json};
use crate::services::targeted_orders::{self, OrderDraft};
use crate::store;
use crate::store::orders::OrderRow;

/// The body of `POST /orders`.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the body; the handler reads it field by field"
)]
pub struct OrderRequest {
    name: String,
    segment: Option<String>,
    /// Catalogue filters by their names, e.g. `{"country": "DE", "age_min": 30}`.
    #[schema(value_type = Object)]
    filter: Value,
    quantity: i64,
    /// Price per lead.
    price_cents: i64,
    /// RFC 3339: past it the order closes.
    deadline: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrderBody {
    pub id: String,
    pub name: String,
    pub segment: Option<String>,
    #[schema(value_type = Object)]
    pub filter: Value,
    pub quantity: i32,
    pub delivered: i32,
    pub remaining: i32,
    pub price_cents: i64,
    pub deadline: Option<String>,
    /// `open | closed`
    pub status: String,
    pub created_at: String,
}

impl OrderBody {
    fn new(o: OrderRow, now: chrono::NaiveDateTime) -> Self {
        Self {
            filter: filter_json(&o.filter_query),
            remaining: (o.quantity - o.delivered).max(0),
            status: o.status.at(o.deadline, now).to_string(),
            deadline: o.deadline.map(rfc3339),
            created_at: rfc3339(o.created_at),
            id: o.id,
            name: o.name,
            segment: o.segment,
            quantity: o.quantity,
            delivered: o.delivered,
            price_cents: o.price_cents,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderBody>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BuyerRef {
    pub id: String,
    pub name: String,
}

/// An open order as agencies see it.
#[derive(Serialize, ToSchema)]
pub struct OpenOrderBody {
    pub id: String,
    pub buyer: BuyerRef,
    pub name: String,
    pub segment: Option<String>,
    #[schema(value_type = Object)]
    pub filter: Value,
    pub quantity: i32,
    pub remaining: i32,
    pub price_cents: i64,
    pub deadline: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OpenOrderList {
    pub items: Vec<OpenOrderBody>,
    pub next_cursor: Option<String>,
}

fn draft(body: &[u8]) -> Result<OrderDraft, AppError> {
    let map: Map<String, Value> = super::json::parse(body, "an order")?;
    let mut problems = Vec::new();
    let mut d = OrderDraft::default();
    for (k, v) in &map {
        match k.as_str() {
            "name" => match v.as_str() {
                Some(s) => d.name = s.to_string(),
                None => problems.push(FieldProblem::new(k, "must be a string")),
            },
            "segment" => match v {
                Value::Null => {}
                Value::String(s) => d.segment = Some(s.clone()),
                _ => problems.push(FieldProblem::new(k, "must be a segment slug")),
            },
            "filter" => match filter_query_from_json(v) {
                Ok(q) => d.filter_query = q,
                Err(AppError::Validation(p)) => problems.extend(p),
                Err(e) => return Err(e),
            },
            "quantity" => match v.as_i64() {
                Some(q) => d.quantity = Some(q),
                None => problems.push(FieldProblem::new(k, "must be a whole number")),
            },
            "price_cents" => match v.as_i64() {
                Some(q) => d.price_cents = Some(q),
                None => problems.push(FieldProblem::new(
                    k,
                    "must be a whole number of minor units",
                )),
            },
            "deadline" => match v
                .as_str()
                .and_then(crate::domain::intake::row::parse_timestamp)
            {
                Some(t) => d.deadline = Some(t),
                None => problems.push(FieldProblem::new(k, "must be an RFC 3339 time")),
            },
            _ => problems.push(FieldProblem::new(k, "is not a field of an order")),
        }
    }
    if problems.is_empty() {
        Ok(d)
    } else {
        Err(AppError::Validation(problems))
    }
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "buyers", security(("bearer" = [])),
    request_body = OrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses((status = 201, body = OrderBody, description = "`{id, status: \"open\", ...}`"), (status = 403, description = "Not a buyer"), (status = 422, description = "Every problem listed")))]
pub async fn create(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let d = draft(&raw)?;
    let hash = idempotency::hash_body(&[b"order", &raw]);
    let buyer = caller.org_id.clone();
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let made = worker
            .db(move |conn| {
                let now = store::now();
                targeted_orders::create(conn, &buyer, &d, now).map(|o| (o, now))
            })
            .await;
        idempotency::answer(
            StatusCode::CREATED,
            made.and_then(|(o, now)| {
                serde_json::to_value(OrderBody::new(o, now)).map_err(AppError::internal)
            }),
        )
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = OrderList, description = "The buyer's orders, newest first")))]
pub async fn list(caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let buyer = caller.org_id.clone();
    let (rows, now) = state
        .db(move |conn| {
            let now = store::now();
            Ok((targeted_orders::list(conn, &buyer, now)?, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrderList {
        items: rows.into_iter().map(|o| OrderBody::new(o, now)).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "buyers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderBody), (status = 404, description = "Not one of the caller's orders")))]
pub async fn get(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    let (o, now) = state
        .db(move |conn| {
            let now = store::now();
            Ok((targeted_orders::get(conn, &buyer, &id, now)?, now))
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrderBody::new(o, now)))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/close", tag = "buyers", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderBody), (status = 404, description = "Not one of the caller's orders"), (status = 409, description = "`order_closed`: closed already")))]
pub async fn close(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let id = path.into_inner();
    let hash = idempotency::hash_body(&[b"close-order", id.as_bytes()]);
    let buyer = caller.org_id.clone();
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let closed = worker
            .db(move |conn| {
                let now = store::now();
                targeted_orders::close(conn, &buyer, &id, now).map(|o| (o, now))
            })
            .await;
        idempotency::answer(
            StatusCode::OK,
            closed.and_then(|(o, now)| {
                serde_json::to_value(OrderBody::new(o, now)).map_err(AppError::internal)
            }),
        )
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/orders/open", tag = "agencies", security(("bearer" = [])),
    responses((status = 200, body = OpenOrderList, description = "Buyers' open targeted orders, soonest deadline first")))]
pub async fn open(caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let rows = state
        .db(move |conn| targeted_orders::open_orders(conn, store::now()))
        .await?;
    Ok(HttpResponse::Ok().json(OpenOrderList {
        items: rows
            .into_iter()
            .map(|(o, buyer_name)| OpenOrderBody {
                filter: filter_json(&o.filter_query),
                remaining: (o.quantity - o.delivered).max(0),
                deadline: o.deadline.map(rfc3339),
                buyer: BuyerRef {
                    id: o.buyer_id,
                    name: buyer_name,
                },
                id: o.id,
                name: o.name,
                segment: o.segment,
                quantity: o.quantity,
                price_cents: o.price_cents,
            })
            .collect(),
        next_cursor: None,
    }))
}
