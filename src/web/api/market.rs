//! Buyers' API: the catalogue (no contact data before sale), purchases, and the account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{ApiCaller, idempotency};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::catalogue::{self, RawFilter};
use crate::domain::time::rfc3339;
use crate::error::{ApiError, ApiResult, AppError, FieldProblem};
use crate::services::market;
use crate::store;

#[derive(Serialize, ToSchema)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
    /// Approved disputes per sale over the last 30 days (0.0 is best); null until the
    /// agency has enough sales to be rated.
    pub quality_score: Option<f64>,
}

/// A catalogue item: only what buyers filter on, never name, phone, email or street.
#[derive(Serialize, ToSchema)]
pub struct CatalogueItem {
    pub id: String,
    pub age: i32,
    pub income_band: Option<String>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_prefix: Option<String>,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    /// Soft pseudo-lead signals, e.g. `fast_form`.
    pub flags: Vec<String>,
    pub captured_at: String,
    /// The unit price for one lead, modifiers included.
    pub price_cents: i64,
    pub price_steps: Vec<crate::domain::pricing::Step>,
    /// `per_lead` (charged when bought) or `per_action` (charged per reported action).
    #[schema(value_type = String, example = "per_action")]
    pub billing: crate::domain::market::BillingModel,
    /// What each reported action costs, for `per_action` leads; null for `per_lead`.
    pub action_price_cents: Option<i64>,
    pub remaining_sales: i32,
    pub agency: AgencyRef,
}

#[derive(Serialize, ToSchema)]
pub struct CataloguePage {
    pub items: Vec<CatalogueItem>,
    /// How many leads match: exact up to 1,000 (the most one purchase takes); past
    /// that, 1,001 and `total_exact` false ("more than 1,000").
    pub total: i64,
    pub total_exact: bool,
    pub next_cursor: Option<String>,
}

impl From<market::CatalogueItem> for CatalogueItem {
    fn from(i: market::CatalogueItem) -> Self {
        Self {
            id: i.id,
            age: i.age,
            income_band: i.income_band,
            country: i.country,
            region: i.region,
            city: i.city,
            postal_prefix: i.postal_prefix,
            segment: i.segment,
            channel: i.channel,
            warmth: i.warmth,
            contact_type: i.contact_type,
            verified: i.verified,
            score: i.score,
            flags: i.flags,
            captured_at: rfc3339(i.captured_at),
            price_cents: i.price_cents,
            price_steps: i.price_steps,
            billing: i.billing,
            action_price_cents: i.action_price_cents,
            remaining_sales: i.remaining_sales,
            agency: AgencyRef {
                id: i.agency.id,
                name: i.agency.name,
                quality_score: i.agency.quality_score,
            },
        }
    }
}

impl From<market::CataloguePage> for CataloguePage {
    fn from(p: market::CataloguePage) -> Self {
        Self {
            items: p.items.into_iter().map(Into::into).collect(),
            total: p.total,
            total_exact: p.total_exact,
            next_cursor: p.next_cursor,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "buyers", security(("bearer" = [])),
    params(RawFilter),
    responses((status = 200, body = CataloguePage), (status = 403, description = "The caller is not a buyer"), (status = 422, description = "Bad filters, each listed")))]
pub async fn get_catalogue(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let raw = RawFilter::from_query(req.query_string()).map_err(AppError::Validation)?;
    let parsed = catalogue::parse(&raw).map_err(AppError::Validation)?;
    let (disputes, buyer) = (state.config().disputes, caller.org_id.clone());
    let page = state
        .db(move |conn| market::catalogue_page(conn, &disputes, &buyer, &parsed))
        .await?;
    Ok(HttpResponse::Ok().json(CataloguePage::from(page)))
}

#[derive(Deserialize, ToSchema)]
pub struct PurchaseRequest {
    /// Buy exactly these, all or nothing...
    #[serde(default)]
    pub lead_ids: Vec<String>,
    /// ...or up to `quantity` leads matching these catalogue filters at `max_price_cents`
    /// or less each.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Map<String, serde_json::Value>>,
    pub quantity: Option<i64>,
    pub max_price_cents: Option<i64>,
    /// The total the buyer was shown; a different total now answers 409 `price_changed`.
    pub expected_total_cents: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/purchases", tag = "buyers", security(("bearer" = [])),
    request_body = PurchaseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses(
        (status = 201, description = "`{purchases: [{id, lead_id, price_cents}], total_cents}`, and for a filter purchase `requested` and `filled`"),
        (status = 402, description = "`insufficient_credit`"),
        (status = 409, description = "`not_available` naming each lead that cannot be sold, `price_changed`, or `nothing_available` when no lead matches the filter at that price"),
    ))]
