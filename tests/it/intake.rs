//! Lead intake through the upload page, the API and `leadmarket import`: every row is
//! counted with its reasons, the three ways agree, bad files are refused clearly, and a
//! batch survives a restart without double counting.

use std::process::Command;

use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::market::OrderStatus;
use leadmarket::services::{intake, suppression};
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder};
use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(
    an_uploaded_csv_is_counted_row_by_row_with_every_reason,
    the_api_the_upload_and_import_give_the_same_verdicts,
    posting_a_lead_twice_with_one_idempotency_key_answers_once,
    unusable_files_are_refused_with_a_clear_reason_and_nothing_stored,
    another_agency_cannot_see_a_batch_or_its_rejects,
    targeted_batches_need_an_open_order,
    only_the_platform_adds_to_the_suppression_list,
    reported_engagement_raises_the_score_once_per_kind,
);

// Chunks of one row committed two at a time: the first transaction spans two chunks,
// and the duplicate of row 1 (row 4) is only found after the restart.
on_both_backends!(with [("INTAKE_CHUNK_ROWS", "1"), ("INTAKE_COMMIT_ROWS", "2")] =>
    a_batch_resumes_after_a_restart_without_double_counting);

/// Mixed rows: good, bad, duplicate (in the batch), suppressed, suspicious.
fn mixed_csv() -> String {
    let c = recent_rfc3339(30);
    let t = recent_rfc3339(29);
    let rows = [
        format!("Ann;Lee;ann.lee@example.com;07911 123456;34;52000;GB;hot;quick;{c};{t};;120"),
        format!(
            "Bob;Stone;bob.stone@mailinator.com;07911 123457;40;;GB;warm;interested;{c};{t};;120"
        ),
        format!("Test;Test;test@example.com;07911 123458;40;;GB;warm;interested;{c};{t};;120"),
        format!("Cara;Jones;ANN.LEE@example.com;07911 223459;30;;GB;cold;quick;{c};{t};;120"),
        format!("Dan;Brown;dan@example.com;12;15;-3;XX;boiling;quick;2030-01-01;{t};;120"),
        format!("Eve;White;eve@example.com;07911 123460;30;;GB;cold;quick;{c};{t};yes;120"),
        format!("Fay;Green;opted.out@example.com;07911 123461;30;;GB;cold;quick;{c};{t};;120"),
        format!("Gus;Hill;gus@example.com;07911 123462;30;;GB;warm;registration;{c};{t};;3"),
        format!("Hal;Ives;hal@example.com;+1 212 555 0123;30;;GB;warm;registration;{c};{t};;120"),
        "short;row".to_string(),
    ];
    format!(
        "\u{feff}First_Name;last_name;email;phone;age;annual_income;country;warmth;contact_type;consent_at;captured_at;honeypot;form_seconds;Shoe Size\n{}\n",
        rows.iter()
            .map(|r| format!("{r};42"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

async fn upload_page(
    app: &TestApp,
    email: &str,
    csv: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let b = app.browser();
    b.login(email).await;
    let token = b.csrf("/batches/new").await;
    let mut form = reqwest::multipart::Form::new().text("csrf_token", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("leads.csv"),
    );
    b.client
        .post(app.url("/batches"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

const TERMS: &[(&str, &str)] = &[
    ("segment", "insurance.car"),
    ("channel", "web_form"),
    ("price_cents", "2500"),
    ("max_sales", "3"),
    (
        "consent_text",
        "I agree to be contacted about car insurance.",
    ),
];

async fn an_uploaded_csv_is_counted_row_by_row_with_every_reason(app: &TestApp) {
    let (agency, email) = app.member(Role::Agency, "Acme Leads");
    let outcome = app
        .with_conn(|c| {
            suppression::add(
                c,
                &Who::system(),
                &["opted.out@example.com"],
                "opt_out",
                None,
                "test",
            )
        })
        .unwrap();
    assert_eq!(outcome.added, 1);
    let resp = upload_page(app, &email, &mixed_csv(), TERMS).await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let batch_id = location.trim_start_matches("/batches/").to_string();
    let token = app.token(&app.api_key(&agency)).await;
    let status = app.wait_for_batch(&token, &batch_id).await;
    assert_eq!(status["status"], "done", "{status}");
    assert_eq!(status["rows_total"], 10);
    assert_eq!(status["accepted"], 2, "{status}");
    assert_eq!(status["duplicates"], 1);
    assert_eq!(status["suppressed"], 1);
    assert_eq!(status["rejected"], 6);
    let sum: i64 = ["accepted", "rejected", "duplicates", "suppressed"]
        .iter()
        .map(|k| status[k].as_i64().unwrap())
        .sum();
    assert_eq!(
        sum,
        status["rows_total"].as_i64().unwrap(),
        "no row is dropped silently"
    );

    let rejects = app
        .get_as(&token, &format!("/api/v1/batches/{batch_id}/rejects.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(rejects.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header.first().map(String::as_str), Some("First_Name"));
    assert_eq!(&header[header.len() - 2..], ["row_number", "reasons"]);
    let by_row: std::collections::HashMap<String, String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[r.len() - 2].to_string(), r[r.len() - 1].to_string())
        })
        .collect();
    assert_eq!(by_row.len(), 8);
    let expect = [
        ("2", "disposable_email"),
        ("3", "test_name"),
        ("4", "duplicate"),
        ("5", "invalid_country"),
        ("6", "honeypot"),
        ("7", "suppressed"),
        ("9", "fiction_phone"),
        ("10", "wrong_field_count"),
    ];
    for (row, code) in expect {
        assert!(by_row[row].contains(code), "row {row}: {}", by_row[row]);
    }
    for code in [
        "invalid_phone",
        "invalid_age",
        "invalid_income",
        "invalid_warmth",
        "in_future",
    ] {
        assert!(
            by_row["5"].contains(code),
            "row 5 lists every problem: {}",
            by_row["5"]
        );
    }
    assert!(
        rejects.contains("'-3"),
        "cells that look like formulas are neutralised"
    );

    // The fast form is accepted but flagged, and its score pays for it.
    let flags: Vec<(String, i32)> = app.with_conn(|c| {
        use diesel::prelude::*;
        use leadmarket::db::schema::leads;
        leads::table
            .filter(leads::batch_id.eq(&batch_id))
            .order(leads::first_name.asc())
            .select((leads::flags, leads::score))
            .load(c)
            .unwrap()
    });
    assert_eq!(flags.len(), 2);
    assert_eq!(flags[0].0, "");
    assert_eq!(flags[1].0, "fast_form");

    // The batch page shows the counts and the reasons, and offers the rejects file.
    let b = app.browser();
    b.login(&email).await;
    let (status, html) = b.get_text(&location).await;
    assert_eq!(status, 200);
    assert!(html.contains("Shoe Size"), "unknown columns are reported");
    // Reasons in words, and rows counted once beside them.
    assert!(html.contains("Disposable email") && html.contains("rejects.csv"));
    assert!(html.contains("row(s) not accepted"), "{html}");
    let (status, csv) = b.get_text(&format!("{location}/rejects.csv")).await;
    assert_eq!(status, 200);
    assert_eq!(csv, rejects);
}

fn verdict(body: &Value, status: u16) -> String {
    match status {
        201 => "accepted".into(),
        409 => body["error"]["code"].as_str().unwrap().to_string(),
        422 => {
            let mut codes: Vec<String> = body["error"]["details"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    d["problem"]
                        .as_str()
                        .unwrap()
                        .rsplit('(')
                        .next()
                        .unwrap()
                        .trim_end_matches(')')
                        .to_string()
                })
                .collect();
            codes.sort();
            format!("rejected:{}", codes.join(","))
        }
        other => panic!("unexpected status {other}: {body}"),
    }
}

fn verdict_from_reasons(reasons: &str) -> String {
    let mut codes: Vec<String> = reasons
        .split("; ")
        .map(|r| r.split(':').next().unwrap().to_string())
        .collect();
    codes.sort();
    match codes.first().map(String::as_str) {
        Some("duplicate") => "duplicate".into(),
        Some("suppressed") => "suppressed".into(),
        _ => format!("rejected:{}", codes.join(",")),
    }
}

/// Row verdicts of a finished batch, by row number (accepted rows are not in the file).
fn verdicts_of(app: &TestApp, batch_id: &str, rows: usize) -> Vec<String> {
    let batch = app
        .with_conn(|c| store::batches::find(c, batch_id))
        .unwrap();
    let mut out = Vec::new();
    app.with_conn(|c| intake::write_rejects(c, &batch, &mut out))
        .unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let mut verdicts = vec!["accepted".to_string(); rows];
    for r in reader.records() {
        let r = r.unwrap();
        let row: usize = r[r.len() - 2].parse().unwrap();
        verdicts[row - 1] = verdict_from_reasons(&r[r.len() - 1]);
    }
    verdicts
}

async fn the_api_the_upload_and_import_give_the_same_verdicts(app: &TestApp) {
    let csv = mixed_csv().replace(";42\n", "\n").replace(";Shoe Size", "");
    let mut lines = csv.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .split(';')
        .map(|h| h.to_lowercase())
        .collect();
    let rows: Vec<Vec<String>> = lines
        .filter(|l| l.split(';').count() == header.len())
        .map(|l| l.split(';').map(str::to_string).collect())
        .collect(); // The same file without the short row, for the batch and the import.
    let csv = std::iter::once(header.join(";"))
        .chain(rows.iter().map(|r| r.join(";")))
        .collect::<Vec<_>>()
        .join("\n");

    let suppress = |app: &TestApp| {
        app.with_conn(|c| {
            suppression::add(
                c,
                &Who::system(),
                &["opted.out@example.com"],
                "opt_out",
                None,
                "test",
            )
        })
        .unwrap();
    };

    // 1. One by one through POST /leads.
    suppress(app);
    let Agency { token, .. } = AgencyBuilder::new("Api Agency").create(app).await;
    let mut by_api = Vec::new();
    for row in &rows {
        let mut body = serde_json::Map::new();
        for (h, v) in header.iter().zip(row) {
            body.insert(h.clone(), Value::String(v.clone()));
        }
        for (k, v) in TERMS {
            body.insert(k.to_string(), Value::String(v.to_string()));
        }
        let resp = app
            .post_as(&token, "/api/v1/leads")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        by_api.push(verdict(&resp.json().await.unwrap(), status));
    }

    // 2. The same rows as one JSON batch, in a fresh database.
    let other = TestApp::spawn(app.backend).await.unwrap();
    suppress(&other);
    let Agency { token: token2, .. } = AgencyBuilder::new("Batch Agency").create(&other).await;
    let leads: Vec<Value> = rows
        .iter()
        .map(|row| {
            Value::Object(
                header
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|v| Value::String(v.clone())))
                    .collect(),
            )
        })
        .collect();
    let terms: serde_json::Map<String, Value> = TERMS
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                if k.ends_with("cents") || *k == "max_sales" {
                    json!(v.parse::<i64>().unwrap())
                } else {
                    json!(v)
                },
            )
        })
        .collect();
    let resp = other
        .post_as(&token2, "/api/v1/batches")
        .json(&json!({"batch": terms, "leads": leads}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(other.wait_for_batch(&token2, &id).await["status"], "done");
    let by_batch = verdicts_of(&other, &id, rows.len());

    // 3. `leadmarket import` of the same file, in a third database.
    let third = TestApp::spawn(app.backend).await.unwrap();
    suppress(&third);
    let (agency3, _) = third.member(Role::Agency, "Import Agency");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, &csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadmarket"))
        .args(["import", path.to_str().unwrap(), "--agency", &agency3.slug])
        .args(
            TERMS
                .iter()
                .flat_map(|(k, v)| [format!("--{}", k.replace('_', "-")), v.to_string()]),
        )
        .env("DATABASE_URL", &third.database_url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 accepted") && stdout.contains("leads.csv.rejects.csv"),
        "{stdout}"
    );
    let batch_id = stdout
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    let by_import = verdicts_of(&third, &batch_id, rows.len());

    assert_eq!(by_api, by_batch, "POST /leads and POST /batches agree");
    assert_eq!(by_batch, by_import, "the API and import agree");
    assert_eq!(
        by_api.iter().filter(|v| *v == "accepted").count(),
        2,
        "{by_api:?}"
    );
    other.finish().await;
    third.finish().await;
}

async fn posting_a_lead_twice_with_one_idempotency_key_answers_once(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = json!({
        "first_name": "Ann", "last_name": "Lee", "email": "ann.lee@example.com", "phone": "+447911123456",
        "age": 34, "country": "GB", "warmth": "hot", "contact_type": "quick",
        "consent_at": recent_rfc3339(5), "captured_at": recent_rfc3339(4),
        "segment": "insurance.car", "channel": "web_form", "price_cents": 2500, "consent_text": "I agree"
    });
    let post = |body: Value, key: Option<&'static str>| {
        let mut req = app.post_as(&token, "/api/v1/leads").json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };
    let first = post(lead.clone(), Some("lead-1")).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "accepted");
    assert_eq!(
        first["price_cents"], 5363,
        "today's unit price: 2500 x1.3 (hot) x1.5 (exclusive) x1.1 (insurance)"
    );
    assert_eq!(first["sold_to_orders"], 0);
    assert!((0..=100).contains(&first["score"].as_i64().unwrap()));

    let again = post(lead.clone(), Some("lead-1")).await.unwrap();
    assert_eq!(again.status(), 201, "the first answer, again");
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let mut changed = lead.clone();
    changed["age"] = json!(35);
    let reused = post(changed, Some("lead-1")).await.unwrap();
    assert_eq!(reused.status(), 422);

    let duplicate = post(lead.clone(), None).await.unwrap();
    assert_eq!(duplicate.status(), 409);
    assert_eq!(
        duplicate.json::<Value>().await.unwrap()["error"]["code"],
        "duplicate"
    );

    let batch_id = first["batch_id"].as_str().unwrap();
    let status: Value = app
        .get_as(&token, &format!("/api/v1/batches/{batch_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["rows_total"], 2,
        "the replay was not counted again: {status}"
    );
    assert_eq!(status["accepted"], 1);
    assert_eq!(status["duplicates"], 1);

    let mut bad = lead.clone();
    bad["email"] = json!("nope");
    bad["phone"] = json!("12");
    let resp = post(bad, None).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"phone"),
        "{body}"
    );
}

