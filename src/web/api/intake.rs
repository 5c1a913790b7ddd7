//! Agencies' intake API: `POST /batches` (multipart CSV or JSON), `POST /leads` (one
//! real-time lead), `GET /batches/{id}/rejects.csv`.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::{ApiCaller, idempotency, json};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::audit::{AuditActor, Who};
use crate::domain::intake::Header;
use crate::error::{ApiError, ApiResult, AppError, FieldProblem};
use crate::services::intake::{self, BatchInput, RowOutcome};
use crate::services::standing_orders::allocate::allocate_logged;
use crate::store;
use crate::web::upload;

mod json_batch;
use json_batch::cell;

/// Largest JSON body for `POST /batches` and `POST /leads`.
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

/// The JSON body's shape, for the API document; `json_batch` reads it lead by lead.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the body; never built")]
pub struct JsonBatch {
    pub batch: BatchInput,
    /// Lead objects with the CSV contract's column names as keys.
    #[schema(value_type = Vec<Object>)]
    pub leads: Vec<Map<String, Value>>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchAccepted {
    pub id: String,
    /// Always `processing`: poll `GET /batches/{id}`.
    pub status: String,
}

async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::BadRequest(format!(
                "the body is larger than {} MB",
                limit / (1024 * 1024)
            ))
            .into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[utoipa::path(post, path = "/api/v1/batches", tag = "agencies", security(("bearer" = [])),
    request_body(content = JsonBatch, description = "JSON, or multipart/form-data with `file` (CSV) and the batch fields"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses(
        (status = 202, body = BatchAccepted),
        (status = 403, description = "The caller is not an agency"),
        (status = 422, description = "Bad batch terms or an unusable file, with every problem"),
    ))]
pub async fn create_batch(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let is_multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (input, temp, filename, hash) = if is_multipart {
        let form = upload::read(
            Multipart::new(req.headers(), payload),
            state.config().upload_max_bytes,
        )
        .await?;
        let file = form
            .file
            .ok_or_else(|| AppError::invalid("file", "send the CSV as a part named `file`"))?;
        let input = upload::batch_input(&form.fields)?;
        let mut fields: Vec<_> = form.fields.iter().collect();
        fields.sort();
        // The file's digest stands for its bytes: hashed while it streamed to disk, so a
        // 1 GB upload is never read back into memory. Same fields and file, same key.
        let hash = idempotency::hash_body(&[format!("{fields:?}").as_bytes(), &file.sha256]);
        (input, file.temp, file.filename, hash)
    } else {
        let body = read_body(payload, MAX_JSON_BYTES).await?;
        let (input, csv) = json_batch::to_csv(&body)?;
        let hash = idempotency::hash_body(&[&body]);
        (input, csv, None, hash)
    };
    let org_id = caller.org_id.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async {
        let path = temp.path().to_path_buf();
        let result = state
            .db(move |conn| {
                intake::accept_upload(
                    conn,
                    &org_id,
                    &input,
                    "api",
                    filename.as_deref(),
                    None,
                    &path,
                )
            })
            .await;
        match result {
            Ok(batch) => Ok((
                StatusCode::ACCEPTED,
                json!({"id": batch.id, "status": "processing"}),
            )),
            Err(AppError::Validation(problems)) => Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                validation_body("the batch was not accepted", problems),
            )),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn validation_body(message: &str, details: Vec<FieldProblem>) -> Value {
    crate::error::error_body("invalid_input", message, &details)
}

/// Batch terms that may come with a single lead.
const BATCH_KEYS: &[&str] = &[
    "kind",
    "order_id",
    "price_cents",
    "max_sales",
    "billing",
    "action_price_cents",
    "batch_id",
    "ping_id",
];

#[utoipa::path(post, path = "/api/v1/leads", tag = "agencies", security(("bearer" = [])),
    request_body(content = Object, description = "One lead (CSV column names as keys) plus `batch_id` or the batch fields"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses(
        (status = 201, description = "Accepted: `{id, status, score, price_cents, sold_to_orders, batch_id}`"),
        (status = 409, description = "`duplicate` or `suppressed`"),
        (status = 422, description = "Rejected, with every reason"),
    ))]
pub async fn create_lead(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let body = read_body(payload, 1 << 20).await?;
    let object: Map<String, Value> = json::parse(&body, "a JSON object")?;
    let hash = idempotency::hash_body(&[&body]);
    let org_id = caller.org_id.clone();
    let settings = state.config().intake.clone();
    let commission_bp = state.config().commission_bp;
    let worker_state = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let outcome = worker_state
            .db(move |conn| {
                let text = |k: &str| object.get(k).map(cell).filter(|v| !v.trim().is_empty());
                let number = |k: &str| object.get(k).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
                let names: Vec<String> = object.keys().filter(|k| !BATCH_KEYS.contains(&k.as_str())).cloned().collect();
                // A post against a ping: its offer must still hold (404, 409 otherwise).
                let ping = match text("ping_id") {
                    Some(id) => Some(crate::services::ping::post::open_ping(conn, &org_id, &id, store::now())?),
                    None => None,
                };
                let header = |batch: &store::batches::BatchRow| {
                    Header::parse(names.clone(), intake::supplies(batch)).map_err(|e| AppError::invalid("lead", e.to_string()))
                };
                let (batch, header) = match text("batch_id") {
                    Some(id) => {
                        if uuid::Uuid::parse_str(&id).is_err() {
                            return Err(AppError::NotFound);
                        }
                        let batch = store::batches::find_for_agency(conn, &org_id, &id)?.ok_or(AppError::NotFound)?;
                        let header = header(&batch)?;
                        (batch, header)
                    }
                    None => {
                        let input = BatchInput {
                            kind: text("kind"),
                            order_id: text("order_id"),
                            segment: text("segment"),
                            channel: text("channel"),
                            price_cents: number("price_cents"),
                            max_sales: number("max_sales").map(|m| m.clamp(-1, 1000) as i32),
                            billing: text("billing"),
                            action_price_cents: number("action_price_cents"),
                            consent_text: text("consent_text"),
                            // Traffic is reported for uploaded batches, not a lead at a time.
                            traffic: None,
                        };
                        let template = intake::prepare_batch(conn, &org_id, &input, "api-realtime", None, None)?;
                        // A lead that lacks what the batch does not supply makes no batch.
                        let header = header(&template)?;
                        (intake::realtime_batch(conn, template)?, header)
                    }
                };
                let cells: Vec<String> = names.iter().map(|n| cell(&object[n])).collect();
                let known = crate::services::known::known(conn)?;
                let reference = &known.reference;
                let rows = vec![(batch.rows_total + 1, crate::domain::intake::csv_file::RawRecord::Cells(cells))];
                if let Some(ping) = &ping {
                    use crate::services::ping::post::{Posted, post};
                    return Ok(match post(conn, &settings, commission_bp, ping, &batch, &header, reference, &rows, store::now())? {
                        Posted::Sold { lead_id, score, price_cents } => (batch.id, RowOutcome::Accepted { lead_id, score, price_cents }, 1),
                        Posted::Refused(outcome) => (batch.id, outcome, 0),
                    });
                }
                let (_, mut outcomes) = intake::process_chunk(conn, &settings, &batch, &header, reference, &rows, store::now())?;
                let outcome = outcomes.pop().expect("one row, one outcome");
                // After the intake's commit, in its own transaction: the answer comes once
                // the sales are committed.
                let sold = match &outcome {
                    RowOutcome::Accepted { lead_id, .. } => {
                        allocate_logged(conn, commission_bp, std::slice::from_ref(lead_id), store::now()).get(lead_id).copied().unwrap_or(0)
                    }
                    _ => 0,
                };
                Ok((batch.id, outcome, sold))
            })
            .await;
        let (batch_id, outcome, sold_to_orders) = match outcome {
            Ok(o) => o,
            Err(AppError::Validation(p)) => return Ok((StatusCode::UNPROCESSABLE_ENTITY, validation_body("the lead was rejected", p))),
            Err(e) => return Err(ApiError(e)),
        };
        if sold_to_orders > 0 {
            // Its deliveries are committed: the worker sends them now, not at its next poll.
            worker_state.wake_deliveries();
        }
        let details = |o: &RowOutcome| -> Vec<FieldProblem> {
            o.reasons().iter().map(|r| FieldProblem::new(r.field.clone(), format!("{} ({})", r.message, r.code))).collect()
        };
        Ok(match &outcome {
            RowOutcome::Accepted { lead_id, score, price_cents } => (
                StatusCode::CREATED,
                json!({"id": lead_id, "status": "accepted", "score": score, "price_cents": price_cents, "sold_to_orders": sold_to_orders, "batch_id": batch_id}),
            ),
            RowOutcome::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, validation_body("the lead was rejected", details(&outcome))),
            RowOutcome::Duplicate(_) => (
                StatusCode::CONFLICT,
                crate::error::error_body("duplicate", "this lead's phone or email is already in the marketplace", &details(&outcome)),
            ),
            RowOutcome::Suppressed(_) => (
                StatusCode::CONFLICT,
                crate::error::error_body("suppressed", "this contact asked not to be contacted", &details(&outcome)),
            ),
        })
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/batches/{id}/rejects.csv", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Batch id (UUID)")),
    responses((status = 200, description = "Every row not accepted, as uploaded, plus `row_number` and `reasons`", content_type = "text/csv"), (status = 404, description = "No such batch of the caller's")))]
