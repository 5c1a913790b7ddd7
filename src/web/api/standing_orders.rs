//! Standing orders through the API: a buyer's saved criteria that buy as leads arrive.
//! The secret that signs an order's callbacks is in the 201 and in rotate's answer only.

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
use crate::services::standing_orders::OrderView;
use crate::services::standing_orders::manage::{self, Draft};
use crate::store;

/// The body of `POST` (and, any subset of it, `PATCH`).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documents the body; handlers read it field by field"
)]
pub struct StandingOrderRequest {
    name: String,
    /// Catalogue filters by their names, e.g. `{"segment": "insurance.car", "country": "DE", "warmth": ["hot"]}`.
    #[schema(value_type = Object)]
    filter: Value,
    /// The most it pays for one lead; it pays the lead's price.
    max_price_cents: i64,
    /// Leads per day in the buyer's time zone; null: no cap.
    daily_cap: Option<i64>,
    /// Total spend; null: no budget.
    budget_cents: Option<i64>,
    deliver_email: Option<String>,
    /// `https://` to a public address.
    callback_url: Option<String>,
    /// Default true.
    active: Option<bool>,
    /// `08:00-18:00` in the buyer's time zone; null: all day.
    active_hours: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StandingOrderBody {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub filter: Value,
    pub max_price_cents: i64,
    pub daily_cap: Option<i32>,
    pub budget_cents: Option<i64>,
    pub deliver_email: Option<String>,
    pub callback_url: Option<String>,
    pub active: bool,
    pub active_hours: Option<String>,
    /// Leads bought today in the buyer's time zone.
    pub today_count: i64,
    pub spent_cents: i64,
    pub budget_left_cents: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Only in the answer that made or rotated it: signs the callbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl StandingOrderBody {
    fn new(o: OrderView, secret: Option<String>) -> Self {
        Self {
            filter: manage::filter_json(&o.filter_query),
            created_at: rfc3339(o.created_at),
            updated_at: rfc3339(o.updated_at),
            id: o.id,
            name: o.name,
            max_price_cents: o.max_price_cents,
            daily_cap: o.daily_cap,
            budget_cents: o.budget_cents,
            deliver_email: o.deliver_email,
            callback_url: o.callback_url,
            active: o.active,
            active_hours: o.active_hours,
            today_count: o.today_count,
            spent_cents: o.spent_cents,
            budget_left_cents: o.budget_left_cents,
            secret,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StandingOrderList {
    pub items: Vec<StandingOrderBody>,
    /// Always null: a buyer's orders come in one page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretBody {
    pub id: String,
    pub secret: String,
}

/// One field of a body, parsed.
enum Change {
    Name(String),
    Filter(String),
    MaxPrice(i64),
    DailyCap(Option<i64>),
    Budget(Option<i64>),
    Email(Option<String>),
    Callback(Option<String>),
    Active(bool),
    Hours(Option<String>),
}

/// The body's fields, each checked for its JSON type; every problem listed.
fn changes(body: &[u8]) -> Result<Vec<Change>, AppError> {
    let map: Map<String, Value> = super::json::parse(body, "a standing order")?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut bad = |field: &str, problem: &str| {
        problems.push(FieldProblem::new(field, problem));
    };
    let int = |v: &Value| v.as_i64();
    let text = |v: &Value| v.as_str().map(str::to_string);
    for (k, v) in &map {
        let null = v.is_null();
        match k.as_str() {
            "name" => match text(v) {
                Some(s) => out.push(Change::Name(s)),
                None => bad(k, "must be a string"),
            },
            "filter" => match manage::filter_query_from_json(v) {
                Ok(q) => out.push(Change::Filter(q)),
                Err(AppError::Validation(p)) => {
                    for p in p {
                        bad(&p.field, &p.problem);
                    }
                }
                Err(e) => return Err(e),
            },
            "max_price_cents" => match int(v) {
                Some(n) => out.push(Change::MaxPrice(n)),
                None => bad(k, "must be a whole number of minor units"),
            },
            "daily_cap" => match (null, int(v)) {
                (true, _) => out.push(Change::DailyCap(None)),
                (_, Some(n)) => out.push(Change::DailyCap(Some(n))),
                _ => bad(k, "must be a whole number or null"),
            },
            "budget_cents" => match (null, int(v)) {
                (true, _) => out.push(Change::Budget(None)),
                (_, Some(n)) => out.push(Change::Budget(Some(n))),
                _ => bad(k, "must be a whole number of minor units or null"),
            },
            "deliver_email" | "callback_url" | "active_hours" => {
                let value = match (null, text(v)) {
                    (true, _) => None,
                    (_, Some(s)) => Some(s),
                    _ => {
                        bad(k, "must be a string or null");
                        continue;
                    }
                };
                out.push(match k.as_str() {
                    "deliver_email" => Change::Email(value),
                    "callback_url" => Change::Callback(value),
                    _ => Change::Hours(value),
                });
            }
            "active" => match v.as_bool() {
                Some(b) => out.push(Change::Active(b)),
                None => bad(k, "must be true or false"),
            },
            // Read-only fields a client may send back unchanged.
            "id" | "today_count" | "spent_cents" | "budget_left_cents" | "created_at"
            | "updated_at" => {}
            _ => bad(k, "is not a field of a standing order"),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(problems))
    }
}

fn apply(changes: Vec<Change>, d: &mut Draft) {
    for c in changes {
        match c {
            Change::Name(v) => d.name = v,
            Change::Filter(v) => d.filter_query = v,
            Change::MaxPrice(v) => d.max_price_cents = v,
            Change::DailyCap(v) => d.daily_cap = v,
            Change::Budget(v) => d.budget_cents = v,
            Change::Email(v) => d.deliver_email = v,
            Change::Callback(v) => d.callback_url = v,
            Change::Active(v) => d.active = v,
            Change::Hours(v) => d.active_hours = v,
        }
    }
}

fn json(body: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(body).map_err(AppError::internal)
}

#[utoipa::path(get, path = "/api/v1/standing-orders", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = StandingOrderList, description = "The buyer's standing orders, newest first")))]
pub async fn list(caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let buyer = caller.org_id.clone();
    let orders = state
        .db(move |conn| manage::list(conn, &buyer, store::now()))
        .await?;
    Ok(HttpResponse::Ok().json(StandingOrderList {
        items: orders
            .into_iter()
            .map(|o| StandingOrderBody::new(o, None))
            .collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/standing-orders", tag = "buyers", security(("bearer" = [])),
    request_body = StandingOrderRequest,
    responses(
        (status = 201, body = StandingOrderBody, description = "Made; `secret` is shown this once"),
        (status = 422, description = "Every refused field, e.g. a callback to a private address"),
    ))]
pub async fn create(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let parsed = changes(&body);
    let hash = idempotency::hash_body(&[b"standing-order", &body]);
    let allow_private = state.config().callback_allow_private;
    let buyer = caller.org_id.clone();
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let made = async {
            let mut draft = Draft {
                active: true,
                max_price_cents: -1,
                ..Draft::default()
            };
            let parsed = parsed?;
            let priced = parsed.iter().any(|c| matches!(c, Change::MaxPrice(_)));
            apply(parsed, &mut draft);
            if !priced {
                return Err(AppError::invalid("max_price_cents", "is required"));
            }
            worker
                .db(move |conn| manage::create(conn, allow_private, &buyer, &draft, store::now()))
                .await
        }
        .await;
        idempotency::answer(
            StatusCode::CREATED,
            made.and_then(|c| json(StandingOrderBody::new(c.order, Some(c.secret)))),
        )
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/standing-orders/{id}", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = StandingOrderBody), (status = 404, description = "Not one of the caller's orders")))]
pub async fn get(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    let order = state
        .db(move |conn| manage::get(conn, &buyer, &id, store::now()))
        .await?;
    Ok(HttpResponse::Ok().json(StandingOrderBody::new(order, None)))
}

#[utoipa::path(patch, path = "/api/v1/standing-orders/{id}", tag = "buyers", security(("bearer" = [])),
    request_body(content = StandingOrderRequest, description = "Any of the fields; the rest stay"),
    responses((status = 200, body = StandingOrderBody), (status = 404, description = "Not one of the caller's orders"), (status = 422, description = "Every refused field")))]
pub async fn update(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let parsed = changes(&body)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    let allow_private = state.config().callback_allow_private;
    let order = state
        .db(move |conn| {
            manage::update(
                conn,
                allow_private,
                &buyer,
                &id,
                |d| apply(parsed, d),
                store::now(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(StandingOrderBody::new(order, None)))
}

#[utoipa::path(delete, path = "/api/v1/standing-orders/{id}", tag = "buyers", security(("bearer" = [])),
    responses((status = 204, description = "Deleted: it buys no more; its purchases stay"), (status = 404, description = "Not one of the caller's orders")))]
pub async fn delete(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    state
        .db(move |conn| manage::delete(conn, &buyer, &id, store::now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/standing-orders/{id}/secret", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = SecretBody, description = "The new secret, shown this once; the old one stops signing"), (status = 404, description = "Not one of the caller's orders")))]
pub async fn rotate_secret(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    let hash = idempotency::hash_body(&[b"rotate", id.as_bytes(), &body]);
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let rotated = worker
            .db(move |conn| {
                let secret = manage::rotate_secret(conn, &buyer, &id, store::now())?;
                Ok(SecretBody { id, secret })
            })
            .await;
        idempotency::answer(StatusCode::OK, rotated.and_then(json))
    })
    .await
}
