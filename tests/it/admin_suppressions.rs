//! The suppression list page (issue 24): a CSV of phones and emails is checked and
//! hashed as intake does, with a report for every row, and its entries block intake of a
//! matching lead; the page counts the list; an entry comes off with a reason (audited),
//! leaving the leads it withdrew withdrawn; only admins reach any of it, each form with
//! its token.

use diesel::prelude::*;
use leadmarket::db::schema::leads;
use leadmarket::domain::Role;
use leadmarket::domain::audit::{AuditAction, Who};
use leadmarket::domain::dedup;
use leadmarket::domain::intake::SuppressionKind;
use leadmarket::services::suppression;
use leadmarket::store;

use crate::builders::{AgencyBuilder, LeadBuilder};
use crate::helpers::{Browser, TestApp};
use crate::on_both_backends;

// No dedup window: a person whose entry came off may be listed again at once.
on_both_backends!(with [("DEDUP_DAYS", "0")] =>
    an_imported_file_is_reported_row_by_row_and_its_entries_block_intake_of_a_matching_lead,
    a_removed_entry_lets_the_person_in_again_keeps_its_withdrawals_and_an_erasure_entry_stays,
    only_an_admin_reaches_the_list_and_every_form_needs_its_token,
);

async fn admin(app: &TestApp) -> Browser {
    let (_, email) = app.member(Role::Admin, "Platform");
    let b = app.browser();
    b.login(&email).await;
    b
}

