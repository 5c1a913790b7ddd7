//! `POST /webhooks/stripe`: verified by signature, each event processed once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::app::AppState;
use crate::error::{ApiResult, AppError};
use crate::services::billing::{self, Ctx, EventOutcome};

#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">")),
    responses(
        (status = 200, description = "Processed, a replay, or an event type we ignore"),
        (status = 400, description = "Bad or stale signature, or not an event"),
        (status = 404, description = "Card payments are not set up here"),
    ))]
pub async fn stripe(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let config = state.config();
    let Some(keys) = config.billing.stripe.as_ref() else {
        return Err(AppError::NotFound.into());
    };
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    crate::payments::verify(
        header,
        &body,
        keys.webhook_secret.expose(),
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let event: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::BadRequest("the body is not a JSON event".into()))?;
    let config = state.config().clone();
    let outcome = state
        .db(move |conn| billing::stripe_event(conn, &Ctx::from(&*config), &event))
        .await?;
    let result = match &outcome {
        EventOutcome::Paid {
            unapplied_cents, ..
        } => {
            if *unapplied_cents > 0 {
                tracing::info!(
                    unapplied_cents,
                    "card payment above the open amount kept unapplied"
                );
            }
            "paid"
        }
        EventOutcome::Replay => "replay",
        EventOutcome::Ignored => "ignored",
        EventOutcome::Unapplied(reason) => {
            // Money no invoice could take: listed for finance to apply or refund.
            tracing::warn!(%reason, "card payment not applied");
            "unapplied"
        }
    };
    Ok(HttpResponse::Ok().json(json!({ "received": true, "result": result })))
}