async fn unusable_files_are_refused_with_a_clear_reason_and_nothing_stored(app: &TestApp) {
    let Agency {
        org: agency,
        email,
        token,
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let good_header = "first_name,email,age,country,warmth,contact_type,consent_at,captured_at\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("binary", b"PK\x03\x04\x00\x01\x02binary".to_vec(), "binary"),
        (
            "tab separated",
            good_header.replace(',', "\t").into_bytes(),
            "only one column",
        ),
        ("empty", Vec::new(), "empty"),
        (
            "no header",
            b"Ann,ann@example.com,34,GB,hot,quick,2026-11-24,2026-11-24\n".to_vec(),
            "required columns are missing",
        ),
        (
            "one 10 MB line",
            vec![b'x'; 10 * 1024 * 1024],
            "longer than 64 KB",
        ),
    ];
    for (what, bytes, needle) in cases {
        let form = reqwest::multipart::Form::new()
            .text("segment", "insurance")
            .text("channel", "sms")
            .text("price_cents", "100")
            .text("consent_text", "ok")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name("x.csv"),
            );
        let resp = app
            .post_as(&token, "/api/v1/batches")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{what}");
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["details"][0]["problem"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(message.contains(needle), "{what}: {body}");
        // The page says the same, and keeps the terms typed.
        let resp = upload_page(app, &email, &String::from_utf8_lossy(&bytes), TERMS).await;
        assert_eq!(resp.status(), 422, "{what}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("was not uploaded") && html.contains("value=\"25.00\""),
            "{what}"
        );
    }
    let batches = app
        .with_conn(|c| store::batches::count_for_agency(c, &agency.id))
        .unwrap();
    assert_eq!(batches, 0, "nothing was stored");
    // Bad terms are all listed too.
    let form = reqwest::multipart::Form::new()
        .text("segment", "pets")
        .text("price_cents", "cheap")
        .part(
            "file",
            reqwest::multipart::Part::bytes(good_header.as_bytes().to_vec()),
        );
    let resp = app
        .post_as(&token, "/api/v1/batches")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
}

