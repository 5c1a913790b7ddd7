//! An admin suspends an organisation with a reason: its sessions, API tokens and sign-in
//! stop at once and its users are told why; reactivating lets them back. Both audited.

use leadmarket::domain::Role;
use leadmarket::domain::audit::AuditAction;

use crate::helpers::{Browser, PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_suspended_organisations_sessions_and_tokens_stop_at_once_and_sign_in_gives_the_reason,
    only_an_admin_suspends_or_reactivates_and_every_form_needs_its_token,
);

async fn admin(app: &TestApp) -> Browser {
    let (_, email) = app.member(Role::Admin, "Platform");
    let b = app.browser();
    b.login(&email).await;
    b
}

async fn post(b: &Browser, path: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let token = b.csrf("/admin/organisations").await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(extra);
    b.post_form(path, &form).await
}

async fn a_suspended_organisations_sessions_and_tokens_stop_at_once_and_sign_in_gives_the_reason(
    app: &TestApp,
) {
    let (buyer, email) = app.member(Role::Buyer, "Keystone");
    let user = app.browser();
    user.login(&email).await;
    let token = app.token(&app.api_key(&buyer)).await;
    assert_eq!(app.get_json("/api/v1/account", &token).await.0, 200);
    let admin = admin(app).await;

    let path = format!("/admin/organisations/{}/suspend", buyer.id);
    // A suspension needs its reason.
    let resp = post(&admin, &path, &[("reason", "  ")]).await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/organisations").await;
    assert!(html.contains("Say why"), "{html}");
    assert_eq!(user.get("/dashboard").await.status(), 200);

    let resp = post(&admin, &path, &[("reason", "Unpaid invoices since March")]).await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/organisations").await;
    assert!(
        html.contains("by an admin: Unpaid invoices since March"),
        "{html}"
    );

    // The open session and the live token stop at their next request.
    let resp = user.get("/dashboard").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login?next=%2Fdashboard");
    assert_eq!(app.get_json("/api/v1/account", &token).await.0, 401);
    // A new token is refused too.
    let resp = app
        .api()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"api_key": app.api_key(&buyer)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The right password learns why; a wrong one learns nothing more.
    let again = app.browser();
    let resp = again.login_attempt(&email, PASSWORD).await;
    assert_eq!(resp.status(), 401);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Your organisation is suspended")
            && html.contains("Unpaid invoices since March"),
        "{html}"
    );
    let html = again
        .login_attempt(&email, "wrong-password-123")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Unpaid invoices"), "{html}");

    let resp = post(
        &admin,
        &format!("/admin/organisations/{}/reactivate", buyer.id),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    again.login(&email).await;
    assert_eq!(again.get("/dashboard").await.status(), 200);

    let entries = app.with_conn(|c| leadmarket::store::audit::recent(c, 10).unwrap());
    let mine: Vec<_> = entries
        .iter()
        .filter(|e| e.org_id.as_deref() == Some(buyer.id.as_str()))
        // Its users' sign-ins are logged too (see tests/it/audit_log.rs).
        .filter(|e| !matches!(e.action, AuditAction::Login | AuditAction::LoginFailed))
        .map(|e| (e.action, e.detail.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        mine,
        [
            (
                AuditAction::OrgReactivated,
                "was suspended for: Unpaid invoices since March".to_string()
            ),
            (
                AuditAction::OrgSuspended,
                "reason: Unpaid invoices since March".to_string()
            ),
        ]
    );
    for e in &entries {
        assert!(!e.detail.clone().unwrap_or_default().contains(&email));
        assert_eq!(e.address.as_deref(), Some("127.0.0.1"));
    }
}

async fn only_an_admin_suspends_or_reactivates_and_every_form_needs_its_token(app: &TestApp) {
    let (agency, agency_email) = app.member(Role::Agency, "Acme Leads");
    let (platform, _) = app.member(Role::Finance, "Platform staff");
    let finance = app.user(&platform, Role::Finance);
    let (_, buyer) = app.member(Role::Buyer, "Keystone");
    let suspend = format!("/admin/organisations/{}/suspend", agency.id);
    let reactivate = format!("/admin/organisations/{}/reactivate", agency.id);
    for email in [&finance, &agency_email, &buyer] {
        let b = app.browser();
        b.login(email).await;
        let own = b.csrf("/dashboard").await;
        for path in [&suspend, &reactivate] {
            let resp = b
                .post_form(path, &[("csrf_token", own.as_str()), ("reason", "x")])
                .await;
            assert_eq!(resp.status(), 403, "{email} {path}");
        }
    }
    let anonymous = app.browser();
    let resp = anonymous.post_form(&suspend, &[("reason", "x")]).await;
    assert!(
        matches!(resp.status().as_u16(), 303 | 403),
        "{}",
        resp.status()
    );
    let admin = admin(app).await;
    for token in ["", "not-the-token"] {
        for path in [&suspend, &reactivate] {
            let resp = admin
                .post_form(path, &[("csrf_token", token), ("reason", "fraud")])
                .await;
            assert_eq!(resp.status(), 403, "{path} {token:?}");
        }
    }
    // Nothing was suspended: the agency still signs in.
    app.browser().login(&agency_email).await;
}
