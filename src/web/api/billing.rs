//! Buyers' billing API: reporting actions (also by postback URL) and reading issued
//! invoices.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiCaller;
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::billing::InvoiceStatus;
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::billing;
use crate::store;
use crate::store::actions::ActionRow;
use crate::store::invoices::{InvoiceRow, LineRow};
use crate::web::invoice_facts;

#[derive(Deserialize, ToSchema)]
pub struct ActionRequest {
    pub lead_id: String,
    /// `call`, `consultation` or `purchase`.
    pub kind: String,
    /// RFC 3339; now when left out.
    pub occurred_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionView {
    pub id: String,
    pub lead_id: String,
    pub purchase_id: String,
    pub kind: String,
    pub occurred_at: String,
    pub price_cents: i64,
    /// False for an action on a per-lead lead: recorded for the funnel, never charged.
    pub charged: bool,
}

impl From<ActionRow> for ActionView {
    fn from(a: ActionRow) -> Self {
        Self {
            occurred_at: rfc3339(a.occurred_at),
            id: a.id,
            lead_id: a.lead_id,
            purchase_id: a.purchase_id,
            kind: a.kind.to_string(),
            price_cents: a.price_cents,
            charged: a.transaction_id.is_some(),
        }
    }
}

fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.naive_utc()))
            .map_err(|_| {
                AppError::invalid(
                    field,
                    "must be an RFC 3339 time such as 2026-11-24T10:00:00Z",
                )
            }),
    }
}

async fn report(
    state: &AppState,
    buyer_id: String,
    lead_id: String,
    kind: String,
    occurred_at: Option<chrono::NaiveDateTime>,
    key: String,
) -> ApiResult<HttpResponse> {
    let commission_bp = state.config().commission_bp;
    let (action, created) = state
        .db(move |conn| {
            billing::report_action(
                conn,
                commission_bp,
                &buyer_id,
                &lead_id,
                &kind,
                occurred_at,
                &key,
            )
        })
        .await?;
    let view = ActionView::from(action);
    Ok(if created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

#[utoipa::path(post, path = "/api/v1/actions", tag = "buyers", security(("bearer" = [])),
    request_body = ActionRequest,
    params(("Idempotency-Key" = String, Header, description = "Required: the same key never charges twice")),
    responses(
        (status = 201, body = ActionView, description = "Recorded: charged on a per-action lead, free on a per-lead lead"),
        (status = 200, body = ActionView, description = "Recorded before (same key, or same kind on the same lead): not charged again"),
        (status = 404, description = "The caller did not buy this lead"),
        (status = 422, description = "Bad kind or time, or no key"),
    ))]
pub async fn create_action(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: super::json::Json<ActionRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = body.into_inner();
    let occurred_at = parse_time("occurred_at", body.occurred_at.as_deref())?;
    report(
        &state,
        caller.org_id.clone(),
        body.lead_id,
        body.kind,
        occurred_at,
        key,
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PostbackQuery {
    /// The buyer's postback token (from its settings page).
    pub token: String,
    pub lead_id: String,
    pub kind: String,
    /// The idempotency key: the same key never charges twice.
    pub key: String,
    pub occurred_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/postback", tag = "buyers",
    params(PostbackQuery),
    responses(
        (status = 201, body = ActionView), (status = 200, body = ActionView),
        (status = 401, description = "Unknown token"), (status = 404, description = "Not the token owner's lead"),
        (status = 429, description = "Too many wrong tokens from this address; see `Retry-After`"),
    ))]
pub async fn postback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PostbackQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let token = q.token.clone();
    let limits = state.config().api_auth_throttle.clone();
    let address = crate::web::client_ip(&req, state.config().trust_proxy_headers);
    let buyer = state
        .db(move |conn| billing::buyer_for_postback(conn, &limits, &token, &address))
        .await?;
    let occurred_at = parse_time("occurred_at", q.occurred_at.as_deref())?;
    report(&state, buyer, q.lead_id, q.kind, occurred_at, q.key).await
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub description: String,
    pub quantity: i64,
    pub unit_cents: i64,
    pub amount_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: String,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// `issued | paid | partly_paid | overdue | void`.
    pub status: String,
    pub issued_at: Option<String>,
    pub due_at: Option<String>,
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub credited_cents: i64,
    pub open_cents: i64,
    pub lines: Vec<InvoiceLineView>,
}

pub fn invoice_view(i: InvoiceRow, lines: Vec<LineRow>, now: chrono::NaiveDateTime) -> InvoiceView {
    let facts = invoice_facts(&i);
    InvoiceView {
        status: facts.status(now).into(),
        number: i.number.unwrap_or_default(),
        issued_at: i.issued_at.map(rfc3339),
        due_at: i.due_at.map(rfc3339),
        open_cents: facts.open_cents(),
        lines: lines
            .into_iter()
            .map(|l| InvoiceLineView {
                description: l.description,
                quantity: l.quantity,
                unit_cents: l.unit_cents,
                amount_cents: l.amount_cents,
            })
            .collect(),
        id: i.id,
        kind: i.kind.to_string(),
        subtotal_cents: i.subtotal_cents,
        tax_cents: i.tax_cents,
        total_cents: i.total_cents,
        paid_cents: i.paid_cents,
        credited_cents: i.credited_cents,
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceList {
    pub invoices: Vec<InvoiceView>,
}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = InvoiceList)))]
pub async fn list_invoices(
    caller: ApiCaller,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let buyer = caller.org_id.clone();
    let invoices = state
        .db(move |conn| {
            let now = store::now();
            let mut out = Vec::new();
            for i in store::invoices::list(conn, Some(&buyer), true)? {
                let lines = store::invoices::lines_of(conn, &i.id)?;
                out.push(invoice_view(i, lines, now));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(InvoiceList { invoices }))
}

#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "buyers", security(("bearer" = [])),
    responses((status = 200, body = InvoiceView), (status = 404, description = "Not the caller's issued invoice")))]
pub async fn get_invoice(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let (buyer, id) = (caller.org_id.clone(), path.into_inner());
    let view = state
        .db(move |conn| {
            let i = store::invoices::find(conn, &id)?;
            // Drafts and other buyers' invoices do not exist for this caller.
            let issued = i.status == InvoiceStatus::Issued;
            if i.buyer_id != buyer || !issued {
                return Err(AppError::NotFound);
            }
            let lines = store::invoices::lines_of(conn, &i.id)?;
            Ok(invoice_view(i, lines, store::now()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
