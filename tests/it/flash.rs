//! Banners come from the server: a flash set before a redirect shows once, and text in
//! the URL never shows as one. Signed-in pages and API bodies are not kept in caches.

use leadmarket::domain::Role;

use crate::builders::{AgencyBuilder, LeadBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    a_notice_in_the_url_shows_no_banner_and_a_real_one_shows_once,
    signed_in_pages_and_api_bodies_are_not_stored_by_caches,
);

const PHISH: &str = "Your account is suspended. Call +1 555 0100";

async fn a_notice_in_the_url_shows_no_banner_and_a_real_one_shows_once(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(1).post(app, &agency.token).await;
    let (buyer, email) = app.member(Role::Buyer, "Keystone");
    app.with_conn(|c| leadmarket::services::market::set_credit_limit(c, &buyer.slug, 100_000))
        .unwrap();
    let b = app.browser();
    b.login(&email).await;
    for page in ["/disputes", "/purchases", "/finance/invoices"] {
        let (_, html) = b
            .get_text(&format!(
                "{page}?notice={}",
                leadmarket::web::urlencode(PHISH)
            ))
            .await;
        assert!(
            !html.contains("Your account is suspended"),
            "{page}: {html}"
        );
    }
    // A real notice: set by the POST, shown by the page it redirects to, then gone.
    let csrf = b.csrf("/catalogue").await;
    let resp = b
        .post_form(
            "/catalogue/buy-selected",
            &[
                ("csrf_token", csrf.as_str()),
                ("lead_id", lead.as_str()),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/purchases");
    let (_, first) = b.get_text("/purchases").await;
    assert!(first.contains("You bought 1 lead(s) for"), "{first}");
    assert!(first.contains("just-bought"), "the new row is highlighted");
    let (_, again) = b.get_text("/purchases").await;
    assert!(
        !again.contains("You bought 1 lead(s)"),
        "shown once: {again}"
    );
    assert!(!again.contains("just-bought"));
    // The flash is this browser's: another session of the same user sees nothing.
    let other = app.browser();
    other.login(&email).await;
    let (_, elsewhere) = other.get_text("/purchases").await;
    assert!(!elsewhere.contains("You bought"));
}

async fn signed_in_pages_and_api_bodies_are_not_stored_by_caches(app: &TestApp) {
    let (org, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    b.login(&email).await;
    for page in ["/dashboard", "/purchases", "/invoices", "/purchases.csv"] {
        let resp = b.get(page).await;
        assert_eq!(resp.status(), 200, "{page}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{page}");
    }
    let token = app.token(&app.api_key(&org)).await;
    let resp = app
        .get_as(&token, "/api/v1/purchases")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    // Static files keep their own caching.
    let css = b.get("/static/css/app.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    // After logout, the page asks for a login again rather than showing the data.
    let csrf = b.csrf("/dashboard").await;
    b.post_form("/logout", &[("csrf_token", csrf.as_str())])
        .await;
    let resp = b.get("/purchases").await;
    assert_eq!(resp.status(), 303);
}