pub async fn create_purchase(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let request: PurchaseRequest = super::json::parse(&body, "a purchase")?;
    let hash = idempotency::hash_body(&[&body]);
    let (buyer, commission_bp) = (caller.org_id.clone(), state.config().commission_bp);
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let PurchaseRequest {
            lead_ids,
            filter,
            quantity,
            max_price_cents,
            expected_total_cents,
        } = request;
        // A filter purchase also says how many it asked for and got (it fills what it can).
        let mut requested = None;
        let result = match filter {
            None => {
                worker
                    .db(move |conn| {
                        market::buy(conn, commission_bp, &buyer, &lead_ids, expected_total_cents)
                    })
                    .await
            }
            Some(filter) => {
                let (parsed, sort) = filter_from_json(&filter)?;
                let (quantity, max_price) = match (quantity, max_price_cents) {
                    (Some(q), Some(p)) => (q, p),
                    _ => {
                        return Ok(validation(vec![FieldProblem::new(
                            "quantity",
                            "a filter purchase needs quantity and max_price_cents",
                        )]));
                    }
                };
                requested = Some(quantity);
                worker
                    .db(move |conn| {
                        market::buy_matching(
                            conn,
                            commission_bp,
                            &buyer,
                            &parsed,
                            sort,
                            quantity,
                            max_price,
                        )
                    })
                    .await
            }
        };
        match result {
            Ok((purchases, total)) => {
                let mut body = json!({"purchases": purchases, "total_cents": total});
                if let Some(requested) = requested {
                    body["requested"] = json!(requested);
                    body["filled"] = json!(purchases.len());
                }
                Ok((StatusCode::CREATED, body))
            }
            Err(
                e @ (AppError::Unsellable { .. }
                | AppError::InsufficientCredit { .. }
                | AppError::Conflict { .. }
                | AppError::Validation(_)),
            ) => {
                let status = e.status();
                let body = serde_json::to_value(ApiError(e).body()).map_err(AppError::internal)?;
                Ok((status, body))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn validation(problems: Vec<FieldProblem>) -> (StatusCode, serde_json::Value) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        ApiError(AppError::Validation(problems)).body(),
    )
}

/// A JSON filter object as the catalogue's query parameters (warmth may be a list).
/// A purchase's filter and, when it names one, the catalogue order to buy the first in.
fn filter_from_json(
    filter: &serde_json::Map<String, serde_json::Value>,
) -> Result<(crate::domain::catalogue::Filter, catalogue::Sort), ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in filter {
        let values: Vec<&serde_json::Value> = match v {
            serde_json::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            pairs.push((k.clone(), text));
        }
    }
    let query = serde_urlencoded::to_string(&pairs).map_err(AppError::internal)?;
    let raw = RawFilter::from_query(&query).map_err(AppError::Validation)?;
    let parsed = catalogue::parse(&raw).map_err(AppError::Validation)?;
    Ok((parsed.filter, parsed.sort))
}

#[utoipa::path(get, path = "/api/v1/account", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = market::AccountView)))]
pub async fn get_account(caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let buyer = caller.org_id.clone();
    let view = state.db(move |conn| market::account(conn, &buyer)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BoughtLeadView {
    pub purchase_id: String,
    pub bought_at: String,
    pub price_cents: i64,
    pub lead_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub age: i32,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub street: Option<String>,
    pub segment: String,
    pub warmth: String,
    pub contact_type: String,
    pub captured_at: String,
    /// The consumer had the data erased: the contact fields are null and the buyer must
    /// delete its copy.
    pub erased: bool,
}

impl From<store::purchases::BoughtLead> for BoughtLeadView {
    fn from(b: store::purchases::BoughtLead) -> Self {
        Self {
            erased: b.erased(),
            purchase_id: b.purchase_id,
            bought_at: rfc3339(b.bought_at),
            price_cents: b.price_cents,
            lead_id: b.lead_id,
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            age: b.age,
            country: b.country,
            region: b.region,
            city: b.city,
            postal_code: b.postal_code,
            street: b.street,
            segment: b.segment,
            warmth: b.warmth,
            contact_type: b.contact_type,
            captured_at: rfc3339(b.captured_at),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/purchases", tag = "buyers", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, description = "`{items: [bought lead with contact fields], next_cursor}`")))]
pub async fn list_purchases(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be from 1 to 500").into());
    }
    let (buyer, cursor) = (caller.org_id.clone(), query.cursor.clone());
    let rows = state
        .db(move |conn| {
            Ok(store::purchases::bought_leads(
                conn,
                &buyer,
                cursor.as_deref(),
                limit,
            )?)
        })
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.purchase_id.clone()))
        .flatten();
    let items: Vec<BoughtLeadView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": next_cursor})))
}

#[utoipa::path(get, path = "/api/v1/purchases.csv", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, description = "Every bought lead, formula-safe CSV", content_type = "text/csv")))]
pub async fn purchases_csv(
    caller: ApiCaller,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    Ok(crate::web::purchases_csv::response(
        state,
        caller.org_id.clone(),
        crate::web::purchases_csv::Prices::Cents,
    )
    .await?)
}
