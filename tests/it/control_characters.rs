//! Control characters (NUL above all, which PostgreSQL's TEXT refuses) in every kind of
//! input: refused at the edge with 422 naming the field, 404 for an id, or a per-row
//! `control_character` reason at intake with the rest of the file stored; never a 500.

use leadmarket::domain::Role;
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::{TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(
    a_nul_in_a_single_lead_is_refused_naming_the_field,
    a_nul_in_the_batch_terms_is_refused_naming_the_field,
    a_nul_in_a_dispute_comment_is_refused_naming_the_field,
    a_nul_in_a_filter_is_refused_on_the_api_and_the_page,
    a_nul_in_a_form_field_is_refused_naming_the_field,
    a_nul_in_a_suppression_entry_is_refused_naming_the_entry,
    an_id_with_a_nul_is_not_found,
    a_nul_in_row_300_of_400_rejects_that_row_and_stores_the_rest,
    a_nul_in_a_ping_or_an_order_is_refused_naming_the_field,
);

/// The first problem's field of a 422 API answer.
async fn refused_field(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    let problem = body["error"]["details"][0]["problem"]
        .as_str()
        .unwrap_or("");
    assert!(problem.contains("control character"), "{body}");
    body["error"]["details"][0]["field"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The n-th lead's body, aged 34 (a valid lead that a test then spoils one field of).
fn lead(n: usize) -> Value {
    LeadBuilder::new(n).age(34).json()
}

fn leads_stored(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use leadmarket::db::schema::leads;
    app.with_conn(|c| leads::table.count().get_result(c).unwrap())
}

async fn a_nul_in_a_single_lead_is_refused_naming_the_field(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    for (field, value) in [
        ("first_name", "An\0n"),
        ("consent_text", "I agree\0"),
        ("city", "Ber\u{1}lin"),
    ] {
        let mut body = lead(1);
        body[field] = json!(value);
        let resp = app
            .post_as(&token, "/api/v1/leads")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused_field(resp).await, field);
    }
    assert_eq!(leads_stored(app), 0);
    // Free text keeps its line breaks and tabs.
    LeadBuilder::new(2)
        .age(34)
        .set("comment", "call after six\r\n\tweekdays only")
        .post(app, &token)
        .await;
}

async fn a_nul_in_the_batch_terms_is_refused_naming_the_field(app: &TestApp) {
    let Agency {
        org: agency,
        email,
        token,
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let csv = format!(
        "email,age,country,warmth,contact_type,consent_at,captured_at\nann@example.com,34,DE,warm,quick,{},{}\n",
        recent_rfc3339(10),
        recent_rfc3339(9)
    );
    let form = |consent: &str| {
        reqwest::multipart::Form::new()
            .text("segment", "travel")
            .text("channel", "web_form")
            .text("price_cents", "1000")
            .text("consent_text", consent.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("x.csv"),
            )
    };
    let resp = app
        .post_as(&token, "/api/v1/batches")
        .multipart(form("I agree\0"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "consent_text");
    // The JSON batch names the term too.
    let resp = app.post_as(&token, "/api/v1/batches")
        .json(&json!({
            "batch": {"segment": "travel", "channel": "web_form", "price_cents": 1000, "consent_text": "ok\0"},
            "leads": [lead(1)],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "consent_text");
    // A column name with a control character refuses the file: the header is stored
    // with the batch. (A NUL that early makes the file read as binary, refused too.)
    let bad_header = csv.replacen("age", "a\u{1}ge", 1);
    let resp = app
        .post_as(&token, "/api/v1/batches")
        .multipart(
            reqwest::multipart::Form::new()
                .text("segment", "travel")
                .text("channel", "web_form")
                .text("price_cents", "1000")
                .text("consent_text", "ok")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bad_header.into_bytes()).file_name("x.csv"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "file");
    // The upload page says which field.
    let b = app.browser();
    b.login(&email).await;
    let csrf = b.csrf("/batches/new").await;
    let resp = b
        .client
        .post(app.url("/batches"))
        .multipart(form("I agree\0").text("csrf_token", csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("control character"));
    let batches = app
        .with_conn(|c| leadmarket::store::batches::count_for_agency(c, &agency.id))
        .unwrap();
    assert_eq!(batches, 0, "nothing was stored");
}

async fn a_nul_in_a_dispute_comment_is_refused_naming_the_field(app: &TestApp) {
    let Agency {
        token: agency_token,
        ..
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    // Five bought, so the return cap (20 %) allows this one.
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(LeadBuilder::new(n).post(app, &agency_token).await);
    }
    let lead_id = ids[0].clone();
    let Buyer { token: buyer, .. } = BuyerBuilder::new("Keystone")
        .credit(100_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of(&ids).post(app, &buyer).await;
    let resp = app
        .post_as(&buyer, "/api/v1/disputes")
        .json(&json!({"lead_id": lead_id, "reason": "competitor", "comment": "a rival\0"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "comment");
    let (_, list) = app.get_json("/api/v1/disputes", &buyer).await;
    assert_eq!(list["disputes"].as_array().unwrap().len(), 0);
    let resp = app
        .post_as(&buyer, "/api/v1/disputes")
        .json(
            &json!({"lead_id": lead_id, "reason": "competitor", "comment": "a rival\n(line two)"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

async fn a_nul_in_a_filter_is_refused_on_the_api_and_the_page(app: &TestApp) {
    let (buyer, email) = app.member(Role::Buyer, "Keystone");
    let token = app.token(&app.api_key(&buyer)).await;
    let resp = app
        .get_as(&token, "/api/v1/catalogue?segment=travel&city=Ber%00lin")
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "city");
    let (status, _) = app
        .get_json("/api/v1/catalogue?city=M%C3%BCnchen", &token)
        .await;
    assert_eq!(status, 200);
    let b = app.browser();
    b.login(&email).await;
    let (status, html) = b.get_text("/catalogue?city=Ber%00lin").await;
    assert_eq!(status, 422);
    assert!(html.contains("City contains a control character"), "{html}");
}

async fn a_nul_in_a_form_field_is_refused_naming_the_field(app: &TestApp) {
    let (_, email) = app.member(Role::Agency, "Acme Leads");
    let b = app.browser();
    let resp = b
        .login_attempt(&format!("{email}\0"), crate::helpers::PASSWORD)
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Email contains a control character"),
        "{html}"
    );
    // Signed in, a settings form is refused the same way.
    b.login(&email).await;
    let csrf = b.csrf("/settings/organisation").await;
    let resp = b
        .post_form(
            "/settings/api-keys",
            &[("csrf_token", csrf.as_str()), ("name", "ci\0key")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Name contains a control character")
    );
}

async fn a_nul_in_a_suppression_entry_is_refused_naming_the_entry(app: &TestApp) {
    let (platform, _) = app.member(Role::Admin, "Platform");
    let token = app.token(&app.api_key(&platform)).await;
    let resp = app
        .post_as(&token, "/api/v1/suppressions")
        .json(&json!({"phones": ["+447911123456", "+44791\u{0}1123457"], "reason": "opt_out"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_field(resp).await, "phones[1]");
}

async fn an_id_with_a_nul_is_not_found(app: &TestApp) {
    let Agency { email, token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    for path in [
        "/api/v1/batches/%00",
        "/api/v1/batches/abc%00def/rejects.csv",
    ] {
        let (status, body) = app.get_json(path, &token).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let b = app.browser();
    b.login(&email).await;
    let (status, _) = b.get_text("/batches/x%00").await;
    assert_eq!(status, 404);
}

async fn a_nul_in_row_300_of_400_rejects_that_row_and_stores_the_rest(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let (c, t) = (recent_rfc3339(10), recent_rfc3339(9));
    let mut csv = String::from(
        "first_name,last_name,email,phone,age,country,warmth,contact_type,consent_at,captured_at,comment\n",
    );
    for n in 1..=400 {
        let name = if n == 300 {
            "Ro\0w".to_string()
        } else {
            format!("Ann{n}")
        };
        // A quoted comment over two lines is free text, not a control character.
        csv.push_str(&format!(
            "{name},Lee,ann{n}@example.com,+4479111{:05},34,DE,warm,interested,{c},{t},\"call\nlater\"\n",
            10_000 + n
        ));
    }
    let form = reqwest::multipart::Form::new()
        .text("segment", "travel")
        .text("channel", "web_form")
        .text("price_cents", "1000")
        .text("max_sales", "3")
        .text("consent_text", "I agree")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("leads.csv"),
        );
    let resp = app
        .post_as(&token, "/api/v1/batches")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let batch = app.wait_for_batch(&token, &id).await;
    assert_eq!(batch["status"], "done", "{batch}");
    assert_eq!(batch["rows_total"], 400, "{batch}");
    assert_eq!(batch["accepted"], 399, "{batch}");
    assert_eq!(batch["rejected"], 1, "{batch}");
    assert_eq!(leads_stored(app), 399);
    let resp = app
        .get_as(&token, &format!("/api/v1/batches/{id}/rejects.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rejects = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(rejects.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{rejects}");
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][at("row_number")], "300");
    assert!(
        rows[0][at("reasons")].contains("control_character: first_name"),
        "{rejects}"
    );
    // The row comes back as uploaded.
    assert_eq!(&rows[0][at("first_name")], "Ro\0w");
}

async fn a_nul_in_a_ping_or_an_order_is_refused_naming_the_field(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone").create(app).await;
    let deadline = (chrono::Utc::now() + chrono::TimeDelta::days(7)).to_rfc3339();
    let cases = [
        (
            &agency.token,
            "/api/v1/ping",
            json!({"segment": "insurance.auto", "country": "DE", "city": "Ber\u{0}lin",
                   "captured_at": recent_rfc3339(5), "price_cents": 500}),
            "city",
        ),
        (
            &buyer.token,
            "/api/v1/standing-orders",
            json!({"name": "Auto\u{0}", "filter": {"segment": "insurance"}, "max_price_cents": 900}),
            "name",
        ),
        (
            &buyer.token,
            "/api/v1/orders",
            json!({"name": "Loans", "segment": "finance.loans", "filter": {"city": "K\u{1}ln"},
                   "quantity": 5, "price_cents": 2500, "deadline": deadline}),
            "filter.city",
        ),
    ];
    for (token, path, body, field) in cases {
        let resp = app.post_as(token, path).json(&body).send().await.unwrap();
        assert_eq!(refused_field(resp).await, field, "{path}");
    }
}
