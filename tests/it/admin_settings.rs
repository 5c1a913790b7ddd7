//! `/admin/settings`: platform settings kept in the database, validated, audited, and
//! seen by every `serve` process within seconds without a restart.

use diesel::prelude::*;
use leadmarket::db::schema::{audit_events, platform_settings};
use leadmarket::domain::Role;
use leadmarket::domain::audit::{AuditAction, AuditActor};

use crate::helpers::{Browser, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_saved_setting_reaches_a_second_instance_on_the_same_database_within_seconds,
    a_settings_change_is_audited_with_before_after_and_address,
    a_bad_value_is_refused_with_its_range_and_nothing_is_lost_or_stored,
    only_an_admin_reaches_the_settings_page_and_form,
    the_settings_form_needs_its_csrf_token,
);

const FORM: &[(&str, &str)] = &[
    ("return_window_days", "10"),
    ("return_cap_bp", "25"),
    ("dispute_answer_days", "4"),
    ("commission_bp", "12.5"),
    ("dedup_days", "45"),
    ("quality_suspend_bp", "15"),
    ("quality_min_sales", "20"),
    ("invoice_due_days", "30"),
    ("tax_rate_bp", "19"),
];

async fn admin(app: &TestApp) -> (Browser, String) {
    let (_, email) = app.member(Role::Admin, "Platform");
    let b = app.browser();
    b.login(&email).await;
    (b, email)
}

async fn submit(b: &Browser, form: &[(&str, &str)]) -> (u16, String) {
    let token = b.csrf("/admin/settings").await;
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    let resp = b.post_form("/admin/settings", &fields).await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn a_saved_setting_reaches_a_second_instance_on_the_same_database_within_seconds(
    app: &TestApp,
) {
    let second = app.second_instance().await;
    assert_eq!(second.state.config().disputes.window_days, 7);
    let (b, _) = admin(app).await;
    let (status, html) = submit(&b, FORM).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Settings saved"), "{html}");
    // The saving process sees it at once.
    let c = app.state.config();
    assert_eq!(
        (
            c.disputes.window_days,
            c.commission_bp,
            c.intake.commission_bp
        ),
        (10, 1250, 1250)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let c = second.state.config();
        if c.disputes.window_days == 10 {
            assert_eq!(c.disputes.cap_bp, 2500);
            assert_eq!(c.disputes.answer_working_days, 4);
            assert_eq!(c.intake.dedup_days, 45);
            assert_eq!(c.billing.due_days, 30);
            assert_eq!(c.billing.tax_bp, 1900);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second instance still has the old settings after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The second instance's page shows what counts now.
    let (_, email) = app.member(Role::Admin, "Platform two");
    let b2 = second.browser();
    b2.login(&email).await;
    let (_, html) = b2.get_text("/admin/settings").await;
    assert!(
        html.contains(r#"name="commission_bp" inputmode="decimal" required value="12.5""#),
        "{html}"
    );
    second.finish().await;
}

async fn a_settings_change_is_audited_with_before_after_and_address(app: &TestApp) {
    let (b, email) = admin(app).await;
    let (status, _) = submit(&b, &[("return_window_days", "9"), ("tax_rate_bp", "7.5")]).await;
    assert_eq!(status, 200);
    // Saving the same values again changes nothing and writes no second entry.
    let (_, html) = submit(&b, &[("return_window_days", "9")]).await;
    assert!(html.contains("Nothing changed"), "{html}");
    let mut rows = app.with_conn(|c| leadmarket::store::audit::recent(c, 10).unwrap());
    // The admin's sign-in has its own entry.
    rows.retain(|e| e.action != AuditAction::Login);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let e = &rows[0];
    assert_eq!(
        (e.action, e.actor),
        (AuditAction::SettingsChanged, AuditActor::Admin)
    );
    let (user_id, address, detail) = (&e.user_id, &e.address, &e.detail);
    assert_eq!(
        detail.as_deref(),
        Some("return_window_days: 7 -> 9; tax_rate_bp: 0 -> 750")
    );
    assert_eq!(address.as_deref(), Some("127.0.0.1"));
    let admin_id = app.with_conn(|c| {
        leadmarket::db::schema::users::table
            .filter(leadmarket::db::schema::users::email.eq(&email))
            .select(leadmarket::db::schema::users::id)
            .first::<String>(c)
            .unwrap()
    });
    assert_eq!(user_id.as_deref(), Some(admin_id.as_str()));
    let version: i64 = app.with_conn(|c| {
        platform_settings::table
            .select(platform_settings::version)
            .first(c)
            .unwrap()
    });
    assert_eq!(version, 1);
}

async fn a_bad_value_is_refused_with_its_range_and_nothing_is_lost_or_stored(app: &TestApp) {
    let (b, _) = admin(app).await;
    let (status, html) = submit(
        &b,
        &[
            ("return_window_days", "0"),
            ("commission_bp", "abc"),
            ("invoice_due_days", "21"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("Return window must be between 1 days and 90 days"),
        "{html}"
    );
    assert!(
        html.contains("Platform commission: type a percentage"),
        "{html}"
    );
    // What was typed stays in the form.
    assert!(html.contains(r#"value="abc""#), "{html}");
    assert!(html.contains(r#"value="21""#), "{html}");
    let stored: i64 = app.with_conn(|c| platform_settings::table.count().get_result(c).unwrap());
    assert_eq!(stored, 0);
    assert_eq!(app.state.config().billing.due_days, 14);
    let audited: i64 = app.with_conn(|c| {
        audit_events::table
            .filter(audit_events::action.ne(AuditAction::Login))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(audited, 0);
}

async fn only_an_admin_reaches_the_settings_page_and_form(app: &TestApp) {
    let (b, _) = admin(app).await;
    let token = b.csrf("/admin/settings").await;
    let (platform, _) = app.member(Role::Finance, "Platform staff");
    let finance = app.user(&platform, Role::Finance);
    let (_, agency) = app.member(Role::Agency, "Acme Leads");
    let (_, buyer) = app.member(Role::Buyer, "Keystone");
    for email in [finance, agency, buyer] {
        let other = app.browser();
        other.login(&email).await;
        assert_eq!(other.get("/admin/settings").await.status(), 403, "{email}");
        let own = other.csrf("/dashboard").await;
        let resp = other
            .post_form(
                "/admin/settings",
                &[("csrf_token", own.as_str()), ("tax_rate_bp", "50")],
            )
            .await;
        assert_eq!(resp.status(), 403, "{email}");
    }
    let anonymous = app.browser();
    let resp = anonymous.get("/admin/settings").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fadmin%2Fsettings"
    );
    let resp = anonymous
        .post_form(
            "/admin/settings",
            &[("csrf_token", token.as_str()), ("tax_rate_bp", "50")],
        )
        .await;
    assert!(
        matches!(resp.status().as_u16(), 303 | 403),
        "{}",
        resp.status()
    );
    assert_eq!(app.state.config().billing.tax_bp, 0);
}

async fn the_settings_form_needs_its_csrf_token(app: &TestApp) {
    let (b, _) = admin(app).await;
    for token in ["", "not-the-token"] {
        let resp = b
            .post_form(
                "/admin/settings",
                &[("csrf_token", token), ("tax_rate_bp", "50")],
            )
            .await;
        assert_eq!(resp.status(), 403, "token {token:?}");
    }
    assert_eq!(app.state.config().billing.tax_bp, 0);
}