pub async fn rejects(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    Ok(crate::web::rejects::response(state, caller.org_id.clone(), path.into_inner()).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct SuppressionRequest {
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    /// `opt_out` or `do_not_call`.
    pub reason: String,
    /// ISO country of phones given in national form.
    pub default_country: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/suppressions", tag = "platform", security(("bearer" = [])),
    request_body = SuppressionRequest,
    responses((status = 200, body = crate::services::suppression::AddOutcome), (status = 403, description = "Only the platform may add")))]
pub async fn add_suppressions(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Platform)?;
    let body: SuppressionRequest = idempotency::parse_json(&raw)?;
    if body.phones.len() + body.emails.len() > 100_000 {
        return Err(AppError::invalid("body", "send at most 100,000 entries per request").into());
    }
    let hash = idempotency::hash_body(&[&raw]);
    let worker = state.clone();
    // The platform's API key acts for the admins, not for one of them.
    let by = Who {
        actor: AuditActor::Admin,
        user_id: None,
        address: Some(crate::web::client_ip(
            &req,
            state.config().trust_proxy_headers,
        )),
    };
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let outcome = worker
            .db(move |conn| {
                let entries: Vec<&str> = body
                    .phones
                    .iter()
                    .chain(&body.emails)
                    .map(String::as_str)
                    .collect();
                crate::services::suppression::add(
                    conn,
                    &by,
                    &entries,
                    &body.reason,
                    body.default_country.as_deref(),
                    "api",
                )
            })
            .await;
        idempotency::answer(
            StatusCode::OK,
            outcome.and_then(|o| serde_json::to_value(o).map_err(AppError::internal)),
        )
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct EngagementRequest {
    /// `opened`, `clicked` or `answered`.
    pub kind: String,
    /// RFC 3339; defaults to now.
    pub occurred_at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/leads/{id}/events", tag = "agencies", security(("bearer" = [])),
    params(("id" = String, Path, description = "Lead id (UUID)")),
    request_body = EngagementRequest,
    responses(
        (status = 201, description = "Recorded: `{lead_id, kind, score}`"),
        (status = 200, description = "This kind was recorded before; the score is unchanged"),
        (status = 404, description = "No such lead of the caller's"),
    ))]
