//! The OpenAPI document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "leadmarket API", version = "1", description = "The public API of leadmarket. Names are a promise: see docs/api.md."),
    paths(
        super::token::issue_token,
        super::reference::segments,
        super::reference::channels,
        super::batches::get_batch,
        super::intake::create_batch,
        super::intake::create_lead,
        super::intake::rejects,
        super::intake::add_suppressions,
        super::intake::record_event,
        super::market::get_catalogue,
        super::market::create_purchase,
        super::market::list_purchases,
        super::market::purchases_csv,
        super::market::get_account,
        super::billing::create_action,
        super::billing::postback,
        super::billing::list_invoices,
        super::billing::get_invoice,
        super::webhooks::stripe,
        super::disputes::open,
        super::disputes::list,
        super::disputes::accept,
        super::disputes::contest,
        super::standing_orders::list,
        super::standing_orders::create,
        super::standing_orders::get,
        super::standing_orders::update,
        super::standing_orders::delete,
        super::standing_orders::rotate_secret,
        super::deliveries::list,
        super::deliveries::retry,
        super::funnel::get,
        super::funnel::csv,
        super::ping::create,
        super::ping::list,
        super::ping::get,
        super::orders::list,
        super::orders::create,
        super::orders::open,
        super::orders::get,
        super::orders::close,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
