//! Server-rendered pages, one module per area; askama structs sit beside their handlers.

mod admin;
mod admin_settings;
mod admin_users;
mod audit;
mod batches;
mod catalogue;
mod colleagues;
mod dashboard;
mod deliveries;
mod disputes;
mod figures;
mod finance;
mod funnel;
mod health;
mod help;
mod invitation;
mod invoices;
mod login;
mod market;
pub(crate) mod my_data;
mod orders;
mod outcomes;
mod password;
mod pings;
mod platform;
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
        .route("/funnel", web::get().to(funnel::show))
        .route("/funnel.csv", web::get().to(funnel::csv))
        .route("/outcomes", web::get().to(outcomes::show))
        .route("/outcomes.csv", web::get().to(outcomes::csv))
        .route("/platform", web::get().to(platform::show))
        .route("/platform.csv", web::get().to(platform::csv))
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
        .route("/admin/organisations", web::post().to(admin::create))
        .route("/admin/users", web::get().to(admin_users::list))
        .route("/admin/users/invite", web::post().to(admin_users::invite))
        .route(
            "/admin/users/{id}/disable",
            web::post().to(admin_users::disable),
        )
        .route(
            "/admin/users/{id}/enable",
            web::post().to(admin_users::enable),
        )
        .route(
            "/admin/users/{id}/role",
            web::post().to(admin_users::change_role),
        )
        .route(
            "/admin/invitations/{id}/resend",
            web::post().to(admin_users::resend),
        )
        .route(
            "/admin/invitations/{id}/revoke",
            web::post().to(admin_users::revoke),
        )
        .route("/invitation", web::get().to(invitation::form))
        .route("/invitation", web::post().to(invitation::accept))
        .route("/settings/colleagues", web::get().to(colleagues::show))
        .route("/settings/colleagues", web::post().to(colleagues::invite))
        .route(
            "/settings/colleagues/invitations/{id}/resend",
            web::post().to(colleagues::resend),
        )
        .route(
            "/settings/colleagues/invitations/{id}/revoke",
            web::post().to(colleagues::revoke),
        )
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
            "/admin/segments/{slug}/move",
            web::post().to(reference_admin::move_segment),
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

/// Offset paging of an admin list, `?page=N` (1-based; anything else is the first page).
/// A list loads one row more than it shows to know whether a next page exists.
pub(crate) struct Paging {
    page: i64,
}

impl Paging {
    pub(crate) const PER_PAGE: i64 = 50;

    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let page = raw
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1);
        Paging { page }
    }

    pub(crate) fn offset(&self) -> i64 {
        (self.page - 1) * Self::PER_PAGE
    }

    /// How many rows to load: one more than a page.
    pub(crate) fn fetch(&self) -> i64 {
        Self::PER_PAGE + 1
    }

    /// Cuts `rows` to a page; the previous and next pages' links (made by `href` from a
    /// page number), where there are such pages.
    pub(crate) fn cut<T>(
        &self,
        rows: &mut Vec<T>,
        href: impl Fn(i64) -> String,
    ) -> (Option<String>, Option<String>) {
        let more = rows.len() as i64 > Self::PER_PAGE;
        rows.truncate(Self::PER_PAGE as usize);
        (
            (self.page > 1).then(|| href(self.page - 1)),
            more.then(|| href(self.page + 1)),
        )
    }
}

/// `path?page=N` with the filters that are set, for a pager link.
pub(crate) fn page_href(path: &str, page: i64, filters: &[(&str, &str)]) -> String {
    let mut href = format!("{path}?page={page}");
    for (name, value) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        href.push_str(&format!("&{name}={}", crate::web::urlencode(value)));
    }
    href
}

/// Who invites in this request, for the invitation services and the audit log.
fn inviter(
    req: &actix_web::HttpRequest,
    user: &crate::web::auth::CurrentUser,
    state: &crate::app::AppState,
) -> crate::services::invitations::Inviter {
    crate::services::invitations::Inviter {
        user_id: user.id.clone(),
        name: user.display_name.clone(),
        role: user.role,
        org_id: user.org_id.clone(),
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
