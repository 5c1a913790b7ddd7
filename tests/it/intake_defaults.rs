//! A batch's `segment` and `channel` are defaults for rows whose cell is empty: a file
//! whose rows carry their own needs neither (import, upload page, `POST /batches`); a row
//! left with neither is rejected with its reason; a file with no such column and no
//! default is refused up front.

use std::process::Command;

use diesel::prelude::*;
use leadmarket::db::schema::leads;
use leadmarket::domain::Role;
use leadmarket::services::intake;
use leadmarket::store;
use serde_json::Value;

use crate::builders::{Agency, AgencyBuilder};
use crate::helpers::{JWT_SECRET, SECRET_KEY, TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(
    a_file_whose_rows_carry_segment_and_channel_needs_neither_anywhere,
    a_default_fills_an_empty_cell_and_without_one_the_row_is_rejected_with_its_reason,
);

/// Rows with their own `segment` and `channel` cells; `cells` gives them per row.
fn csv(cells: &[(&str, &str)]) -> String {
    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    let mut out =
        "first_name,email,age,country,warmth,contact_type,consent_at,captured_at,segment,channel\n"
            .to_string();
    for (i, (segment, channel)) in cells.iter().enumerate() {
        out.push_str(&format!(
            "Ann{i},ann{i}@example.com,34,GB,hot,quick,{c},{t},{segment},{channel}\n"
        ));
    }
    out
}

/// `(segment, channel)` of a batch's leads, by first name.
fn segments_of(app: &TestApp, batch_id: &str) -> Vec<(String, String, String)> {
    app.with_conn(|c| {
        leads::table
            .filter(leads::batch_id.eq(batch_id))
            .select((
                leads::first_name.assume_not_null(),
                leads::segment,
                leads::channel,
            ))
            .order(leads::first_name)
            .load(c)
            .unwrap()
    })
}

/// The rejects file's `reasons` cells, by row number.
fn reasons_of(app: &TestApp, batch_id: &str) -> Vec<(String, String)> {
    let batch = app
        .with_conn(|c| store::batches::find(c, batch_id))
        .unwrap();
    let mut out = Vec::new();
    app.with_conn(|c| intake::write_rejects(c, &batch, &mut out))
        .unwrap();
    csv::Reader::from_reader(out.as_slice())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[r.len() - 2].to_string(), r[r.len() - 1].to_string())
        })
        .collect()
}

fn multipart(terms: &[(&str, &str)], file: &str) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in terms {
        form = form.text(k.to_string(), v.to_string());
    }
    form.part(
        "file",
        reqwest::multipart::Part::bytes(file.as_bytes().to_vec()).file_name("leads.csv"),
    )
}