async fn another_agency_cannot_see_a_batch_or_its_rejects(app: &TestApp) {
    let (a, a_email) = app.member(Role::Agency, "Agency A");
    let (b, b_email) = app.member(Role::Agency, "Agency B");
    let resp = upload_page(app, &a_email, &mixed_csv(), TERMS).await;
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/batches/");
    let a_token = app.token(&app.api_key(&a)).await;
    app.wait_for_batch(&a_token, id).await;
    let b_token = app.token(&app.api_key(&b)).await;
    for path in [
        format!("/api/v1/batches/{id}"),
        format!("/api/v1/batches/{id}/rejects.csv"),
    ] {
        let resp = app.get_as(&b_token, &path).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
    let browser = app.browser();
    browser.login(&b_email).await;
    assert_eq!(browser.get(&location).await.status(), 404);
    assert_eq!(
        browser
            .get(&format!("{location}/rejects.csv"))
            .await
            .status(),
        404
    );
    let (_, list) = browser.get_text("/batches").await;
    assert!(!list.contains(id), "B's list does not show A's batch");
}

async fn targeted_batches_need_an_open_order(app: &TestApp) {
    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    let (buyer, _) = app.member(Role::Buyer, "Keystone");
    let token = app.token(&app.api_key(&agency)).await;
    let lead = json!({"first_name": "Ann", "phone": "+447911123456", "age": 34, "country": "GB", "warmth": "hot",
        "contact_type": "quick", "consent_at": recent_rfc3339(5), "captured_at": recent_rfc3339(4)});
    let send = |batch: Value| {
        app.post_as(&token, "/api/v1/batches")
            .json(&json!({"batch": batch, "leads": [lead.clone()]}))
            .send()
    };
    let terms = json!({"kind": "targeted", "segment": "finance.loans", "channel": "sms", "price_cents": 900, "consent_text": "ok"});
    let resp = send(terms.clone()).await.unwrap();
    assert_eq!(resp.status(), 422);
    let mut with_unknown = terms.clone();
    with_unknown["order_id"] = json!(uuid::Uuid::new_v4().to_string());
    assert_eq!(send(with_unknown).await.unwrap().status(), 422);

    let order = store::orders::OrderRow {
        id: uuid::Uuid::new_v4().to_string(),
        buyer_id: buyer.id.clone(),
        name: "Loans, north".into(),
        segment: Some("finance.loans".into()),
        status: OrderStatus::Open,
        created_at: store::now(),
        filter_query: String::new(),
        quantity: 10,
        delivered: 0,
        price_cents: 900,
        deadline: None,
        closed_at: None,
    };
    app.with_conn(|c| store::orders::insert(c, &order)).unwrap();
    let mut with_order = terms.clone();
    with_order["order_id"] = json!(order.id);
    with_order["max_sales"] = json!(5);
    let resp = send(with_order).await.unwrap();
    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.wait_for_batch(&token, &id).await["accepted"], 1);
    let (kind, max_sales): (String, i32) = app.with_conn(|c| {
        use diesel::prelude::*;
        use leadmarket::db::schema::leads;
        leads::table
            .filter(leads::batch_id.eq(&id))
            .select((leads::kind, leads::max_sales))
            .first(c)
            .unwrap()
    });
    assert_eq!(
        (kind.as_str(), max_sales),
        ("targeted", 1),
        "a targeted lead goes to one buyer"
    );
}

