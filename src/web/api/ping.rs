//! Ping-post through the API: `POST /ping` (agencies), and the auction log `GET /pings`
//! and `GET /pings/{id}` (agencies their own, buyers the auctions they bid in, the
//! platform all). The post is `POST /leads` with `ping_id` (`intake`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::{ApiCaller, idempotency};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::ping::parse_ping;
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::ping::log::{PingView, Viewer};
use crate::services::ping::{self, PingAnswer};
use crate::store;

/// The body of `POST /ping`, for the API document; the handler reads it field by field.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the body; never built")]
pub struct PingRequest {
    segment: String,
    /// ISO 3166-1 alpha-2.
    country: String,
    region: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    age: i32,
    /// Major units, as in the lead CSV.
    annual_income: Option<String>,
    /// `cold | warm | hot`
    warmth: String,
    /// `quick | registration | promotional | interested`
    contact_type: String,
    verified: Option<bool>,
    channel: Option<String>,
    /// RFC 3339; default now.
    captured_at: Option<String>,
    /// The reserve: bids under it lose; a lone bidder pays it.
    price_cents: i64,
    /// Hex SHA-256 of `phone:<E.164>` (the dedup key): orders that bought this person
    /// before do not bid. Never the number itself.
    phone_hash: Option<String>,
    /// Hex SHA-256 of `email:<normalised address>`.
    email_hash: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PingOffer {
    /// Null when no order made an offer.
    pub ping_id: Option<String>,
    pub price_cents: Option<i64>,
    /// The offer holds until then (60 s): post the lead with `ping_id` before it.
    pub expires_at: Option<String>,
    /// `no_offer` when there is none.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/ping", tag = "agencies", security(("bearer" = [])),
    request_body = PingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses(
        (status = 200, body = PingOffer, description = "`{ping_id, price_cents, expires_at}` or `{ping_id: null, reason: \"no_offer\"}`"),
        (status = 403, description = "The caller is not an agency"),
        (status = 422, description = "Invalid fields, or contact data in the ping"),
    ))]
pub async fn create(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let body: Map<String, Value> = super::json::parse(&raw, "a ping")?;
    let hash = idempotency::hash_body(&[b"ping", &raw]);
    let agency = caller.org_id.clone();
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let answer = worker
            .db(move |conn| {
                let now = store::now();
                let known = crate::services::known::known(conn)?;
                let lead = parse_ping(&body, &known.reference.segments, &known.reference.channels, now)
                    .map_err(AppError::Validation)?;
                ping::ping(conn, &known, &agency, &lead, now)
            })
            .await;
        idempotency::answer(
            StatusCode::OK,
            answer.map(|a| match a {
                PingAnswer::Offer {
                    ping_id,
                    price_cents,
                    expires_at,
                } => json!({"ping_id": ping_id, "price_cents": price_cents, "expires_at": rfc3339(expires_at)}),
                PingAnswer::NoOffer { .. } => json!({"ping_id": null, "reason": "no_offer"}),
            }),
        )
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PingList {
    pub items: Vec<PingView>,
    pub next_cursor: Option<String>,
}

fn viewer(caller: &ApiCaller) -> Viewer<'_> {
    match caller.org_kind {
        OrgKind::Agency => Viewer::Agency(&caller.org_id),
        OrgKind::Buyer => Viewer::Buyer(&caller.org_id),
        OrgKind::Platform => Viewer::Platform,
    }
}

#[utoipa::path(get, path = "/api/v1/pings", tag = "agencies", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = PingList, description = "Newest first: an agency's pings with every bid; a buyer's auctions with its own bid and the outcome")))]
pub async fn list(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be from 1 to 500").into());
    }
    let cursor = query.cursor.clone();
    let me = caller.clone();
    let items = state
        .db(move |conn| ping::log::list(conn, viewer(&me), cursor.as_deref(), limit, store::now()))
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|p| p.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(PingList { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/pings/{id}", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Ping id")),
    responses((status = 200, body = PingView), (status = 404, description = "No such ping the caller may see")))]
pub async fn get(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let me = caller.clone();
    let view = state
        .db(move |conn| ping::log::one(conn, viewer(&me), &id, store::now()))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
