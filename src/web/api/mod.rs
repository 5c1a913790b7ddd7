//! The JSON API of api.md under `/api/v1`: bearer JWTs, errors as `{"error": {...}}`.

mod batches;
pub mod billing;
mod caller;
mod deliveries;
mod disputes;
mod funnel;
mod idempotency;
mod intake;
mod json;
pub mod market;
mod openapi;
mod orders;
mod ping;
mod reference;
mod standing_orders;
mod token;
pub mod webhooks;

pub use caller::ApiCaller;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, web};

use crate::error::{ApiError, AppError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(1 << 20)
            .error_handler(json_error),
    )
    // Bodies read as bytes (kept for the idempotency hash) have the JSON bodies' limit.
    .app_data(web::PayloadConfig::new(1 << 20))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .route("/auth/token", web::post().to(token::issue_token))
    .route("/segments", web::get().to(reference::segments))
    .route("/channels", web::get().to(reference::channels))
    .route("/batches", web::post().to(intake::create_batch))
    .route("/batches/{id}", web::get().to(batches::get_batch))
    .route("/batches/{id}/rejects.csv", web::get().to(intake::rejects))
    .route("/leads", web::post().to(intake::create_lead))
    .route("/leads/{id}/events", web::post().to(intake::record_event))
    .route("/suppressions", web::post().to(intake::add_suppressions))
    .route("/catalogue", web::get().to(market::get_catalogue))
    .route("/purchases", web::post().to(market::create_purchase))
    .route("/purchases", web::get().to(market::list_purchases))
    .route("/purchases.csv", web::get().to(market::purchases_csv))
    .route("/account", web::get().to(market::get_account))
    .route("/actions", web::post().to(billing::create_action))
    .route("/postback", web::get().to(billing::postback))
    .route("/invoices", web::get().to(billing::list_invoices))
    .route("/invoices/{id}", web::get().to(billing::get_invoice))
    .route("/webhooks/stripe", web::post().to(webhooks::stripe))
    .route("/disputes", web::post().to(disputes::open))
    .route("/disputes", web::get().to(disputes::list))
    .route("/disputes/{id}/accept", web::post().to(disputes::accept))
    .route("/disputes/{id}/contest", web::post().to(disputes::contest))
    .route("/standing-orders", web::get().to(standing_orders::list))
    .route("/standing-orders", web::post().to(standing_orders::create))
    .route("/standing-orders/{id}", web::get().to(standing_orders::get))
    .route(
        "/standing-orders/{id}",
        web::patch().to(standing_orders::update),
    )
    .route(
        "/standing-orders/{id}",
        web::delete().to(standing_orders::delete),
    )
    .route(
        "/standing-orders/{id}/secret",
        web::post().to(standing_orders::rotate_secret),
    )
    .route(
        "/standing-orders/{id}/deliveries",
        web::get().to(deliveries::list),
    )
    .route(
        "/standing-orders/{id}/deliveries/{delivery_id}/retry",
        web::post().to(deliveries::retry),
    )
    .route("/funnel", web::get().to(funnel::get))
    .route("/funnel.csv", web::get().to(funnel::csv))
    .route("/ping", web::post().to(ping::create))
    .route("/pings", web::get().to(ping::list))
    .route("/pings/{id}", web::get().to(ping::get))
    .route("/orders", web::get().to(orders::list))
    .route("/orders", web::post().to(orders::create))
    .route("/orders/open", web::get().to(orders::open))
    .route("/orders/{id}", web::get().to(orders::get))
    .route("/orders/{id}/close", web::post().to(orders::close))
    .route("/openapi.json", web::get().to(openapi::document));
}

/// actix's own extractor errors, rendered in the API's error shape.
fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::invalid("body", e.to_string()),
        JsonPayloadError::ContentType => {
            AppError::BadRequest("send the body as application/json".into())
        }
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::BadRequest("the body is too large".into())
        }
        other => AppError::BadRequest(format!("the body is not valid JSON: {other}")),
    };
    ApiError(app).into()
}

fn path_error(_: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError(AppError::NotFound).into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError(AppError::invalid("query", err.to_string())).into()
}