async fn only_the_platform_adds_to_the_suppression_list(app: &TestApp) {
    let (platform, admin_email) = app.member(Role::Admin, "Platform");
    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    let body = json!({"phones": ["+447911123456", "07911 123457", "nonsense"], "emails": ["Opted.Out@Example.com"], "reason": "do_not_call", "default_country": "GB"});
    let agency_token = app.token(&app.api_key(&agency)).await;
    let resp = app
        .post_as(&agency_token, "/api/v1/suppressions")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let token = app.token(&app.api_key(&platform)).await;
    let resp = app
        .post_as(&token, "/api/v1/suppressions")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["added"], 3);
    assert_eq!(out["invalid"], json!(["nonsense"]));
    let again: Value = app
        .post_as(&token, "/api/v1/suppressions")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["added"], 0);
    assert_eq!(again["already"], 3);

    // The admin page lists the counts and adds too.
    let b = app.browser();
    b.login(&admin_email).await;
    let csrf = b.csrf("/admin/suppressions").await;
    let resp = b
        .post_form(
            "/admin/suppressions",
            &[
                ("csrf_token", &csrf),
                ("entries", "new@example.com\nbad entry"),
                ("reason", "opt_out"),
                ("default_country", ""),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("1 added") && html.contains("bad entry"),
        "{html}"
    );
}

