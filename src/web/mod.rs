//! HTTP routes: server-rendered pages, the JSON API under `/api/v1`, health checks and
//! static files. Handlers parse and authorise, call services or the store, and render;
//! `error_page` renders `AppError` for the site.

pub mod api;
pub mod auth;
pub mod charts;
pub mod csrf;
mod error_page;
pub mod exports;
pub mod flash;
pub mod funnel_view;
pub mod input_guard;
pub mod layout;
pub mod pages;
pub mod purchases_csv;
pub mod rejects;
mod static_files;
pub mod upload;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::middleware::{DefaultHeaders, Logger};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use sha2::{Digest, Sha512};

use crate::config::Config;
use crate::error::{ApiError, AppError, AppResult};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Stripe's dashboard is often given the short path; both reach the same handler.
    cfg.route("/webhooks/stripe", web::post().to(api::webhooks::stripe));
    cfg.service(web::scope("/api/v1").configure(api::routes))
        .configure(pages::routes)
        .service(web::resource("/static/{path:.*}").route(web::get().to(static_files::serve)))
        .default_service(web::to(not_found));
}

/// Unknown paths: JSON under `/api`, the HTML page elsewhere.
async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError as _;
    if req.path().starts_with("/api/") {
        ApiError(AppError::NotFound).error_response()
    } else {
        AppError::NotFound.error_response()
    }
}

/// Encrypted, signed cookie sessions: no server-side store, so any `serve` process of the
/// site can read a session that another one wrote.
pub fn session_middleware(config: &Config) -> SessionMiddleware<CookieSessionStore> {
    // SHA-512 stretches the configured secret to the 64 bytes `Key` needs.
    let key = Key::from(&Sha512::digest(config.secret_key.expose()));
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("lm_session".into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(config.secure_cookies())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build()
}

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
}

/// `Cache-Control: no-store` on every answer that does not say otherwise (static files
/// do): pages and API bodies carry an account's data, and Back after logout must not show
/// them from the browser's cache.
pub async fn no_store<B: actix_web::body::MessageBody>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
    let mut res = next.call(req).await?;
    if !res.headers().contains_key(CACHE_CONTROL) {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Method, path without the query string (queries may carry tokens or contact data),
/// status and duration.
pub fn access_log() -> Logger {
    Logger::new("%{method}xi %U %s %Dms")
        .custom_request_replace("method", |req| req.method().to_string())
}

pub fn render(template: &impl Template) -> AppResult<HttpResponse> {
    let html = template.render().map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A page that answers a refused form: rendered with the error's status (422, 402, ...).
pub fn render_status(
    template: &impl Template,
    status: actix_web::http::StatusCode,
) -> AppResult<HttpResponse> {
    let mut resp = render(template)?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|q| q[2..].to_string())
        .unwrap_or_default()
}

/// The client address for throttling: the socket peer, or the first `X-Forwarded-For`
/// hop when the operator says a trusted proxy sets it.
pub fn client_ip(req: &HttpRequest, trust_proxy_headers: bool) -> String {
    if trust_proxy_headers
        && let Some(first) = req
            .headers()
            .get("X-Forwarded-For")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return first.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// An invoice row as the billing rules read it.
pub fn invoice_facts(i: &crate::store::invoices::InvoiceRow) -> crate::domain::billing::Invoice {
    crate::domain::billing::Invoice {
        kind: i.kind,
        status: i.status,
        total_cents: i.total_cents,
        paid_cents: i.paid_cents,
        credited_cents: i.credited_cents,
        due_at: i.due_at,
    }
}

// The formatting rule is the domain's (services format amounts for mails too).
pub use crate::domain::money::{format_amount as money, thousands};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_money_are_formatted_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(20000), "20,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(money(123450, "EUR"), "1,234.50 EUR");
        assert_eq!(money(-5, "EUR"), "-0.05 EUR");
    }

    #[test]
    fn urlencode_escapes_query_values() {
        assert_eq!(
            urlencode("/batches/x?a=1&b=2"),
            "%2Fbatches%2Fx%3Fa%3D1%26b%3D2"
        );
    }
}
