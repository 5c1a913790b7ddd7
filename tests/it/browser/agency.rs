//! The agency's journey: upload a CSV on the upload page, watch the batch finish, download
//! its rejected rows.

use crate::browser::Page;
use crate::builders::AgencyBuilder;
use crate::helpers::{PASSWORD, TestApp, recent_rfc3339};
use crate::in_chromium;

in_chromium!(an_agency_uploads_a_csv_on_the_upload_page_and_downloads_its_rejects);

/// Two good rows and two that intake must reject (a bad phone and age, a bot-fast form).
fn csv() -> String {
    let (c, t) = (recent_rfc3339(30), recent_rfc3339(29));
    [
        "first_name;last_name;email;phone;age;country;warmth;contact_type;consent_at;captured_at;form_seconds".to_string(),
        format!("Ann;Lee;ann.lee@example.com;+44 7911 123456;34;GB;hot;quick;{c};{t};120"),
        format!("Ben;Ray;ben.ray@example.com;+44 7911 123457;41;GB;warm;interested;{c};{t};120"),
        format!("Dan;Brown;dan.brown@example.com;12;15;GB;warm;quick;{c};{t};120"),
        format!("Eve;White;eve.white@example.com;+44 7911 123460;30;GB;cold;quick;{c};{t};1"),
    ]
    .join("\n")
        + "\n"
}

async fn an_agency_uploads_a_csv_on_the_upload_page_and_downloads_its_rejects(
    app: &TestApp,
    page: &mut Page,
) {
    let agency = AgencyBuilder::new("Northwind Leads").create(app).await;
    page.login(&agency.email, PASSWORD).await;
    page.goto("/batches/new").await;
    page.select("segment", "insurance.car").await;
    page.select("channel", "web_form").await;
    page.fill("price", "25.00").await;
    page.fill(
        "consent_text",
        "I agree to be contacted about car insurance.",
    )
    .await;
    let file = page.write_file("leads.csv", &csv());
    page.find("input[type='file'][name='file']")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    page.submit("form[action='/batches']").await;

    let path = page.path().await;
    let batch_id = path
        .strip_prefix("/batches/")
        .unwrap_or_else(|| panic!("the upload led to {path}, not to its batch"))
        .to_string();
    // The page refreshes itself while the batch is processing; reload sooner than it does.
    let finished = app.wait_for_batch(&agency.token, &batch_id).await;
    assert_eq!(finished["status"], "done", "{finished}");
    assert_eq!(finished["accepted"], 2, "{finished}");
    assert_eq!(finished["rejected"], 2, "{finished}");
    page.goto(&path).await;

    let (status, rejects) = page.download_link("a[href$='/rejects.csv']").await;
    assert_eq!(status, 200, "{rejects}");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b',')
        .from_reader(rejects.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert!(header.contains(&"reasons".to_string()), "{header:?}");
    let emails: Vec<String> = reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .find(|c| c.contains('@'))
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        emails,
        ["dan.brown@example.com", "eve.white@example.com"],
        "the rejected rows, and only they: {rejects}"
    );

    page.follow("a[href='/batches']").await;
    assert!(page.has(&format!("a[href='/batches/{batch_id}']")).await);
    page.goto("/dashboard").await;
}