/// `PRAGMA cache_size` of a SQLite connection (negative: KiB); `None` on PostgreSQL.
fn sqlite_cache_size(conn: &mut leadmarket::db::AnyConnection) -> Option<i64> {
    #[derive(diesel::QueryableByName)]
    struct CacheSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cache_size: i64,
    }
    match conn {
        leadmarket::db::AnyConnection::Sqlite(c) => {
            use diesel::RunQueryDsl as _;
            let row: CacheSize = diesel::sql_query("PRAGMA cache_size")
                .get_result(c)
                .unwrap();
            Some(row.cache_size)
        }
        leadmarket::db::AnyConnection::Postgresql(_) => None,
    }
}

async fn a_batch_resumes_after_a_restart_without_double_counting(app: &TestApp) {
    let Agency {
        org: agency, token, ..
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let csv = mixed_csv();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, &csv).unwrap();
    let input = intake::BatchInput {
        segment: Some("insurance.car".into()),
        channel: Some("web_form".into()),
        price_cents: Some(2500),
        consent_text: Some("ok".into()),
        ..Default::default()
    };
    // A worker of a process that "dies" after its first commit.
    let batch = app
        .with_conn(|c| {
            let b = intake::prepare_batch(c, &agency.id, &input, "api", None, None)?;
            store::batches::insert(c, &b)?;
            store::batches::hold(c, &b.id, "dead-worker", chrono::TimeDelta::hours(1))?;
            let mut file = std::fs::File::open(&path).unwrap();
            store::intake::append_file_chunk(c, &b.id, 0, &{
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut v).unwrap();
                v
            })?;
            Ok::<_, leadmarket::error::AppError>(b)
        })
        .unwrap();
    let settings = app.state.config().intake.clone();
    let (stopped, cache_after) = app.with_conn(|c| {
        let stopped = intake::run_file(
            c,
            &settings,
            &batch,
            std::fs::File::open(&path).unwrap(),
            |_, _| Ok(false),
        );
        (stopped, sqlite_cache_size(c))
    });
    assert!(matches!(stopped, Err(intake::RunError::LeaseLost)));
    if let Some(size) = cache_after {
        assert_eq!(
            size,
            -leadmarket::db::SQLITE_CACHE_KIB,
            "the writer's larger page cache is given back, even when the run stops early"
        );
    }
    let half: Value = app
        .get_as(&token, &format!("/api/v1/batches/{}", batch.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(half["status"], "processing");
    assert_eq!(half["rows_done"], 2, "one transaction of two chunks");

    // The dead worker's lease runs out; the app's own worker resumes the batch.
    app.with_conn(|c| {
        store::batches::hold(c, &batch.id, "dead-worker", chrono::TimeDelta::seconds(-1))
    })
    .unwrap();
    let done = app.wait_for_batch(&token, &batch.id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["rows_total"], 10, "{done}");
    let sum: i64 = ["accepted", "rejected", "duplicates", "suppressed"]
        .iter()
        .map(|k| done[k].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 10);
    // The same verdicts as the uninterrupted upload, less the suppression it adds.
    assert_eq!(
        (&done["accepted"], &done["duplicates"], &done["rejected"]),
        (&json!(3), &json!(1), &json!(6)),
        "{done}"
    );
    let leads = app.with_conn(|c| {
        use diesel::prelude::*;
        use leadmarket::db::schema::leads;
        leads::table
            .filter(leads::batch_id.eq(&batch.id))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    });
    assert_eq!(
        leads,
        done["accepted"].as_i64().unwrap(),
        "no lead stored twice"
    );
    assert!(
        !app.with_conn(|c| store::intake::has_file(c, &batch.id))
            .unwrap(),
        "the file is dropped once counted"
    );
}

async fn reported_engagement_raises_the_score_once_per_kind(app: &TestApp) {
    let (agency, _) = app.member(Role::Agency, "Acme Leads");
    let (other, _) = app.member(Role::Agency, "Other Agency");
    let token = app.token(&app.api_key(&agency)).await;
    let lead = json!({"first_name": "Ann", "phone": "+447911123456", "age": 34, "country": "GB", "warmth": "cold",
        "contact_type": "quick", "consent_at": recent_rfc3339(5), "captured_at": recent_rfc3339(4),
        "segment": "telecom", "channel": "sms", "price_cents": 300, "consent_text": "ok"});
    let created: Value = app
        .post_as(&token, "/api/v1/leads")
        .json(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, base) = (
        created["id"].as_str().unwrap().to_string(),
        created["score"].as_i64().unwrap(),
    );
    let event = |kind: &str, token: &str| {
        app.post_as(token, &format!("/api/v1/leads/{id}/events"))
            .json(&json!({"kind": kind}))
            .send()
    };
    let resp = event("answered", &token).await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["score"]
            .as_i64()
            .unwrap(),
        base + 10
    );
    let resp = event("answered", &token).await.unwrap();
    assert_eq!(resp.status(), 200, "the same kind counts once");
    assert_eq!(
        resp.json::<Value>().await.unwrap()["score"]
            .as_i64()
            .unwrap(),
        base + 10
    );
    let resp = event("clicked", &token).await.unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["score"]
            .as_i64()
            .unwrap(),
        base + 15
    );
    assert_eq!(event("liked", &token).await.unwrap().status(), 422);
    let other_token = app.token(&app.api_key(&other)).await;
    assert_eq!(
        event("opened", &other_token).await.unwrap().status(),
        404,
        "another agency's lead"
    );
}
