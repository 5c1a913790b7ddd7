//! The audit log of sensitive actions (issue 24): sign-ins and failed ones, price rules,
//! suppression changes, dispute decisions, invoices, payments and payouts each leave an
//! entry with who, when, what and from which address, and none holds a lead's contact.
//! Admins filter it by actor, organisation, kind and date, page through it and export
//! the same entries as formula-safe CSV; nothing edits or deletes an entry.

use chrono::TimeDelta;
use leadmarket::domain::Role;
use leadmarket::domain::audit::{AuditAction, AuditActor, Who};
use leadmarket::services;
use leadmarket::store::{self, audit::AuditRow};
use serde_json::json;

use crate::builders::{AgencyBuilder, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::{Browser, PASSWORD, TestApp, this_month};
use crate::on_both_backends;

on_both_backends!(
    sign_ins_and_failed_ones_are_logged_with_the_address_and_never_what_was_typed,
    every_money_dispute_price_and_suppression_action_is_logged_by_its_actor_without_a_contact,
    the_log_filters_by_actor_organisation_kind_and_date_in_pages_and_exports_the_same_as_csv,
    only_an_admin_reads_the_log_and_no_route_edits_or_deletes_an_entry,
);

fn entries(app: &TestApp) -> Vec<AuditRow> {
    app.with_conn(|c| store::audit::recent(c, 10_000).unwrap())
}

fn user_id(app: &TestApp, email: &str) -> String {
    app.with_conn(|c| store::users::find_active_by_email(c, email))
        .unwrap()
        .unwrap()
        .id
}

/// Every text an entry holds, for looking for contacts in it.
fn text_of(e: &AuditRow) -> String {
    [
        Some(e.action.to_string()),
        Some(e.actor.to_string()),
        e.user_id.clone(),
        e.address.clone(),
        e.request_id.clone(),
        e.org_id.clone(),
        e.detail.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" | ")
    .to_lowercase()
}

fn assert_no_entry_holds(app: &TestApp, needles: &[String]) {
    for e in entries(app) {
        let text = text_of(&e);
        for n in needles {
            assert!(!text.contains(&n.to_lowercase()), "{n} in {text}");
        }
    }
}

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    b.login(email).await;
    b
}

