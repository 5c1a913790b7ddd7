//! Disputes through the API: buyers open them, agencies answer them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiCaller, idempotency};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::audit::{AuditActor, Who};
use crate::domain::disputes::{DisputeActor, DisputeStatus};
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::disputes::{self, Actor, Answer, Settings};
use crate::store;
use crate::store::disputes::{DisputeRow, Scope};

#[derive(Deserialize, ToSchema)]
pub struct DisputeRequest {
    pub lead_id: Option<String>,
    pub purchase_id: Option<String>,
    /// One of api.md's reasons, e.g. `wrong_number`.
    pub reason: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeView {
    pub id: String,
    pub lead_id: String,
    pub purchase_id: String,
    pub reason: String,
    pub comment: String,
    /// `approved | open | rejected`, and `contested | escalated` while finance decides.
    pub status: String,
    /// `platform | agency | finance` once decided.
    pub decided_by: Option<String>,
    pub evidence: Option<String>,
    pub agency_comment: Option<String>,
    pub decision_comment: Option<String>,
    pub amount_cents: i64,
    pub answer_by: String,
    pub created_at: String,
}

impl From<DisputeRow> for DisputeView {
    fn from(d: DisputeRow) -> Self {
        Self {
            answer_by: rfc3339(d.deadline_at),
            created_at: rfc3339(d.created_at),
            id: d.id,
            lead_id: d.lead_id,
            purchase_id: d.purchase_id,
            reason: d.reason,
            comment: d.comment,
            status: d.status.to_string(),
            decided_by: d.decided_by.map(|a| a.to_string()),
            evidence: d.evidence,
            agency_comment: d.agency_comment,
            decision_comment: d.decision_comment,
            amount_cents: d.amount_cents,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/disputes", tag = "buyers", security(("bearer" = [])),
    request_body = DisputeRequest,
    responses(
        (status = 201, body = DisputeView, description = "Opened; `approved` at once when the platform could check it"),
        (status = 404, description = "Not a lead the caller bought"),
        (status = 409, description = "`already_disputed`: this purchase has a dispute"),
        (status = 422, description = "Bad reason, outside the window, or over the return cap"),
    ))]
pub async fn open(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Buyer)?;
    let r: DisputeRequest = idempotency::parse_json(&body)?;
    let hash = idempotency::hash_body(&[&body]);
    let (config, buyer) = (state.config().clone(), caller.org_id.clone());
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let d = worker
            .db(move |conn| {
                disputes::open(
                    conn,
                    &Settings::from(&*config),
                    &buyer,
                    r.lead_id.as_deref(),
                    r.purchase_id.as_deref(),
                    &r.reason,
                    &r.comment,
                    Actor {
                        kind: DisputeActor::Buyer,
                        user_id: None,
                    },
                    store::now(),
                )
            })
            .await;
        idempotency::answer(StatusCode::CREATED, d.and_then(view))
    })
    .await
}

fn view(d: DisputeRow) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(DisputeView::from(d)).map_err(AppError::internal)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `open`, `contested`, `escalated`, `approved` or `rejected`.
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DisputeList {
    pub disputes: Vec<DisputeView>,
}

#[utoipa::path(get, path = "/api/v1/disputes", tag = "agencies", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = DisputeList, description = "An agency's disputes on its leads, or a buyer's own")))]
pub async fn list(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let status = query.into_inner().status.unwrap_or_default();
    // No status is every dispute; an unknown one is the caller's mistake.
    let statuses: Vec<DisputeStatus> = if status.is_empty() {
        vec![]
    } else {
        vec![status.parse().map_err(|_| {
            AppError::invalid(
                "status",
                "must be open, contested, escalated, approved or rejected",
            )
        })?]
    };
    let (org, kind) = (caller.org_id.clone(), caller.org_kind);
    let rows = state
        .db(move |conn| {
            let scope = match kind {
                OrgKind::Agency => Scope::Agency(&org),
                OrgKind::Buyer => Scope::Buyer(&org),
                _ => return Err(AppError::Forbidden),
            };
            Ok(store::disputes::list(conn, scope, &statuses)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DisputeList {
        disputes: rows.into_iter().map(DisputeView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct AnswerRequest {
    #[serde(default)]
    pub comment: String,
    /// On accept: the lead is bad. It leaves the catalogue and later disputes of it are
    /// approved at once.
    #[serde(default)]
    pub flag_lead: bool,
}

async fn answer(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    hash: String,
    id: String,
    answer: Answer,
    comment: String,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let (config, agency) = (state.config().clone(), caller.org_id.clone());
    // An API key acts for its agency, not for one of its users.
    let by = Who {
        actor: AuditActor::Agency,
        user_id: None,
        address: Some(crate::web::client_ip(
            &req,
            state.config().trust_proxy_headers,
        )),
    };
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let d = worker
            .db(move |conn| {
                disputes::agency_answer(
                    conn,
                    &Settings::from(&*config),
                    &agency,
                    &id,
                    answer,
                    &comment,
                    &by,
                    store::now(),
                )
            })
            .await;
        idempotency::answer(StatusCode::OK, d.and_then(view))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/disputes/{id}/accept", tag = "agencies", security(("bearer" = [])),
    request_body(content = Option<AnswerRequest>, description = "Optional: a comment, and `flag_lead` when the lead is bad"),
    responses((status = 200, body = DisputeView), (status = 404, description = "Not a dispute on the caller's leads"), (status = 409, description = "Decided already")))]
pub async fn accept(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let hash = idempotency::hash_body(&[b"accept", id.as_bytes(), &body]);
    // The body is optional, but one that does not parse is refused rather than read as
    // a plain accept: a lost `flag_lead` would leave a bad lead on sale.
    let body: AnswerRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AnswerRequest::default()
    } else {
        super::json::parse(&body, "an answer")?
    };
    let how = if body.flag_lead {
        Answer::AcceptAndFlag
    } else {
        Answer::Accept
    };
    answer(caller, state, req, hash, id, how, body.comment).await
}

#[utoipa::path(post, path = "/api/v1/disputes/{id}/contest", tag = "agencies", security(("bearer" = [])),
    request_body = AnswerRequest,
    responses((status = 200, body = DisputeView), (status = 404, description = "Not a dispute on the caller's leads"), (status = 409, description = "Decided already"), (status = 422, description = "No comment")))]
pub async fn contest(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let hash = idempotency::hash_body(&[b"contest", id.as_bytes(), &body]);
    let body: AnswerRequest = idempotency::parse_json(&body)?;
    answer(caller, state, req, hash, id, Answer::Contest, body.comment).await
}