async fn post_batch(app: &TestApp, token: &str, terms: &[(&str, &str)], file: &str) -> Value {
    let resp = app
        .post_as(token, "/api/v1/batches")
        .multipart(multipart(terms, file))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let done = app.wait_for_batch(token, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    done
}

const PRICE: &[(&str, &str)] = &[("price_cents", "1000"), ("consent_text", "I agree.")];

async fn a_file_whose_rows_carry_segment_and_channel_needs_neither_anywhere(app: &TestApp) {
    let file = csv(&[("travel", "web_form"), ("insurance.car", "sms")]);

    // `POST /batches` with neither term.
    let Agency { token, email, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let done = post_batch(app, &token, PRICE, &file).await;
    assert_eq!(done["accepted"], 2, "{done}");
    let id = done["id"].as_str().unwrap();
    assert_eq!(
        segments_of(app, id),
        [
            ("Ann0".into(), "travel".into(), "web_form".into()),
            ("Ann1".into(), "insurance.car".into(), "sms".into())
        ]
    );

    // The upload page, its selects left on "none".
    let b = app.browser();
    b.login(&email).await;
    let token_field = b.csrf("/batches/new").await;
    let (_, form_html) = b.get_text("/batches/new").await;
    assert!(
        form_html.contains("<option value=\"\">None: each row gives its own</option>"),
        "{form_html}"
    );
    let upload = csv(&[("finance.loans", "popup")]).replace("Ann0", "Bea0");
    let form = multipart(
        &[
            PRICE,
            &[
                ("csrf_token", token_field.as_str()),
                ("segment", ""),
                ("channel", ""),
            ],
        ]
        .concat(),
        &upload.replace("ann0@", "bea0@"),
    );
    let resp = b
        .client
        .post(app.url("/batches"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let page_batch = location.trim_start_matches("/batches/").to_string();
    assert_eq!(app.wait_for_batch(&token, &page_batch).await["accepted"], 1);
    assert_eq!(
        segments_of(app, &page_batch),
        [("Bea0".into(), "finance.loans".into(), "popup".into())]
    );

    // `leadmarket import` without --segment or --channel, in its own database.
    let other = TestApp::spawn(app.backend).await.unwrap();
    let (agency, _) = other.member(Role::Agency, "Import Agency");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, &file).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadmarket"))
        .args(["import", path.to_str().unwrap(), "--agency", &agency.slug])
        .args(["--price-cents", "1000", "--consent-text", "I agree."])
        .env("DATABASE_URL", &other.database_url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("JWT_SECRET", JWT_SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 accepted, 0 rejected"), "{stdout}");
    let batch_id = stdout
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':');
    assert_eq!(segments_of(&other, batch_id).len(), 2);
    other.finish().await;
}

async fn a_default_fills_an_empty_cell_and_without_one_the_row_is_rejected_with_its_reason(
    app: &TestApp,
) {
    let Agency { org, token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let file = csv(&[("travel", "web_form"), ("", "sms"), ("travel", "")]);

    // No defaults: each row without its own is rejected, the others go in.
    let done = post_batch(app, &token, PRICE, &file).await;
    assert_eq!(
        (&done["accepted"], &done["rejected"]),
        (&1.into(), &2.into())
    );
    let id = done["id"].as_str().unwrap();
    assert_eq!(
        reasons_of(app, id),
        [
            (
                "2".into(),
                "missing: segment is empty and the batch gives no default segment".into()
            ),
            (
                "3".into(),
                "missing: channel is empty and the batch gives no default channel".into()
            ),
        ]
    );

    // Defaults fill the empty cells; a row's own cell wins.
    let again = file.replace("Ann", "Bob").replace("@example", "b@example");
    let terms = [PRICE, &[("segment", "insurance"), ("channel", "popup")]].concat();
    let done = post_batch(app, &token, &terms, &again).await;
    assert_eq!(done["accepted"], 3, "{done}");
    assert_eq!(
        segments_of(app, done["id"].as_str().unwrap()),
        [
            ("Bob0".into(), "travel".into(), "web_form".into()),
            ("Bob1".into(), "insurance".into(), "sms".into()),
            ("Bob2".into(), "travel".into(), "popup".into()),
        ]
    );

    // A default must be known; a file with no segment column needs one.
    let before = app
        .with_conn(|c| store::batches::count_for_agency(c, &org.id))
        .unwrap();
    let no_segment_column = format!(
        "email,age,country,warmth,contact_type,consent_at,captured_at\ncy@example.com,34,GB,hot,quick,{},{}\n",
        recent_rfc3339(30),
        recent_rfc3339(29)
    );
    for (terms, file, needle) in [
        (
            [PRICE, &[("segment", "pets")]].concat(),
            file.clone(),
            "`pets` is not a known segment",
        ),
        (
            [PRICE, &[("channel", "sms")]].concat(),
            no_segment_column.clone(),
            "segment (or the batch's segment)",
        ),
    ] {
        let resp = app
            .post_as(&token, "/api/v1/batches")
            .multipart(multipart(&terms, &file))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert!(body.to_string().contains(needle), "{body}");
    }
    let after = app
        .with_conn(|c| store::batches::count_for_agency(c, &org.id))
        .unwrap();
    assert_eq!(before, after, "a refused batch stores nothing");
}
