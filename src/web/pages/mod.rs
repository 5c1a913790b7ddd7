//! Server-rendered pages, one module per area; askama structs sit beside their handlers.

mod admin;
mod admin_settings;
mod audit;
mod batches;
mod catalogue;
mod dashboard;
mod deliveries;
mod disputes;
mod finance;
mod health;
mod help;
mod invoices;
mod login;
mod market;
pub(crate) mod my_data;
mod orders;
mod password;
mod pings;
mod pricing;
mod purchases;
mod reference_admin;
mod rights_admin;
mod settings;
mod standing_orders;
mod suppressions;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(dashboard::home))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/password/forgot", web::get().to(password::forgot_form))
        .route("/password/forgot", web::post().to(password::forgot_submit))
        .route("/password/reset", web::get().to(password::reset_form))
        .route("/password/reset", web::post().to(password::reset_submit))
        .route("/dashboard", web::get().to(dashboard::show))
        .route("/settings/organisation", web::get().to(settings::show))
        .route("/settings/api-keys", web::post().to(settings::create_key))
        .route(
            "/settings/billing-address",
            web::post().to(settings::set_address),
        )
        .route(
            "/settings/postback-token",
            web::post().to(settings::rotate_postback),
        )
        .route(
            "/settings/api-keys/{id}/revoke",
            web::post().to(settings::revoke_key),
        )
        .route("/batches", web::get().to(batches::list))
        .route("/batches", web::post().to(batches::create))
        .route("/batches/new", web::get().to(batches::new))
        .route("/batches/{id}", web::get().to(batches::show))
        .route("/batches/{id}/rejects.csv", web::get().to(batches::rejects))
        .route("/my-data", web::get().to(my_data::form))
        .route("/my-data", web::post().to(my_data::submit))
        .route("/my-data/link", web::get().to(my_data::link))
        .route("/my-data/erase", web::post().to(my_data::erase))
        .route(
            "/admin/my-data-requests",
            web::get().to(rights_admin::queue),
        )
        .route(
            "/admin/my-data-requests/{id}",
            web::get().to(rights_admin::show),
        )
        .route(
            "/admin/my-data-requests/{id}/confirm",
            web::post().to(rights_admin::confirm),
        )
        .route(
            "/admin/my-data-requests/{id}/dismiss",
            web::post().to(rights_admin::dismiss),
        )
        .route(
            "/admin/my-data-requests/{id}/erase",
            web::post().to(rights_admin::erase),
        )
        .route("/admin/audit", web::get().to(audit::show))
        .route("/admin/audit.csv", web::get().to(audit::csv))
        .route("/admin/settings", web::get().to(admin_settings::show))
        .route("/admin/settings", web::post().to(admin_settings::save))
        .route("/admin/organisations", web::get().to(admin::organisations))
        .route("/admin/suppressions", web::get().to(suppressions::show))
        .route("/admin/suppressions", web::post().to(suppressions::add))
        .route(
            "/admin/suppressions/import",
            web::post().to(suppressions::import),
        )
        .route(
            "/admin/suppressions/remove",
            web::post().to(suppressions::remove),
        )
        .route("/admin/segments", web::get().to(reference_admin::show))
        .route("/admin/segments", web::post().to(reference_admin::add))
        .route("/admin/channels", web::post().to(reference_admin::add))
        .route(
            "/admin/{kind:segments|channels}/{slug}/rename",
            web::post().to(reference_admin::rename),
        )
        .route(
            "/admin/{kind:segments|channels}/{slug}/retire",
            web::post().to(reference_admin::retire),
        )
        .route("/help/intake", web::get().to(help::intake))
        .route("/catalogue", web::get().to(catalogue::show))
        .route(
            "/catalogue/buy-selected",
            web::post().to(catalogue::buy_selected),
        )
        .route("/catalogue/buy-first", web::post().to(catalogue::buy_first))
        .route("/purchases", web::get().to(purchases::purchases))
        .route("/purchases.csv", web::get().to(purchases::csv))
        .route("/purchases/actions", web::post().to(market::report_action))
        .route("/admin/pricing", web::get().to(pricing::show))
        .route("/admin/pricing", web::post().to(pricing::tune))
        .route("/disputes", web::get().to(disputes::buyer_list))
        .route("/disputes", web::post().to(disputes::buyer_open))
        .route("/agency/disputes", web::get().to(disputes::agency_list))
        .route(
            "/agency/disputes/{id}/accept",
            web::post().to(disputes::agency_accept),
        )
        .route(
            "/agency/disputes/{id}/contest",
            web::post().to(disputes::agency_contest),
        )
        .route(
            "/admin/organisations/{id}/suspend",
            web::post().to(admin::suspend),
        )
        .route(
            "/admin/organisations/{id}/reactivate",
            web::post().to(admin::reactivate),
        )
        .route(
            "/admin/organisations/{id}/reinstate",
            web::post().to(disputes::reinstate),
        )
        .route("/help/disputes", web::get().to(disputes::help))
        .route("/invoices", web::get().to(invoices::list))
        .route("/invoices/{id}.csv", web::get().to(invoices::csv))
        .route("/invoices/{id}", web::get().to(invoices::show))
        .route("/invoices/{id}/pay", web::post().to(invoices::pay))
        .route("/statements", web::get().to(invoices::statements))
        .route("/statements/{id}", web::get().to(invoices::statement))
        .route("/standing-orders", web::get().to(standing_orders::list))
        .route("/standing-orders", web::post().to(standing_orders::create))
        .route("/standing-orders/new", web::get().to(standing_orders::new))
        .route(
            "/standing-orders/{id}",
            web::get().to(standing_orders::show),
        )
        .route(
            "/standing-orders/{id}",
            web::post().to(standing_orders::update),
        )
        .route(
            "/standing-orders/{id}/edit",
            web::get().to(standing_orders::edit),
        )
        .route(
            "/standing-orders/{id}/pause",
            web::post().to(standing_orders::pause),
        )
        .route(
            "/standing-orders/{id}/resume",
            web::post().to(standing_orders::resume),
        )
        .route(
            "/standing-orders/{id}/delete",
            web::post().to(standing_orders::delete),
        )
        .route(
            "/standing-orders/{id}/secret",
            web::post().to(standing_orders::rotate_secret),
        )
        .route(
            "/settings/time-zone",
            web::post().to(settings::set_time_zone),
        )
        .route(
            "/standing-orders/{id}/deliveries/{delivery_id}/retry",
            web::post().to(deliveries::retry),
        )
        .route("/pings", web::get().to(pings::list))
        .route("/orders", web::get().to(orders::list))
        .route("/orders", web::post().to(orders::create))
        .route("/orders/open", web::get().to(orders::open))
        .route("/orders/{id}/close", web::post().to(orders::close))
        .configure(finance::routes);
}

/// The admin acting in this request and the address it came from, for the audit log.
fn acting(
    req: &actix_web::HttpRequest,
    user: &crate::web::auth::AdminUser,
    state: &crate::app::AppState,
) -> crate::services::settings::Admin {
    crate::services::settings::Admin {
        user_id: user.id.clone(),
        address: crate::web::client_ip(req, state.config().trust_proxy_headers),
    }
}

/// The signed-in user acting in this request and the address it came from, for the
/// audit log.
fn who(
    req: &actix_web::HttpRequest,
    user: &crate::web::auth::CurrentUser,
    state: &crate::app::AppState,
) -> crate::domain::audit::Who {
    crate::domain::audit::Who::user(
        user.role,
        &user.id,
        &crate::web::client_ip(req, state.config().trust_proxy_headers),
    )
}
