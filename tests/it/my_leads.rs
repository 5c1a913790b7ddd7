//! "My leads": newest first, a page at a time, searched by name, phone or email,
//! filtered by day, agency, segment and dispute state; refunded leads marked and not
//! disputable again; its CSV in major units, phones without a stray apostrophe.

use diesel::prelude::*;
use leadmarket::db::schema::disputes;
use leadmarket::domain::Role;
use leadmarket::domain::disputes::DisputeStatus;
use serde_json::json;

use crate::builders::{AgencyBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::{Browser, TestApp};
use crate::on_both_backends;

on_both_backends!(
    my_leads_are_newest_first_searchable_filterable_and_paged,
    the_page_csv_keeps_phones_as_numbers_prices_in_euros_and_formulas_harmless,
);

// One return of two purchases is above the default cap.
on_both_backends!(with [("RETURN_CAP_BP", "10000")] =>
    a_refunded_lead_is_marked_and_cannot_be_disputed_again,
);

/// A buyer with credit, its API token and a signed-in browser.
async fn buyer(app: &TestApp) -> (String, String, Browser) {
    let (org, email) = app.member(Role::Buyer, "Keystone");
    app.with_conn(|c| leadmarket::services::market::set_credit_limit(c, &org.slug, 10_000_000))
        .unwrap();
    let token = app.token(&app.api_key(&org)).await;
    let b = app.browser();
    b.login(&email).await;
    (org.id, token, b)
}

/// The purchase ids of the rows of a My leads page, in page order.
fn rows(html: &str) -> Vec<String> {
    html.split("data-purchase=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn next_link(html: &str) -> Option<String> {
    let at = html.find("href=\"/purchases?")?;
    let rest = &html[at + 6..];
    Some(rest.split('"').next().unwrap().replace("&amp;", "&"))
}

async fn my_leads_are_newest_first_searchable_filterable_and_paged(app: &TestApp) {
    let acme = AgencyBuilder::new("Acme Leads").create(app).await;
    let brio = AgencyBuilder::new("Brio Data").create(app).await;
    let (_, token, b) = buyer(app).await;
    let mut purchase_ids = Vec::new();
    for i in 0..52 {
        let lead = LeadBuilder::new(i).post(app, &acme.token).await;
        let body = PurchaseBuilder::of([lead]).post(app, &token).await;
        purchase_ids.push(body["purchases"][0]["id"].as_str().unwrap().to_string());
    }
    let special = LeadBuilder::new(900)
        .set("first_name", "Zelda")
        .email("zelda.q@example.org")
        .phone("+4917052918374")
        .segment("finance")
        .post(app, &brio.token)
        .await;
    let body = PurchaseBuilder::of([special]).post(app, &token).await;
    let special_purchase = body["purchases"][0]["id"].as_str().unwrap().to_string();

    let (status, first) = b.get_text("/purchases").await;
    assert_eq!(status, 200);
    let shown = rows(&first);
    assert_eq!(shown.len(), 50, "a page at a time");
    assert_eq!(shown[0], special_purchase, "newest first");
    assert_eq!(shown[1], purchase_ids[51]);
    assert!(first.contains(" EUR</td>"), "money for people");
    assert!(!first.contains("Price (cents)"));
    let next = next_link(&first).expect("a link to older leads");
    let (_, second) = b.get_text(&next).await;
    let older = rows(&second);
    assert_eq!(older.len(), 3);
    assert_eq!(older.last().unwrap(), &purchase_ids[0]);

    for search in ["zelda", "ZELDA.Q@EXAMPLE", "170 5291 8374", "+49170529"] {
        let (_, found) = b
            .get_text(&format!(
                "/purchases?q={}",
                leadmarket::web::urlencode(search)
            ))
            .await;
        assert_eq!(rows(&found), vec![special_purchase.clone()], "{search}");
    }
    let (_, by_agency) = b
        .get_text(&format!("/purchases?agency={}", brio.org.id))
        .await;
    assert_eq!(rows(&by_agency), vec![special_purchase.clone()]);
    let (_, by_segment) = b.get_text("/purchases?segment=finance").await;
    assert_eq!(rows(&by_segment), vec![special_purchase.clone()]);
    let today = chrono::Utc::now().date_naive();
    let (_, today_only) = b
        .get_text(&format!(
            "/purchases?from={today}&to={today}&segment=travel"
        ))
        .await;
    assert_eq!(rows(&today_only).len(), 50);
    let tomorrow = today + chrono::TimeDelta::days(1);
    let (_, none) = b.get_text(&format!("/purchases?from={tomorrow}")).await;
    assert!(rows(&none).is_empty());
    assert!(
        none.contains("No bought lead matches these filters"),
        "{none}"
    );
    let (status, bad) = b.get_text("/purchases?from=yesterday").await;
    assert_eq!(status, 422);
    assert!(
        bad.contains("From must be a date such as 2026-11-24"),
        "{bad}"
    );

    // The download follows the filters: its link carries them, and the file holds every
    // row they keep (all 52 over two pages), newest first, and nothing else.
    let (_, travel) = b.get_text("/purchases?segment=travel").await;
    assert!(
        travel.contains("href=\"/purchases.csv?segment=travel\""),
        "{travel}"
    );
    assert!(travel.contains("Download these as CSV"));
    let csv_rows = |csv: &str| -> Vec<String> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let (status, csv) = b.get_text("/purchases.csv?segment=travel").await;
    assert_eq!(status, 200);
    let mut newest_first = purchase_ids.clone();
    newest_first.reverse();
    assert_eq!(csv_rows(&csv), newest_first);
    let (_, csv) = b.get_text("/purchases.csv?q=zelda").await;
    assert_eq!(csv_rows(&csv), vec![special_purchase.clone()]);
    let (_, csv) = b
        .get_text(&format!("/purchases.csv?agency={}", acme.org.id))
        .await;
    assert_eq!(csv_rows(&csv).len(), 52);
    let (_, csv) = b.get_text(&format!("/purchases.csv?from={tomorrow}")).await;
    assert!(csv_rows(&csv).is_empty(), "{csv}");
    let (_, csv) = b.get_text("/purchases.csv").await;
    assert_eq!(csv_rows(&csv).len(), 53, "unfiltered: everything");
    let (status, _) = b.get_text("/purchases.csv?from=yesterday").await;
    assert_eq!(status, 422);

    // The search never reaches another buyer's leads.
    let (_, _, other) = buyer_named(app, "Other Buyer").await;
    let (_, theirs) = other.get_text("/purchases?q=zelda").await;
    assert!(rows(&theirs).is_empty());
    let (_, theirs) = other.get_text("/purchases.csv?q=zelda").await;
    assert_eq!(theirs.lines().count(), 1, "the header alone: {theirs}");
}

async fn buyer_named(app: &TestApp, name: &str) -> (String, String, Browser) {
    let (org, email) = app.member(Role::Buyer, name);
    let token = app.token(&app.api_key(&org)).await;
    let b = app.browser();
    b.login(&email).await;
    (org.id, token, b)
}

async fn a_refunded_lead_is_marked_and_cannot_be_disputed_again(app: &TestApp) {
    let acme = AgencyBuilder::new("Acme Leads").create(app).await;
    let (_, token, b) = buyer(app).await;
    let refunded = LeadBuilder::new(1).post(app, &acme.token).await;
    let kept = LeadBuilder::new(2).post(app, &acme.token).await;
    let body = PurchaseBuilder::of([refunded.clone(), kept.clone()])
        .post(app, &token)
        .await;
    let (status, _) = app
        .post_json(
            "/api/v1/disputes",
            &token,
            &json!({"lead_id": refunded, "reason": "competitor"}),
        )
        .await;
    assert_eq!(status, 201);
    app.with_conn(|c| {
        diesel::update(disputes::table)
            .set(disputes::status.eq(DisputeStatus::Approved))
            .execute(c)
            .unwrap()
    });
    let (_, page) = b.get_text("/purchases").await;
    assert!(page.contains("refunded"), "{page}");
    assert!(
        page.contains(&format!("name=\"lead_id\" value=\"{kept}\"")),
        "the kept lead can be disputed"
    );
    assert!(
        !page.contains(&format!("name=\"lead_id\" value=\"{refunded}\"")),
        "no dispute form for the refunded lead"
    );
    let (_, only_refunded) = b.get_text("/purchases?dispute=refunded").await;
    assert_eq!(rows(&only_refunded).len(), 1);
    let (_, undisputed) = b.get_text("/purchases?dispute=none").await;
    assert_eq!(rows(&undisputed).len(), 1);
    let purchases = body["purchases"].as_array().unwrap();
    assert_eq!(purchases.len(), 2);
    // Sent anyway (an old tab): a message on the page, not an error page.
    let csrf = b.csrf("/purchases").await;
    let resp = b
        .post_form(
            "/disputes",
            &[
                ("csrf_token", csrf.as_str()),
                ("lead_id", refunded.as_str()),
                ("reason", "bot"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    let (status, list) = b.get_text(&to).await;
    assert_eq!(status, 200);
    assert!(list.contains("You disputed this lead already"), "{list}");
    // A refusal of another kind (no such reason) is said on My leads.
    let resp = b
        .post_form(
            "/disputes",
            &[
                ("csrf_token", csrf.as_str()),
                ("lead_id", kept.as_str()),
                ("reason", "no-such-reason"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/purchases");
    let (_, page) = b.get_text("/purchases").await;
    assert!(page.contains("Reason must be one of"), "{page}");
    assert!(page.contains("flash error"));
}

async fn the_page_csv_keeps_phones_as_numbers_prices_in_euros_and_formulas_harmless(app: &TestApp) {
    let acme = AgencyBuilder::new("Acme Leads").create(app).await;
    let (_, token, b) = buyer(app).await;
    let lead = LeadBuilder::new(1)
        .set("first_name", "=cmd|' /C calc'!A0")
        .phone("+4915152918374")
        .post(app, &acme.token)
        .await;
    let body = PurchaseBuilder::of([lead]).post(app, &token).await;
    let cents = body["total_cents"].as_i64().unwrap();
    let resp = b.get("/purchases.csv").await;
    assert_eq!(resp.status(), 200);
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("purchase_id,bought_at,price,currency,lead_id"),
        "{header}"
    );
    let row = lines.next().unwrap();
    assert!(row.contains(",+4915152918374,"), "{row}");
    assert!(!row.contains("'+49"), "{row}");
    assert!(row.contains("'=cmd"), "{row}");
    let price = format!(",{}.{:02},EUR,", cents / 100, cents % 100);
    assert!(row.contains(&price), "{row} has {price}");
    // The API's file keeps minor units.
    let api = app
        .get_as(&token, "/api/v1/purchases.csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        api.starts_with("purchase_id,bought_at,price_cents,lead_id"),
        "{api}"
    );
}