async fn sign_ins_and_failed_ones_are_logged_with_the_address_and_never_what_was_typed(
    app: &TestApp,
) {
    let (agency, email) = app.member(Role::Agency, "Acme Leads");
    let agent = user_id(app, &email);
    signed_in(app, &email).await;
    let wrong = app
        .browser()
        .login_attempt(&email, "not-my-password-1")
        .await;
    assert_eq!(wrong.status(), 401);
    let ghost = "ghost.person@example.net";
    let typed = "Typed-Secret-991";
    let unknown = app.browser().login_attempt(ghost, typed).await;
    assert_eq!(unknown.status(), 401);

    let log = entries(app);
    let logins: Vec<_> = log
        .iter()
        .filter(|e| matches!(e.action, AuditAction::Login | AuditAction::LoginFailed))
        .map(|e| {
            (
                e.action,
                e.actor,
                e.user_id.clone(),
                e.org_id.clone(),
                e.detail.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        logins,
        [
            (
                AuditAction::LoginFailed,
                AuditActor::Visitor,
                None,
                None,
                "no active account with that email".to_string()
            ),
            (
                AuditAction::LoginFailed,
                AuditActor::Visitor,
                Some(agent.clone()),
                Some(agency.id.clone()),
                "wrong password".to_string()
            ),
            (
                AuditAction::Login,
                AuditActor::Agency,
                Some(agent),
                Some(agency.id.clone()),
                "signed in".to_string()
            ),
        ]
    );
    for e in &log {
        assert_eq!(e.address.as_deref(), Some("127.0.0.1"), "{e:?}");
    }
    assert_no_entry_holds(
        app,
        &[
            ghost.into(),
            "ghost".into(),
            typed.into(),
            "not-my-password".into(),
            PASSWORD.into(),
        ],
    );
}

async fn post(b: &Browser, page: &str, path: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let token = b.csrf(page).await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(extra);
    b.post_form(path, &form).await
}

async fn every_money_dispute_price_and_suppression_action_is_logged_by_its_actor_without_a_contact(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (buyer, _) = BuyerBuilder::new("Keystone")
        .credit(10_000_000)
        .create_with_login(app)
        .await;
    let mut ids = Vec::new();
    let mut contacts = Vec::new();
    // Twelve bought, so two returns stay under the 20% cap; the thirteenth is not sold.
    for n in 0..13 {
        let lead = LeadBuilder::new(n);
        let body = lead.json();
        let phone = body["phone"].as_str().unwrap().to_string();
        contacts.push(body["email"].as_str().unwrap().to_string());
        // The number as dialled, without its country code, is a contact too.
        contacts.push(phone.trim_start_matches("+44").to_string());
        contacts.push(phone);
        ids.push(LeadBuilder::new(n).post(app, &agency.token).await);
    }
    PurchaseBuilder::of(&ids[..12])
        .post(app, &buyer.token)
        .await;
    let mut disputes = Vec::new();
    for lead in &ids[..2] {
        let (status, d) = app
            .post_json(
                "/api/v1/disputes",
                &buyer.token,
                &json!({"lead_id": lead, "reason": "competitor", "comment": "a rival"}),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        assert_eq!(d["status"], "open", "{d}");
        disputes.push(d["id"].as_str().unwrap().to_string());
    }

    // The agency accepts one and contests the other, quoting the lead's contact in its
    // comment; finance rejects the contested one.
    let agent = signed_in(app, &agency.email).await;
    let resp = post(
        &agent,
        "/agency/disputes",
        &format!("/agency/disputes/{}/accept", disputes[0]),
        &[("comment", "fair enough")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let quoted = format!("{} answered our call", contacts[3]);
    let resp = post(
        &agent,
        "/agency/disputes",
        &format!("/agency/disputes/{}/contest", disputes[1]),
        &[("comment", quoted.as_str())],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let finance_email = app.user(&platform, Role::Finance);
    let desk = signed_in(app, &finance_email).await;
    let resp = post(
        &desk,
        "/finance/disputes",
        &format!("/finance/disputes/{}/decide", disputes[1]),
        &[
            ("decision", "reject"),
            ("comment", "the consent is on file"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);

    // Billing: run, issue, a payment, a credit note, the agency's payout.
    let period = this_month().code();
    let resp = post(
        &desk,
        "/finance/invoices",
        "/finance/billing-run",
        &[("period", &period)],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let invoice = app
        .with_conn(|c| store::invoices::list(c, Some(&buyer.id), false))
        .unwrap()
        .remove(0);
    let path = |what: &str| format!("/finance/invoices/{}/{what}", invoice.id);
    let page = format!("/finance/invoices/{}", invoice.id);
    assert_eq!(post(&desk, &page, &path("issue"), &[]).await.status(), 303);
    let today = store::now().format("%Y-%m-%d").to_string();
    let resp = post(
        &desk,
        &page,
        &path("payments"),
        &[
            ("amount", "1"),
            ("received_on", &today),
            ("reference", "TRF-77"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let resp = post(
        &desk,
        &page,
        &path("credit-notes"),
        &[("amount", "1"), ("reason", "goodwill")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let statement = app
        .with_conn(|c| store::statements::list(c, None, true))
        .unwrap()
        .remove(0);
    let resp = post(
        &desk,
        "/finance/payouts",
        &format!("/finance/statements/{}/paid", statement.id),
        &[("paid_on", &today), ("reference", "PAYOUT-9")],
    )
    .await;
    assert_eq!(resp.status(), 303);

    // The admin tunes a price rule and removes it, and works the suppression list with
    // the last lead's email and phone.
    let admin = signed_in(app, &admin_email).await;
    for factor in ["1.2", ""] {
        let resp = post(
            &admin,
            "/admin/pricing",
            "/admin/pricing",
            &[
                ("kind", "country"),
                ("match_value", "is"),
                ("factor", factor),
            ],
        )
        .await;
        assert_eq!(resp.status(), 200);
    }
    let resp = post(
        &admin,
        "/admin/suppressions",
        "/admin/suppressions",
        &[
            ("entries", contacts[36].as_str()),
            ("reason", "opt_out"),
            ("default_country", ""),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let csv = format!("phone\n{}\n", contacts[38]);
    let token = admin.csrf("/admin/suppressions").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("reason", "do_not_call")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("dnc.csv"),
        );
    let resp = admin
        .client
        .post(app.url("/admin/suppressions/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = post(
        &admin,
        "/admin/suppressions",
        "/admin/suppressions/remove",
        &[
            ("entry", contacts[36].as_str()),
            ("why", "added by mistake, ticket 4711"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);

    let log = entries(app);
    let one = |action: AuditAction| -> Vec<&AuditRow> {
        log.iter().filter(|e| e.action == action).collect()
    };
    let agent_id = user_id(app, &agency.email);
    let finance_id = user_id(app, &finance_email);
    let admin_id = user_id(app, &admin_email);
    let decided = one(AuditAction::DisputeDecided);
    assert_eq!(decided.len(), 3, "{decided:?}");
    // Newest first: finance's rejection, the agency's contest, its acceptance.
    let who: Vec<_> = decided
        .iter()
        .map(|e| (e.actor, e.user_id.clone().unwrap()))
        .collect();
    assert_eq!(
        who,
        [
            (AuditActor::Finance, finance_id.clone()),
            (AuditActor::Agency, agent_id.clone()),
            (AuditActor::Agency, agent_id.clone()),
        ]
    );
    let details: Vec<String> = decided.iter().map(|e| e.detail.clone().unwrap()).collect();
    assert!(details[0].contains("contested -> rejected"), "{details:?}");
    assert!(details[1].contains("open -> contested"), "{details:?}");
    assert!(details[2].contains("open -> approved"), "{details:?}");
    assert!(
        decided
            .iter()
            .all(|e| e.org_id.as_deref() == Some(agency.org.id.as_str()))
    );
    for (action, actor, user, org, says) in [
        (
            AuditAction::InvoiceIssued,
            AuditActor::Finance,
            &finance_id,
            &buyer.id,
            "draft -> issued as LM-",
        ),
        (
            AuditAction::PaymentRecorded,
            AuditActor::Finance,
            &finance_id,
            &buyer.id,
            "by bank_transfer (reference TRF-77)",
        ),
        (
            AuditAction::InvoiceCredited,
            AuditActor::Finance,
            &finance_id,
            &buyer.id,
            "by credit note CN-",
        ),
        (
            AuditAction::PayoutRecorded,
            AuditActor::Finance,
            &finance_id,
            &agency.org.id,
            "open -> paid out",
        ),
    ] {
        let found = one(action);
        assert_eq!(found.len(), 1, "{action}: {found:?}");
        let e = found[0];
        assert_eq!(
            (e.actor, e.user_id.as_ref(), e.org_id.as_ref()),
            (actor, Some(user), Some(org)),
            "{action}"
        );
        assert!(e.detail.as_deref().unwrap().contains(says), "{e:?}");
    }
    let rules: Vec<String> = one(AuditAction::PriceRuleChanged)
        .iter()
        .map(|e| e.detail.clone().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["country IS: 1.2000 -> none", "country IS: none -> 1.2000"]
    );
    let added = one(AuditAction::SuppressionAdded);
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(
        added[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("1 added as do_not_call from import"),
        "{added:?}"
    );
    let removed = one(AuditAction::SuppressionRemoved);
    assert_eq!(removed.len(), 1);
    assert!(
        removed[0]
            .detail
            .as_deref()
            .unwrap()
            .ends_with("removed: added by mistake, ticket 4711"),
        "{removed:?}"
    );
    for e in added
        .iter()
        .chain(&removed)
        .chain(&one(AuditAction::PriceRuleChanged))
    {
        assert_eq!(
            (e.actor, e.user_id.as_ref()),
            (AuditActor::Admin, Some(&admin_id))
        );
    }
    for e in &log {
        assert_eq!(e.address.as_deref(), Some("127.0.0.1"), "{e:?}");
    }
    assert_no_entry_holds(app, &contacts);
}

/// Writes an entry as of `at` (the log is append-only, so a test makes its past this way).
fn record_at(
    app: &TestApp,
    who: &Who,
    action: AuditAction,
    org: Option<&str>,
    detail: &str,
    at: chrono::NaiveDateTime,
) {
    app.with_conn(|c| services::audit::record(c, who, action, org, detail, at))
        .unwrap();
}

async fn the_log_filters_by_actor_organisation_kind_and_date_in_pages_and_exports_the_same_as_csv(
    app: &TestApp,
) {
    let (agency, agency_email) = app.member(Role::Agency, "Acme Leads");
    let (buyer, _) = app.member(Role::Buyer, "Keystone");
    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let agent = Who::user(Role::Agency, &user_id(app, &agency_email), "10.1.2.3");
    let day = |d: i64| {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            + TimeDelta::days(d)
    };
    for i in 0..60 {
        record_at(
            app,
            &agent,
            AuditAction::Login,
            Some(&agency.id),
            "signed in",
            day(i % 3) + TimeDelta::seconds(i),
        );
    }
    record_at(
        app,
        &Who::system(),
        AuditAction::PaymentRecorded,
        Some(&buyer.id),
        "=HYPERLINK(\"http://evil.example\")",
        day(5),
    );
    let admin = signed_in(app, &admin_email).await;

    let total = |html: &str| -> i64 {
        let at = html.find("data-total=\"").expect("a total") + 12;
        html[at..].split('"').next().unwrap().parse().unwrap()
    };
    let rows = |html: &str| html.matches("data-test=\"entry\"").count();
    // Everything (the admin's own sign-in too), newest first, 50 a page.
    let (status, html) = admin.get_text("/admin/audit").await;
    assert_eq!(status, 200);
    assert_eq!(total(&html), 62, "{html}");
    assert_eq!(rows(&html), 50);
    assert!(html.contains("/admin/audit?page=2"), "{html}");
    let (_, html) = admin.get_text("/admin/audit?page=2").await;
    assert_eq!(rows(&html), 12);

    let cases: Vec<(String, i64)> = vec![
        ("kind=login".into(), 61),
        ("actor=agency".into(), 60),
        (format!("user={}", agency_email.to_uppercase()), 60),
        (format!("org={}", buyer.id), 1),
        ("kind=login&from=2026-11-02&to=2026-11-02".into(), 20),
        ("from=2026-11-03&to=2026-11-06".into(), 21),
        ("user=nobody%40example.com".into(), 0),
    ];
    for (query, expected) in &cases {
        let (status, html) = admin.get_text(&format!("/admin/audit?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(total(&html), *expected, "{query}");
        let (status, csv) = admin.get_text(&format!("/admin/audit.csv?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(csv.lines().count() as i64, expected + 1, "{query}: {csv}");
    }
    // A page link keeps the filters.
    let (_, html) = admin.get_text("/admin/audit?kind=login").await;
    assert!(
        html.contains("/admin/audit?kind=login&#38;page=2"),
        "{html}"
    );
    assert!(html.contains("/admin/audit.csv?kind=login"), "{html}");

    let (_, csv) = admin
        .get_text(&format!("/admin/audit.csv?org={}", buyer.id))
        .await;
    assert!(
        csv.starts_with("at,kind,actor,user_id,user_email,organisation_id,organisation,address,leads,request_id,detail\n"),
        "{csv}"
    );
    assert!(csv.contains("payment_recorded,system,"), "{csv}");
    assert!(
        csv.contains("'=HYPERLINK"),
        "a formula is neutralised: {csv}"
    );
    let (_, csv) = admin.get_text("/admin/audit.csv?actor=agency").await;
    let line = csv.lines().nth(1).unwrap();
    assert!(
        line.contains(&format!(
            ",agency,{},{agency_email},",
            agent.user_id.clone().unwrap()
        )) && line.contains(",Acme Leads,10.1.2.3,0,,signed in"),
        "{line}"
    );

    // Bad filters are named, and what was typed stays in the form.
    let (status, html) = admin
        .get_text("/admin/audit?from=yesterday&kind=bogus&user=not-an-email")
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("must be a date such as"), "{html}");
    assert!(html.contains("`bogus` is not one of"), "{html}");
    assert!(html.contains("value=\"not-an-email\""), "{html}");
    let (status, html) = admin
        .get_text("/admin/audit?from=2026-11-05&to=2026-11-01")
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("must not be before"), "{html}");
}

async fn only_an_admin_reads_the_log_and_no_route_edits_or_deletes_an_entry(app: &TestApp) {
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let finance = app.user(&platform, Role::Finance);
    let (_, agency) = app.member(Role::Agency, "Acme Leads");
    let (_, buyer) = app.member(Role::Buyer, "Keystone");
    for email in [&finance, &agency, &buyer] {
        let b = signed_in(app, email).await;
        for page in ["/admin/audit", "/admin/audit.csv?kind=login"] {
            assert_eq!(b.get(page).await.status(), 403, "{email} {page}");
        }
    }
    let anonymous = app.browser();
    let resp = anonymous.get("/admin/audit.csv").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fadmin%2Faudit.csv"
    );
    let resp = anonymous.get("/admin/audit").await;
    assert_eq!(resp.headers()["location"], "/login?next=%2Fadmin%2Faudit");

    // No route changes an entry: posting, putting or deleting finds nothing.
    let admin = signed_in(app, &admin_email).await;
    let before = entries(app);
    let id = before[0].id.clone();
    let token = admin.csrf("/admin/suppressions").await;
    for path in [
        "/admin/audit".to_string(),
        format!("/admin/audit/{id}"),
        format!("/admin/audit/{id}/delete"),
    ] {
        let resp = admin
            .post_form(&path, &[("csrf_token", token.as_str())])
            .await;
        assert_eq!(resp.status(), 404, "POST {path}");
        for method in [
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
        ] {
            let resp = admin
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 404, "{method} {path}");
        }
    }
    assert_eq!(entries(app).len(), before.len());

    // Nor does the code: the store has no update or delete of the table, and nothing
    // else touches it.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let store = std::fs::read_to_string(root.join("store/audit.rs")).unwrap();
    for word in ["diesel::update", "diesel::delete", "update(", "delete("] {
        assert!(!store.contains(word), "store/audit.rs holds `{word}`");
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel == "store/audit.rs" || rel == "db/schema.rs" {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        assert!(
            !code.contains("audit_events::"),
            "{rel} reaches into audit_events; only store::audit may"
        );
    }
}
