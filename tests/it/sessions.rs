//! Sessions end when they should: at logout (even for a copy of the cookie), and in
//! every browser when the user is disabled, on every `serve` process.

use leadmarket::domain::Role;
use leadmarket::services::accounts;

use crate::helpers::{PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_cookie_copied_before_logout_opens_nothing_afterwards,
    disabling_a_user_ends_their_sessions_in_every_browser,
);

/// The `name=value` part of the session cookie a response sets.
fn session_cookie(resp: &reqwest::Response) -> String {
    let header = resp.headers()["set-cookie"].to_str().unwrap();
    header.split(';').next().unwrap().to_string()
}

async fn get_with_cookie(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn a_cookie_copied_before_logout_opens_nothing_afterwards(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    let resp = b.login_attempt(&email, PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let copied = session_cookie(&resp);
    let other_process = app.second_instance().await;
    assert_eq!(
        get_with_cookie(app, &copied, "/purchases").await.status(),
        200
    );
    assert_eq!(
        get_with_cookie(&other_process, &copied, "/purchases")
            .await
            .status(),
        200,
        "any process reads the session"
    );

    let token = b.csrf("/purchases").await;
    assert_eq!(
        b.post_form("/logout", &[("csrf_token", &token)])
            .await
            .status(),
        303
    );
    for server in [app, &other_process] {
        let resp = get_with_cookie(server, &copied, "/purchases").await;
        assert_eq!(
            resp.status(),
            303,
            "the copied cookie is refused after logout"
        );
        assert_eq!(resp.headers()["location"], "/login?next=%2Fpurchases");
    }
    // Signing in again gives a new, working session.
    b.login(&email).await;
    assert_eq!(b.get("/purchases").await.status(), 200);
    other_process.finish().await;
}

async fn disabling_a_user_ends_their_sessions_in_every_browser(app: &TestApp) {
    let (org, email) = app.member(Role::Agency, "Acme Leads");
    let colleague = app.user(&org, Role::Agency);
    let (laptop, phone, theirs) = (app.browser(), app.browser(), app.browser());
    laptop.login(&email).await;
    phone.login(&email).await;
    theirs.login(&colleague).await;
    for b in [&laptop, &phone, &theirs] {
        assert_eq!(b.get("/dashboard").await.status(), 200);
    }

    app.with_conn(|c| accounts::disable_user(c, &email))
        .expect("disabled");
    for b in [&laptop, &phone] {
        let resp = b.get("/dashboard").await;
        assert_eq!(resp.status(), 303, "every session of the user ends");
        assert_eq!(resp.headers()["location"], "/login?next=%2Fdashboard");
    }
    assert_eq!(
        theirs.get("/dashboard").await.status(),
        200,
        "a colleague stays signed in"
    );
    assert_eq!(laptop.login_attempt(&email, PASSWORD).await.status(), 401);
}
