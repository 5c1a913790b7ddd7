//! Running organisations and people from pages: an admin creates, finds and pages through
//! organisations; invites people by a mailed one-time link (valid 72 hours, single use,
//! resend stops the old link, revoke stops it); an agency's or buyer's user invites
//! colleagues into its own organisation only; an admin disables (ending the sessions)
//! and re-enables users and changes roles within the rules. Every step is audited
//! without an email address; every page and form is for its roles only and needs its
//! CSRF token.

use chrono::TimeDelta;
use diesel::prelude::*;
use leadmarket::db::schema::{invitations, outbox, users};
use leadmarket::domain::audit::{AuditAction, AuditActor};
use leadmarket::domain::{OrgKind, Role};
use leadmarket::services::invitations::{self as invites, Inviter};
use leadmarket::store;

use crate::helpers::{Browser, PASSWORD, TestApp, csrf_from};
use crate::on_both_backends;

on_both_backends!(
    an_admin_creates_an_organisation_and_finds_it_by_name_or_slug_page_by_page,
    an_invitation_sets_the_password_once_and_the_new_user_signs_in_with_its_role,
    an_invitation_works_for_72_hours_on_the_clock_it_is_given,
    resending_an_invitation_stops_the_old_link_and_revoking_stops_the_new_one,
    simultaneous_invitations_of_one_address_leave_one_open,
    a_buyers_user_invites_colleagues_into_its_own_organisation_only,
    disabling_a_user_ends_their_sessions_and_re_enabling_lets_them_back,
    roles_change_only_within_the_organisations_kind_with_a_clear_refusal,
    the_new_pages_and_forms_are_for_their_roles_only_and_need_their_token,
);

const NEW_PASSWORD: &str = "an-invited-password";

async fn admin(app: &TestApp) -> (Browser, String) {
    let (_, email) = app.member(Role::Admin, "Platform");
    let b = app.browser();
    b.login(&email).await;
    (b, email)
}

/// Posts `extra` to `path` with the session's token (read from `page`).
async fn post(b: &Browser, page: &str, path: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let token = b.csrf(page).await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(extra);
    b.post_form(path, &form).await
}

/// Every entry's detail, asserting none holds an email address.
fn audit(app: &TestApp) -> Vec<(AuditAction, AuditActor, String)> {
    let entries = app.with_conn(|c| store::audit::recent(c, 100).unwrap());
    entries
        .into_iter()
        .map(|e| {
            let detail = e.detail.unwrap_or_default();
            assert!(!detail.contains('@'), "no email in the audit log: {detail}");
            (e.action, e.actor, detail)
        })
        .collect()
}

/// The path of the newest invitation link mailed to `to` (from the outbox, so the test
/// does not wait for the sender).
fn link_to(app: &TestApp, to: &str) -> String {
    let bodies: Vec<String> = app.with_conn(|c| {
        outbox::table
            .filter(outbox::template.eq("invitation"))
            .filter(outbox::recipient.eq(to))
            .order(outbox::created_at.desc())
            .select(outbox::text_body)
            .load(c)
            .unwrap()
    });
    let body = bodies
        .first()
        .unwrap_or_else(|| panic!("no invitation to {to}"));
    let start = body.find("/invitation?token=").expect("a link");
    body[start..].split_whitespace().next().unwrap().to_string()
}

fn token_of(path: &str) -> &str {
    path.split("token=").nth(1).unwrap()
}

async fn accept(b: &Browser, path: &str, password: &str) -> reqwest::Response {
    let (_, page) = b.get_text(path).await;
    let csrf = csrf_from(&page).expect("a form");
    b.post_form(
        "/invitation",
        &[
            ("csrf_token", csrf.as_str()),
            ("token", token_of(path)),
            ("name", "Nina New"),
            ("password", password),
        ],
    )
    .await
}

fn invitation_id(app: &TestApp, email: &str) -> String {
    app.with_conn(|c| {
        invitations::table
            .filter(invitations::email.eq(email))
            .select(invitations::id)
            .first(c)
            .unwrap()
    })
}

fn user_id(app: &TestApp, email: &str) -> String {
    app.with_conn(|c| {
        users::table
            .filter(users::email.eq(email))
            .select(users::id)
            .first(c)
            .unwrap()
    })
}

