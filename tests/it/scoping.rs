//! Role guards and organisation scoping on pages: another organisation's things are 404.

use leadmarket::domain::Role;

use crate::builders::BatchBuilder;
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    each_role_reaches_only_its_pages,
    an_agency_cannot_see_another_agencys_batch,
    api_keys_are_created_once_and_revoked_only_by_their_organisation,
    every_role_gets_a_dashboard_with_real_figures,
    unknown_pages_get_a_friendly_404,
    a_wrong_role_with_a_bad_form_token_learns_only_that_he_may_not,
);

async fn each_role_reaches_only_its_pages(app: &TestApp) {
    let (agency, agency_email) = app.member(Role::Agency, "Acme Leads");
    let batch = BatchBuilder::new(&agency).insert(app);
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let finance_email = app.user(&platform, Role::Finance);
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");

    let cases = [
        (&admin_email, "/admin/organisations", 200),
        (&finance_email, "/admin/organisations", 403),
        (&agency_email, "/admin/organisations", 403),
        (&buyer_email, "/admin/organisations", 403),
        (
            &agency_email,
            &format!("/batches/{}", batch.id) as &str,
            200,
        ),
        (&buyer_email, &format!("/batches/{}", batch.id), 403),
        (&admin_email, &format!("/batches/{}", batch.id), 403),
    ];
    for (email, path, expected) in cases {
        let b = app.browser();
        b.login(email).await;
        let (status, html) = b.get_text(path).await;
        assert_eq!(status, expected, "{email} on {path}");
        if expected == 403 {
            assert!(html.contains("not allowed"), "a friendly 403 page");
        }
    }
}

async fn an_agency_cannot_see_another_agencys_batch(app: &TestApp) {
    let (a, a_email) = app.member(Role::Agency, "Agency A");
    let (_, b_email) = app.member(Role::Agency, "Agency B");
    let batch = BatchBuilder::new(&a).insert(app);

    let owner = app.browser();
    owner.login(&a_email).await;
    let (status, html) = owner.get_text(&format!("/batches/{}", batch.id)).await;
    assert_eq!(status, 200);
    // The segment by its name, not its code.
    assert!(html.contains("Car insurance") && html.contains("25.00 EUR"));

    let other = app.browser();
    other.login(&b_email).await;
    assert_eq!(
        other.get(&format!("/batches/{}", batch.id)).await.status(),
        404
    );
    assert_eq!(other.get("/batches/not-a-uuid").await.status(), 404);
    assert_eq!(
        other
            .get(&format!("/batches/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
}

async fn api_keys_are_created_once_and_revoked_only_by_their_organisation(app: &TestApp) {
    let (_, a_email) = app.member(Role::Buyer, "Buyer A");
    let (_, b_email) = app.member(Role::Buyer, "Buyer B");
    let a = app.browser();
    a.login(&a_email).await;
    let token = a.csrf("/settings/organisation").await;
    let resp = a
        .post_form(
            "/settings/api-keys",
            &[("csrf_token", &token), ("name", "CRM")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let html = resp.text().await.unwrap();
    let secret = html
        .split("class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("lmk_"));
    // The key works, and is never shown again.
    let _ = app.token(&secret).await;
    let (_, page) = a.get_text("/settings/organisation").await;
    assert!(!page.contains(&secret));
    let key_id = page
        .split("/settings/api-keys/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();

    let b = app.browser();
    b.login(&b_email).await;
    let b_token = b.csrf("/settings/organisation").await;
    let resp = b
        .post_form(
            &format!("/settings/api-keys/{key_id}/revoke"),
            &[("csrf_token", &b_token)],
        )
        .await;
    assert_eq!(
        resp.status(),
        404,
        "another organisation's key is not found"
    );

    let resp = a
        .post_form(
            &format!("/settings/api-keys/{key_id}/revoke"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = app
        .api()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"api_key": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "a revoked key gets no token");
}

async fn every_role_gets_a_dashboard_with_real_figures(app: &TestApp) {
    let (agency, agency_email) = app.member(Role::Agency, "Acme Leads");
    BatchBuilder::new(&agency).insert(app);
    BatchBuilder::new(&agency).insert(app);
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let finance_email = app.user(&platform, Role::Finance);
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");
    let expectations: [(&str, &[&str]); 4] = [
        (
            &agency_email,
            &[
                "Batches",
                "<span class=\"stat-value\">2</span>",
                "Recent batches",
            ],
        ),
        (
            &buyer_email,
            &["Leads on offer", "The catalogue is empty right now."],
        ),
        (
            &finance_email,
            &["Agencies", "Buyers", "<span class=\"stat-value\">1</span>"],
        ),
        (
            &admin_email,
            &["Users by role", "<span class=\"stat-value\">4</span>"],
        ),
    ];
    for (email, needles) in expectations {
        let b = app.browser();
        b.login(email).await;
        let (status, html) = b.get_text("/dashboard").await;
        assert_eq!(status, 200);
        for needle in needles {
            assert!(html.contains(needle), "{email}'s dashboard lacks {needle}");
        }
    }
}

async fn unknown_pages_get_a_friendly_404(app: &TestApp) {
    let resp = app.browser().get("/no/such/page").await;
    assert_eq!(resp.status(), 404);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let resp = app
        .api()
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

/// The role check and the CSRF check race as the handler's extractors run together: the
/// answer must not depend on which finishes first. The loop gives a race room to show.
async fn a_wrong_role_with_a_bad_form_token_learns_only_that_he_may_not(app: &TestApp) {
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");
    let b = app.browser();
    b.login(&buyer_email).await;
    for token in ["", "not-the-token"].iter().cycle().take(20) {
        let resp = b
            .post_form(
                "/admin/pricing",
                &[
                    ("csrf_token", token),
                    ("kind", "warmth"),
                    ("match_value", "hot"),
                    ("factor", "2"),
                ],
            )
            .await;
        assert_eq!(resp.status(), 403);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("you are not allowed to do this"),
            "token {token:?}: {html}"
        );
    }
}