pub async fn record_event(
    caller: ApiCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(OrgKind::Agency)?;
    let lead_id = path.into_inner();
    if uuid::Uuid::parse_str(&lead_id).is_err() {
        return Err(AppError::NotFound.into());
    }
    let body: EngagementRequest = idempotency::parse_json(&raw)?;
    let occurred_at = match body.occurred_at.as_deref() {
        None => None,
        Some(raw) => Some(
            crate::domain::intake::row::parse_timestamp(raw)
                .ok_or_else(|| AppError::invalid("occurred_at", "must be an RFC 3339 time"))?,
        ),
    };
    let hash = idempotency::hash_body(&[lead_id.as_bytes(), &raw]);
    let (org, id, kind) = (caller.org_id.clone(), lead_id.clone(), body.kind.clone());
    let worker = state.clone();
    idempotency::once(&state, &caller.org_id, &req, hash, || async move {
        let recorded = worker
            .db(move |conn| intake::record_engagement(conn, &org, &id, &kind, occurred_at))
            .await;
        let status = match recorded {
            Ok((true, _)) => StatusCode::CREATED,
            _ => StatusCode::OK,
        };
        idempotency::answer(
            status,
            recorded
                .map(|(_, score)| json!({"lead_id": lead_id, "kind": body.kind, "score": score})),
        )
    })
    .await
}
