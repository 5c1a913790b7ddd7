//! Signing in and out, wrong passwords, CSRF refusals and login throttling.

use leadmarket::domain::Role;

use crate::helpers::{PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_user_signs_in_sees_the_dashboard_and_signs_out,
    a_wrong_password_is_refused_and_keeps_the_user_out,
    pages_send_anonymous_visitors_to_login_and_back,
    a_form_without_the_csrf_token_is_refused,
    an_open_redirect_after_login_is_refused,
);

on_both_backends!(
    with [("LOGIN_ADDRESS_MAX_FAILURES", "10")] =>
    failures_over_many_accounts_lock_the_address_only_at_its_own_larger_limit,
);

on_both_backends!(
    with [("TRUST_PROXY_HEADERS", "true"), ("PUBLIC_URL", "https://leads.example.com")] =>
    five_failures_lock_the_account_whatever_the_address,
    behind_https_the_session_cookie_is_secure,
);

async fn a_user_signs_in_sees_the_dashboard_and_signs_out(app: &TestApp) {
    let (_, email) = app.member(Role::Agency, "Acme Leads");
    let b = app.browser();
    let resp = b.login_attempt(&email, PASSWORD).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/dashboard");
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        cookie.contains("httponly") && cookie.contains("samesite=lax"),
        "{cookie}"
    );
    let (status, html) = b.get_text("/dashboard").await;
    assert_eq!(status, 200);
    assert!(html.contains("Acme Leads dashboard"));

    let token = b.csrf("/dashboard").await;
    let resp = b.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        b.get("/dashboard").await.status(),
        303,
        "signed out: back to login"
    );
}

async fn a_wrong_password_is_refused_and_keeps_the_user_out(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    let resp = b.login_attempt(&email, "not-the-password").await;
    assert_eq!(resp.status(), 401);
    let html = resp.text().await.unwrap();
    assert!(html.contains("do not match an account"));
    assert!(
        !html.contains("not-the-password"),
        "the password is not echoed back"
    );
    assert_eq!(b.get("/dashboard").await.status(), 303);
    // An unknown account gets the very same answer.
    let resp = b
        .login_attempt("nobody@example.com", "whatever-password")
        .await;
    assert_eq!(resp.status(), 401);
}

async fn pages_send_anonymous_visitors_to_login_and_back(app: &TestApp) {
    let (_, email) = app.member(Role::Admin, "Platform");
    let b = app.browser();
    let resp = b.get("/admin/organisations").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fadmin%2Forganisations"
    );
    let (_, html) = b.get_text("/login?next=%2Fadmin%2Forganisations").await;
    let token = crate::helpers::csrf_from(&html).unwrap();
    assert!(html.contains("value=\"/admin/organisations\""));
    let resp = b
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/admin/organisations"),
            ],
        )
        .await;
    assert_eq!(resp.headers()["location"], "/admin/organisations");
}

async fn a_form_without_the_csrf_token_is_refused(app: &TestApp) {
    let (_, email) = app.member(Role::Agency, "Acme Leads");
    let b = app.browser();
    // Login itself needs the token.
    let _ = b.get("/login").await;
    let resp = b
        .post_form("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(resp.status(), 403);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("did not come from this site")
    );

    b.login(&email).await;
    for form in [vec![], vec![("csrf_token", "forged")]] {
        let mut with_name = form.clone();
        with_name.push(("name", "x"));
        assert_eq!(
            b.post_form("/settings/api-keys", &with_name).await.status(),
            403
        );
        assert_eq!(b.post_form("/logout", &form).await.status(), 403);
    }
    assert_eq!(b.get("/dashboard").await.status(), 200, "still signed in");
    // A token from another session does not work either.
    let other = app.browser();
    let foreign = other.csrf("/login").await;
    assert_eq!(
        b.post_form("/logout", &[("csrf_token", &foreign)])
            .await
            .status(),
        403
    );
}

async fn five_failures_lock_the_account_whatever_the_address(app: &TestApp) {
    let (_, email) = app.member(Role::Agency, "Acme Leads");
    let (_, other) = app.member(Role::Buyer, "Other");
    let b = app.browser();
    for i in 0..5 {
        let ip = format!("203.0.113.{i}");
        assert_eq!(
            b.login_attempt_from(&email, "wrong-password", Some(&ip))
                .await
                .status(),
            401
        );
    }
    let resp = b
        .login_attempt_from(&email, PASSWORD, Some("198.51.100.7"))
        .await;
    assert_eq!(
        resp.status(),
        429,
        "even the right password from a new address waits"
    );
    // What is left of the window that the first failure opened.
    let wait: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains(&format!("Too many attempts. Try again in {wait} seconds."))
    );
    // Another account is not locked by this one's failures.
    let resp = app
        .browser()
        .login_attempt_from(&other, PASSWORD, Some("198.51.100.8"))
        .await;
    assert_eq!(resp.status(), 303);
}

async fn behind_https_the_session_cookie_is_secure(app: &TestApp) {
    let resp = app.browser().get("/login").await;
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(cookie.starts_with("lm_session="), "{cookie}");
    assert!(
        cookie.contains("; secure")
            && cookie.contains("; httponly")
            && cookie.contains("samesite=lax"),
        "{cookie}"
    );
}

async fn failures_over_many_accounts_lock_the_address_only_at_its_own_larger_limit(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    for i in 0..5 {
        let resp = b
            .login_attempt(&format!("guess{i}@example.com"), "wrong-password")
            .await;
        assert_eq!(resp.status(), 401);
    }
    // Five is the limit of one account, not of the address (an office behind one NAT).
    assert_eq!(
        app.browser().login_attempt(&email, PASSWORD).await.status(),
        303
    );
    for i in 5..10 {
        let resp = b
            .login_attempt(&format!("guess{i}@example.com"), "wrong-password")
            .await;
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(b.login_attempt(&email, PASSWORD).await.status(), 429);
}

async fn an_open_redirect_after_login_is_refused(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    let token = b.csrf("/login").await;
    let resp = b
        .post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(resp.headers()["location"], "/dashboard");
}