async fn import(b: &Browser, app: &TestApp, token: &str, csv: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.to_string())
        .text("reason", "opt_out")
        .text("default_country", "DE")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("optouts.csv"),
        );
    b.client
        .post(app.url("/admin/suppressions/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The `(row, kind, outcome)` of every line of the page's report.
fn report(html: &str) -> Vec<(String, String, String)> {
    let attr = |line: &str, name: &str| {
        let at = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        line[at..].split('"').next().unwrap().to_string()
    };
    html.split("data-test=\"report-row\"")
        .skip(1)
        .map(|line| {
            (
                attr(line, "data-row"),
                attr(line, "data-kind"),
                attr(line, "data-outcome"),
            )
        })
        .collect()
}

fn lead_status(app: &TestApp, id: &str) -> String {
    app.with_conn(|c| {
        leads::table
            .find(id)
            .select(leads::status)
            .first::<String>(c)
            .unwrap()
    })
}

async fn an_imported_file_is_reported_row_by_row_and_its_entries_block_intake_of_a_matching_lead(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let listed = LeadBuilder::new(1)
        .email("jo.doe@gmail.com")
        .post(app, &agency.token)
        .await;
    app.with_conn(|c| {
        suppression::add(
            c,
            &Who::system(),
            &["already@example.com"],
            "do_not_call",
            None,
            "test",
        )
    })
    .unwrap();
    let b = admin(app).await;
    let token = b.csrf("/admin/suppressions").await;
    // Row 2: a gmail address written differently from the lead's, and a national German
    // mobile (the default country); row 3 its own country's; row 4 the same person as
    // row 2; rows 5-6 bad values; row 7 someone on the list already.
    let csv = "Email;Phone;Country\n\
               Jo.Doe+news@GMail.com;0151 70345812;\n\
               ;07911 123456;GB\n\
               jodoe@gmail.com;;\n\
               not-an-email;;\n\
               ;12;\n\
               already@example.com;;\n";
    let resp = import(&b, app, &token, csv).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(
            r#"data-accepted="3" data-duplicates="2" data-invalid="2" data-withdrawn="1""#
        ),
        "{html}"
    );
    let s = |r: &str, k: &str, o: &str| (r.to_string(), k.to_string(), o.to_string());
    assert_eq!(
        report(&html),
        [
            s("2", "phone", "accepted"),
            s("2", "email", "accepted"),
            s("3", "phone", "accepted"),
            s("4", "email", "duplicate"),
            s("5", "email", "invalid"),
            s("6", "phone", "invalid"),
            s("7", "email", "duplicate"),
        ]
    );
    assert!(html.contains("the same email as row 2"), "{html}");
    assert!(html.contains("on the list already"), "{html}");
    assert!(
        html.contains("email is not a valid email address"),
        "{html}"
    );
    assert!(
        html.contains("phone is not a valid phone number for its country"),
        "{html}"
    );
    // The report names rows, not the contacts it accepted.
    assert!(
        !html.contains("0151 70345812") && !html.contains("Jo.Doe+news"),
        "{html}"
    );
    // The count covers the list: three new entries and the one before.
    assert!(html.contains("4 entries in all."), "{html}");

    // The listed lead of that person left the catalogue, and new leads of every accepted
    // entry are refused at intake, however they are written.
    assert_eq!(lead_status(app, &listed), "withdrawn");
    for (n, field, value) in [
        (2, "email", "jodoe@gmail.com"),
        (3, "phone", "+4915170345812"),
        (4, "phone", "+447911123456"),
    ] {
        let (status, body) = app
            .post_json(
                "/api/v1/leads",
                &agency.token,
                &LeadBuilder::new(n).set(field, value).json(),
            )
            .await;
        assert_eq!(status, 409, "{field} {value}: {body}");
        assert_eq!(body["error"]["code"], "suppressed", "{body}");
    }
    let (status, _) = app
        .post_json("/api/v1/leads", &agency.token, &LeadBuilder::new(5).json())
        .await;
    assert_eq!(status, 201, "someone else is still accepted");

    // The keys are intake's own.
    let keys = app.with_conn(|c| {
        store::intake::suppressed_keys(
            c,
            &[
                dedup::email_key("jodoe@gmail.com"),
                dedup::phone_key("+4915170345812"),
                dedup::phone_key("+447911123456"),
            ],
        )
        .unwrap()
    });
    assert_eq!(keys.len(), 3);

    // A file that is not a list of phones and emails is refused whole, with the reason.
    let resp = import(&b, app, &token, "name,city\nJo,Berlin\n").await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text().await.unwrap().contains("must name the columns"),
        "the reason is shown"
    );
    let entries = app.with_conn(|c| store::audit::recent(c, 100).unwrap());
    let imported: Vec<_> = entries
        .iter()
        .filter(|e| e.action == AuditAction::SuppressionAdded)
        .filter_map(|e| e.detail.clone())
        .filter(|d| d.contains("from import"))
        .collect();
    assert_eq!(imported.len(), 1, "{imported:?}");
    assert!(
        imported[0].contains("3 added as opt_out from import")
            && imported[0].contains("3 accepted, 2 duplicate, 2 invalid"),
        "{imported:?}"
    );
}