async fn an_admin_creates_an_organisation_and_finds_it_by_name_or_slug_page_by_page(app: &TestApp) {
    let (admin, _) = admin(app).await;
    let page = "/admin/organisations";
    let resp = post(
        &admin,
        page,
        page,
        &[
            ("name", "Northwind Leads"),
            ("kind", "agency"),
            ("slug", ""),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/admin/organisations?q=northwind-leads"
    );
    let (_, html) = admin
        .get_text("/admin/organisations?q=northwind-leads")
        .await;
    assert!(html.contains("Created agency `northwind-leads`"), "{html}");
    assert!(html.contains("<code>northwind-leads</code>"), "{html}");

    // A taken slug, an empty name and the platform kind are refused, saying why and
    // keeping what was typed.
    let resp = post(
        &admin,
        page,
        page,
        &[
            ("name", "Northwind Two"),
            ("kind", "buyer"),
            ("slug", "northwind-leads"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("An organisation with slug `northwind-leads` exists already"),
        "{html}"
    );
    assert!(html.contains("value=\"Northwind Two\""), "{html}");
    let resp = post(&admin, page, page, &[("name", "  "), ("kind", "buyer")]).await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Name must be 1-120 characters")
    );
    let resp = post(
        &admin,
        page,
        page,
        &[("name", "Second platform"), ("kind", "platform")],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("there is one platform organisation")
    );

    // Search matches name or slug, case-insensitively; `%` is a character, not a wildcard.
    let (_, html) = admin.get_text("/admin/organisations?q=NORTHWIND").await;
    assert!(html.contains("Northwind Leads"), "{html}");
    assert!(!html.contains("Platform staff"));
    let (_, html) = admin.get_text("/admin/organisations?q=%25").await;
    assert!(html.contains("No organisation"), "{html}");

    // 55 buyers: two pages of 50, each linking to the other, the search kept.
    for i in 0..55 {
        app.org(OrgKind::Buyer, &format!("Paged buyer {i:02}"));
    }
    let (_, first) = admin.get_text("/admin/organisations?q=paged").await;
    assert_eq!(first.matches("Paged buyer").count(), 50);
    assert!(
        first.contains("href=\"/admin/organisations?page=2&#38;q=paged\""),
        "{first}"
    );
    assert!(!first.contains("Previous page"));
    let (_, second) = admin.get_text("/admin/organisations?page=2&q=paged").await;
    assert_eq!(second.matches("Paged buyer").count(), 5, "{second}");
    assert!(second.contains("Paged buyer 54"));
    assert!(
        second.contains("href=\"/admin/organisations?page=1&#38;q=paged\""),
        "{second}"
    );
    assert!(!second.contains("Next page"));

    let created: Vec<_> = audit(app)
        .into_iter()
        .filter(|(a, _, _)| *a == AuditAction::OrgCreated)
        .collect();
    assert_eq!(
        created,
        [(
            AuditAction::OrgCreated,
            AuditActor::Admin,
            "kind: agency, name: Northwind Leads, slug: northwind-leads".to_string()
        )]
    );
}

async fn an_invitation_sets_the_password_once_and_the_new_user_signs_in_with_its_role(
    app: &TestApp,
) {
    let buyer = app.org(OrgKind::Buyer, "Keystone");
    let (admin, _) = admin(app).await;
    let email = "nina@keystone.example";
    let resp = post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[("email", email), ("org", &buyer.slug), ("role", "buyer")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin
        .get_text(resp.headers()["location"].to_str().unwrap())
        .await;
    assert!(html.contains("Invitation sent"), "{html}");
    assert!(html.contains(email) && html.contains("pending"), "{html}");
    // The same address again is refused while the first is open.
    let resp = post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[("email", email), ("org", &buyer.slug), ("role", "buyer")],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("is invited already"));
    // A role that does not fit the organisation is refused, and so is an unknown slug.
    let resp = post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[
            ("email", "x@keystone.example"),
            ("org", &buyer.slug),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("belongs to a platform organisation")
    );
    let resp = post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[
            ("email", "x@keystone.example"),
            ("org", "no-such-org"),
            ("role", "buyer"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Give the slug of an existing organisation")
            && !html.contains("No organisation has the slug"),
        "{html}"
    );
    assert!(html.contains("value=\"no-such-org\""), "kept as typed");
    let (_, html) = admin.get_text("/admin/users?org=no-such-org").await;
    assert!(
        html.contains("No organisation has the slug `no-such-org`"),
        "{html}"
    );
    let (_, html) = admin
        .get_text(&format!("/admin/users?org={}", buyer.slug))
        .await;
    assert!(html.contains(email), "the filter shows its invitations");

    let path = link_to(app, email);
    let mail = {
        let mut found = None;
        for _ in 0..100 {
            found = app.state.mailer.sent().into_iter().find(|m| m.to == email);
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        found.expect("the invitation is mailed")
    };
    assert_eq!(mail.subject, "Join Keystone on leadmarket");
    assert!(mail.text.contains("within 72 hours"));
    // Only the token's hash is stored.
    let stored: String = app.with_conn(|c| {
        invitations::table
            .select(invitations::token_hash)
            .first(c)
            .unwrap()
    });
    assert_ne!(stored, token_of(&path));

    let b = app.browser();
    let (status, page) = b.get_text(&path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Keystone") && page.contains(email), "{page}");
    let short = accept(&b, &path, "short").await;
    assert_eq!(short.status(), 422);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("Password must be at least 10 characters")
    );
    let resp = accept(&b, &path, NEW_PASSWORD).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    let (_, login) = b.get_text("/login").await;
    assert!(login.contains("Your account is ready"), "{login}");

    // The link works once.
    assert_eq!(b.get_text(&path).await.0, 410);
    assert_eq!(
        accept_directly(&b, &path, "another-password-123").await,
        410
    );
    let signed_in = app.browser();
    assert_eq!(
        signed_in.login_attempt(email, NEW_PASSWORD).await.status(),
        303
    );
    assert_eq!(signed_in.get("/catalogue").await.status(), 200, "a buyer");
    let (_, html) = signed_in.get_text("/settings/organisation").await;
    assert!(html.contains("Nina New"), "{html}");

    let uid = user_id(app, email);
    let inv = invitation_id(app, email);
    let entries = audit(app);
    assert!(entries.contains(&(
        AuditAction::UserInvited,
        AuditActor::Admin,
        format!("invitation {inv}, role: buyer")
    )));
    assert!(entries.contains(&(
        AuditAction::InvitationAccepted,
        AuditActor::User,
        format!("invitation {inv}: user {uid}, role: buyer")
    )));
}

/// Posts the accept form with a fresh CSRF token from the login page (the invitation
/// page has no form once the link is dead); returns the status.
async fn accept_directly(b: &Browser, path: &str, password: &str) -> u16 {
    let csrf = b.csrf("/login").await;
    b.post_form(
        "/invitation",
        &[
            ("csrf_token", csrf.as_str()),
            ("token", token_of(path)),
            ("password", password),
        ],
    )
    .await
    .status()
    .as_u16()
}

async fn an_invitation_works_for_72_hours_on_the_clock_it_is_given(app: &TestApp) {
    let buyer = app.org(OrgKind::Buyer, "Keystone");
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let admin = Inviter {
        user_id: user_id(app, &admin_email),
        name: "Ada".into(),
        role: Role::Admin,
        org_id: platform.id.clone(),
        address: "127.0.0.1".into(),
    };
    let config = app.state.config().clone();
    let t0 = store::now() - TimeDelta::hours(100);
    let email = "late@keystone.example";
    app.with_conn(|c| invites::invite(c, &config, &admin, &buyer.id, email, Role::Buyer, t0))
        .unwrap();
    let path = link_to(app, email);
    let token = token_of(&path).to_string();
    let live = |at| app.with_conn(|c| invites::live(c, &token, at).unwrap().is_some());
    assert!(live(t0 + TimeDelta::hours(72) - TimeDelta::seconds(1)));
    assert!(!live(t0 + TimeDelta::hours(72)));
    let err = app
        .with_conn(|c| {
            invites::accept(
                c,
                &token,
                "",
                NEW_PASSWORD,
                "127.0.0.1",
                t0 + TimeDelta::hours(72),
            )
        })
        .unwrap_err();
    assert!(err.details()[0].problem.contains("has expired"), "{err:?}");
    // Over HTTP, now is 100 hours after it was sent.
    let b = app.browser();
    let (status, page) = b.get_text(&path).await;
    assert_eq!(status, 410);
    assert!(page.contains("has expired"), "{page}");
    assert_eq!(accept_directly(&b, &path, NEW_PASSWORD).await, 410);
    assert_eq!(
        app.browser()
            .login_attempt(email, NEW_PASSWORD)
            .await
            .status(),
        401
    );
    // An expired invitation does not block a new one to the same address.
    app.with_conn(|c| {
        invites::invite(
            c,
            &config,
            &admin,
            &buyer.id,
            email,
            Role::Buyer,
            store::now(),
        )
    })
    .unwrap();
}

async fn resending_an_invitation_stops_the_old_link_and_revoking_stops_the_new_one(app: &TestApp) {
    let agency = app.org(OrgKind::Agency, "Acme Leads");
    let (admin, _) = admin(app).await;
    let email = "sam@acme.example";
    post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[("email", email), ("org", &agency.slug), ("role", "agency")],
    )
    .await;
    let first = link_to(app, email);
    let id = invitation_id(app, email);
    let resp = post(
        &admin,
        "/admin/users",
        &format!("/admin/invitations/{id}/resend"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let second = link_to(app, email);
    assert_ne!(first, second);
    let b = app.browser();
    assert_eq!(b.get_text(&first).await.0, 410, "the old link stopped");
    assert_eq!(b.get_text(&second).await.0, 200);

    let resp = post(
        &admin,
        "/admin/users",
        &format!("/admin/invitations/{id}/revoke"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(html.contains("Invitation revoked"), "{html}");
    assert!(
        !html.contains(email),
        "a revoked invitation leaves the list"
    );
    assert_eq!(b.get_text(&second).await.0, 410);
    assert_eq!(accept_directly(&b, &second, NEW_PASSWORD).await, 410);
    // A revoked invitation can neither be resent nor revoked again.
    post(
        &admin,
        "/admin/users",
        &format!("/admin/invitations/{id}/resend"),
        &[],
    )
    .await;
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(
        html.contains("This invitation was accepted or revoked already"),
        "{html}"
    );

    let mine: Vec<_> = audit(app)
        .into_iter()
        .filter(|(_, _, d)| d.contains(&id))
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(
        mine,
        [
            AuditAction::InvitationRevoked,
            AuditAction::InvitationResent,
            AuditAction::UserInvited
        ]
    );
}

async fn simultaneous_invitations_of_one_address_leave_one_open(app: &TestApp) {
    let buyer = app.org(OrgKind::Buyer, "Keystone");
    let other = app.org(OrgKind::Buyer, "Northwind");
    let (admin, _) = admin(app).await;
    let token = admin.csrf("/admin/users").await;
    let email = "nina@keystone.example";
    let answers = futures_util::future::join_all((0..8).map(|i| {
        let org = if i % 2 == 0 { &buyer.slug } else { &other.slug };
        let form = [
            ("csrf_token", token.as_str()),
            ("email", email),
            ("org", org.as_str()),
            ("role", "buyer"),
        ];
        let admin = &admin;
        async move { admin.post_form("/admin/users/invite", &form).await.status() }
    }))
    .await;
    let sent = answers.iter().filter(|s| s.as_u16() == 303).count();
    let refused = answers.iter().filter(|s| s.as_u16() == 422).count();
    assert_eq!((sent, refused), (1, 7), "{answers:?}");
    let open: i64 = app.with_conn(|c| {
        invitations::table
            .filter(invitations::email.eq(email))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(open, 1);
}

async fn a_buyers_user_invites_colleagues_into_its_own_organisation_only(app: &TestApp) {
    let (buyer, buyer_email) = app.member(Role::Buyer, "Keystone");
    let (other, _) = app.member(Role::Buyer, "Rival");
    let b = app.browser();
    b.login(&buyer_email).await;
    let (status, page) = b.get_text("/settings/colleagues").await;
    assert_eq!(status, 200);
    assert!(page.contains("They join as Buyer"), "{page}");
    let colleague = "colleague@keystone.example";
    let resp = post(
        &b,
        "/settings/colleagues",
        "/settings/colleagues",
        &[("email", colleague)],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, page) = b.get_text("/settings/colleagues").await;
    assert!(
        page.contains("Invitation sent") && page.contains(colleague),
        "{page}"
    );
    let resp = post(
        &b,
        "/settings/colleagues",
        "/settings/colleagues",
        &[("email", "not-an-email")],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("value=\"not-an-email\"")
    );

    // Another organisation's invitation does not exist for this user.
    let (admin, _) = admin(app).await;
    post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[
            ("email", "x@rival.example"),
            ("org", &other.slug),
            ("role", "buyer"),
        ],
    )
    .await;
    let theirs = invitation_id(app, "x@rival.example");
    for action in ["resend", "revoke"] {
        let resp = post(
            &b,
            "/settings/colleagues",
            &format!("/settings/colleagues/invitations/{theirs}/{action}"),
            &[],
        )
        .await;
        assert_eq!(resp.status(), 404, "{action}");
    }
    let (_, page) = b.get_text("/settings/colleagues").await;
    assert!(!page.contains("x@rival.example"), "{page}");

    let path = link_to(app, colleague);
    let nb = app.browser();
    assert_eq!(accept(&nb, &path, NEW_PASSWORD).await.status(), 303);
    let joined = app.with_conn(|c| store::users::find(c, &user_id(app, colleague)).unwrap());
    assert_eq!(
        (joined.organisation_id, joined.role),
        (buyer.id.clone(), Role::Buyer)
    );

    let inv = invitation_id(app, colleague);
    let by_user: Vec<_> = audit(app)
        .into_iter()
        .filter(|(a, _, _)| *a == AuditAction::UserInvited)
        .collect();
    assert!(by_user.contains(&(
        AuditAction::UserInvited,
        AuditActor::User,
        format!("invitation {inv}, role: buyer")
    )));
}

async fn disabling_a_user_ends_their_sessions_and_re_enabling_lets_them_back(app: &TestApp) {
    let (_, email) = app.member(Role::Buyer, "Keystone");
    let signed_in = app.browser();
    signed_in.login(&email).await;
    let (admin, admin_email) = admin(app).await;
    let id = user_id(app, &email);
    let resp = post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{id}/disable"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(
        html.contains("Disabled: the user is signed out everywhere"),
        "{html}"
    );
    let resp = signed_in.get("/dashboard").await;
    assert_eq!(resp.status(), 303, "the open session ended");
    assert_eq!(
        app.browser().login_attempt(&email, PASSWORD).await.status(),
        401
    );

    // An admin cannot disable themselves.
    let me = user_id(app, &admin_email);
    post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{me}/disable"),
        &[],
    )
    .await;
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(
        html.contains("You cannot disable your own account"),
        "{html}"
    );
    assert_eq!(admin.get("/admin/users").await.status(), 200);

    let resp = post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{id}/enable"),
        &[],
    )
    .await;
    assert_eq!(resp.status(), 303);
    app.browser().login(&email).await;

    let mine: Vec<_> = audit(app)
        .into_iter()
        .filter(|(_, _, d)| d.contains(&id))
        .collect();
    assert_eq!(
        mine,
        [
            (
                AuditAction::UserEnabled,
                AuditActor::Admin,
                format!("user {id}: disabled -> active")
            ),
            (
                AuditAction::UserDisabled,
                AuditActor::Admin,
                format!("user {id}: active -> disabled, 1 session(s) ended")
            ),
        ]
    );
}

async fn roles_change_only_within_the_organisations_kind_with_a_clear_refusal(app: &TestApp) {
    let platform = app.org(OrgKind::Platform, "");
    let finance_email = app.user(&platform, Role::Finance);
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");
    let (admin, admin_email) = admin(app).await;
    let finance = app.browser();
    finance.login(&finance_email).await;
    assert_eq!(finance.get("/admin/users").await.status(), 403);

    let fid = user_id(app, &finance_email);
    let resp = post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{fid}/role"),
        &[("role", "admin")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(html.contains("Role changed to Admin"), "{html}");
    assert!(
        !html.contains("$argon2") && !html.contains("password_hash"),
        "no page shows a password's hash"
    );
    assert_eq!(
        finance.get("/admin/users").await.status(),
        200,
        "at the next request"
    );

    let bid = user_id(app, &buyer_email);
    for role in ["admin", "agency"] {
        post(
            &admin,
            "/admin/users",
            &format!("/admin/users/{bid}/role"),
            &[("role", role)],
        )
        .await;
        let (_, html) = admin.get_text("/admin/users").await;
        assert!(
            html.contains(&format!(
                "users can only have the role buyer; `{role}` is not one of them"
            )),
            "{html}"
        );
    }
    let me = user_id(app, &admin_email);
    post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{me}/role"),
        &[("role", "finance")],
    )
    .await;
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(html.contains("You cannot change your own role"), "{html}");
    post(
        &admin,
        "/admin/users",
        &format!("/admin/users/{bid}/role"),
        &[("role", "owner")],
    )
    .await;
    let (_, html) = admin.get_text("/admin/users").await;
    assert!(
        html.contains("is not one of: agency, buyer, finance, admin"),
        "{html}"
    );

    let roles = app.with_conn(|c| {
        (
            store::users::find(c, &bid).unwrap().role,
            store::users::find(c, &me).unwrap().role,
        )
    });
    assert_eq!(roles, (Role::Buyer, Role::Admin));
    let changes: Vec<_> = audit(app)
        .into_iter()
        .filter(|(a, _, _)| *a == AuditAction::RoleChanged)
        .map(|(_, _, d)| d)
        .collect();
    assert_eq!(changes, [format!("user {fid}: role finance -> admin")]);
}

async fn the_new_pages_and_forms_are_for_their_roles_only_and_need_their_token(app: &TestApp) {
    let (agency, agency_email) = app.member(Role::Agency, "Acme Leads");
    let platform = app.org(OrgKind::Platform, "");
    let finance_email = app.user(&platform, Role::Finance);
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");
    let (admin, _) = admin(app).await;
    post(
        &admin,
        "/admin/users",
        "/admin/users/invite",
        &[
            ("email", "z@acme.example"),
            ("org", &agency.slug),
            ("role", "agency"),
        ],
    )
    .await;
    let inv = invitation_id(app, "z@acme.example");
    let uid = user_id(app, &buyer_email);
    let admin_pages = ["/admin/users", "/admin/organisations"];
    let admin_forms = [
        "/admin/organisations".to_string(),
        "/admin/users/invite".to_string(),
        format!("/admin/users/{uid}/disable"),
        format!("/admin/users/{uid}/enable"),
        format!("/admin/users/{uid}/role"),
        format!("/admin/invitations/{inv}/resend"),
        format!("/admin/invitations/{inv}/revoke"),
    ];
    let colleague_forms = [
        "/settings/colleagues".to_string(),
        format!("/settings/colleagues/invitations/{inv}/resend"),
        format!("/settings/colleagues/invitations/{inv}/revoke"),
    ];
    let fields = [
        ("name", "X Corp"),
        ("kind", "buyer"),
        ("email", "y@acme.example"),
        ("org", agency.slug.as_str()),
        ("role", "admin"),
    ];
    for email in [&finance_email, &agency_email, &buyer_email] {
        let b = app.browser();
        b.login(email).await;
        for page in admin_pages {
            assert_eq!(b.get(page).await.status(), 403, "{email} {page}");
        }
        let own = b.csrf("/dashboard").await;
        let mut form = vec![("csrf_token", own.as_str())];
        form.extend_from_slice(&fields);
        for path in &admin_forms {
            assert_eq!(
                b.post_form(path, &form).await.status(),
                403,
                "{email} {path}"
            );
        }
    }
    // Colleagues' page: agencies' and buyers' users only.
    for email in [&finance_email] {
        let b = app.browser();
        b.login(email).await;
        assert_eq!(b.get("/settings/colleagues").await.status(), 403);
        let own = b.csrf("/dashboard").await;
        for path in &colleague_forms {
            let resp = b
                .post_form(
                    path,
                    &[("csrf_token", own.as_str()), ("email", "q@acme.example")],
                )
                .await;
            assert_eq!(resp.status(), 403, "{path}");
        }
    }
    assert_eq!(admin.get("/settings/colleagues").await.status(), 403);

    // Signed out: the login page, coming back afterwards.
    let anonymous = app.browser();
    for (page, next) in [
        ("/admin/users", "/login?next=%2Fadmin%2Fusers"),
        (
            "/settings/colleagues",
            "/login?next=%2Fsettings%2Fcolleagues",
        ),
    ] {
        let resp = anonymous.get(page).await;
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers()["location"], next);
    }
    for path in admin_forms.iter().chain(&colleague_forms) {
        let resp = anonymous.post_form(path, &fields).await;
        assert!(
            matches!(resp.status().as_u16(), 303 | 403),
            "{path} {}",
            resp.status()
        );
    }

    // Without the session's token, every form is refused and changes nothing.
    let agency_user = app.browser();
    agency_user.login(&agency_email).await;
    for token in ["", "not-the-token"] {
        let mut form = vec![("csrf_token", token)];
        form.extend_from_slice(&fields);
        for path in &admin_forms {
            assert_eq!(
                admin.post_form(path, &form).await.status(),
                403,
                "{path} {token:?}"
            );
        }
        for path in &colleague_forms {
            assert_eq!(
                agency_user.post_form(path, &form).await.status(),
                403,
                "{path} {token:?}"
            );
        }
        let resp = app
            .browser()
            .post_form(
                "/invitation",
                &[
                    ("csrf_token", token),
                    ("token", "x"),
                    ("password", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(resp.status(), 403);
    }
    let open: i64 = app.with_conn(|c| {
        invitations::table
            .filter(invitations::revoked_at.is_null())
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(open, 1, "nothing was invited or revoked");
    app.browser().login(&buyer_email).await;
}