async fn a_removed_entry_lets_the_person_in_again_keeps_its_withdrawals_and_an_erasure_entry_stays(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(1)
        .email("sam@example.org")
        .post(app, &agency.token)
        .await;
    let b = admin(app).await;
    let token = b.csrf("/admin/suppressions").await;
    let resp = b
        .post_form(
            "/admin/suppressions",
            &[
                ("csrf_token", token.as_str()),
                ("entries", "sam@example.org"),
                ("reason", "opt_out"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(lead_status(app, &lead), "withdrawn");

    let remove = |entry: &'static str, why: &'static str| {
        let (b, token) = (&b, token.clone());
        async move {
            b.post_form(
                "/admin/suppressions/remove",
                &[
                    ("csrf_token", token.as_str()),
                    ("entry", entry),
                    ("why", why),
                ],
            )
            .await
        }
    };
    // The reason goes to the audit log, so it may not quote a contact; the entry must be
    // on the list.
    for (entry, why, says) in [
        ("sam@example.org", "", "Say why it comes off the list"),
        (
            "sam@example.org",
            "asked by sam@example.org",
            "Why must not hold an email or a phone number",
        ),
        (
            "nobody@example.org",
            "mistake",
            "Entry is not on the suppression list",
        ),
        (
            "not a contact",
            "mistake",
            "Entry is not a valid phone number",
        ),
    ] {
        let resp = remove(entry, why).await;
        assert_eq!(resp.status(), 422, "{entry} {why}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(says), "{says}: {html}");
    }
    let resp = remove("Sam@Example.org", "the consumer opted in again on 3 Dec").await;
    assert_eq!(resp.status(), 303);
    let (_, html) = b.get_text("/admin/suppressions").await;
    assert!(html.contains("is off the list"), "{html}");
    assert!(html.contains("0 entries in all."), "{html}");
    // Its withdrawal stands; a new lead of the person is accepted again (from another
    // agency: the first one's own dedup still knows the person).
    assert_eq!(lead_status(app, &lead), "withdrawn");
    let other = AgencyBuilder::new("Bolt Leads").create(app).await;
    let again = LeadBuilder::new(2)
        .email("sam@example.org")
        .post(app, &other.token)
        .await;
    assert_eq!(lead_status(app, &again), "available");

    // An erasure's entry stays on the list.
    app.with_conn(|c| {
        store::intake::add_suppressions(
            c,
            &[(dedup::email_key("gone@example.org"), SuppressionKind::Email)],
            "erasure",
            "consumer request",
        )
    })
    .unwrap();
    let resp = remove("gone@example.org", "mistake").await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("erasure"));

    let removed: Vec<_> = app
        .with_conn(|c| store::audit::recent(c, 100).unwrap())
        .into_iter()
        .filter(|e| e.action == AuditAction::SuppressionRemoved)
        .collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    let detail = removed[0].detail.clone().unwrap();
    assert!(
        detail.starts_with("email entry (opt_out, from admin page, listed ")
            && detail.ends_with("removed: the consumer opted in again on 3 Dec"),
        "{detail}"
    );
    assert!(!detail.contains("sam@"), "{detail}");
}

async fn only_an_admin_reaches_the_list_and_every_form_needs_its_token(app: &TestApp) {
    let (platform, _) = app.member(Role::Admin, "Platform");
    let finance = app.user(&platform, Role::Finance);
    let (_, agency) = app.member(Role::Agency, "Acme Leads");
    let (_, buyer) = app.member(Role::Buyer, "Keystone");
    let forms: [(&str, &[(&str, &str)]); 2] = [
        (
            "/admin/suppressions",
            &[("entries", "x@example.com"), ("reason", "opt_out")],
        ),
        (
            "/admin/suppressions/remove",
            &[("entry", "x@example.com"), ("why", "mistake")],
        ),
    ];
    for email in [&finance, &agency, &buyer] {
        let b = app.browser();
        b.login(email).await;
        assert_eq!(b.get("/admin/suppressions").await.status(), 403, "{email}");
        let own = b.csrf("/dashboard").await;
        for (path, fields) in forms {
            let mut form = vec![("csrf_token", own.as_str())];
            form.extend_from_slice(fields);
            assert_eq!(
                b.post_form(path, &form).await.status(),
                403,
                "{email} {path}"
            );
        }
        let resp = import(&b, app, &own, "email\nx@example.com\n").await;
        assert_eq!(resp.status(), 403, "{email} import");
    }
    let anonymous = app.browser();
    let resp = anonymous.get("/admin/suppressions").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        "/login?next=%2Fadmin%2Fsuppressions"
    );

    let b = admin(app).await;
    for token in ["", "not-the-token"] {
        for (path, fields) in forms {
            let mut form = vec![("csrf_token", token)];
            form.extend_from_slice(fields);
            assert_eq!(
                b.post_form(path, &form).await.status(),
                403,
                "{path} {token:?}"
            );
        }
        let resp = import(&b, app, token, "email\nx@example.com\n").await;
        assert_eq!(resp.status(), 403, "import {token:?}");
    }
    let listed: i64 = app.with_conn(|c| {
        leadmarket::db::schema::suppressions::table
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(listed, 0, "nothing was added");
}
