//! The catalogue as people use it: money typed and read in major units, what a lead costs
//! (per lead or per action) shown before buying, a review step before every purchase and
//! every charged action, "buy the first N" in the order shown, and refusals explained
//! beside their field.

use diesel::prelude::*;
use leadmarket::db::schema::{ledger_transactions, purchases};
use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::store;
use serde_json::json;

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::{Browser, TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(
    the_api_catalogue_item_says_how_a_lead_is_billed_and_what_an_action_costs,
    a_per_action_report_shows_its_price_and_charges_only_once_confirmed,
    buying_ticked_leads_shows_the_total_and_billing_first_and_buys_on_confirmation,
    buy_the_first_n_follows_the_sort_shown_and_shows_the_quantity_discount,
    the_income_filter_is_typed_in_euros_and_old_cent_urls_still_mean_cents,
    an_upload_takes_its_price_in_euros_and_a_refused_one_keeps_what_was_typed,
    nothing_ticked_or_too_many_is_explained_beside_the_field_keeping_the_filters,
);

/// A buyer with credit, signed in on the pages.
async fn buyer_on_pages(app: &TestApp, credit_cents: i64) -> (Buyer, Browser) {
    let buyer = BuyerBuilder::new("Keystone")
        .credit(credit_cents)
        .create(app)
        .await;
    let org = app
        .with_conn(|c| store::organisations::find(c, &buyer.id))
        .unwrap();
    let email = app.user(&org, Role::Buyer);
    let b = app.browser();
    b.login(&email).await;
    (buyer, b)
}

fn count_purchases(app: &TestApp) -> i64 {
    app.with_conn(|c| purchases::table.count().get_result(c).unwrap())
}

fn action_transactions(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        ledger_transactions::table
            .filter(ledger_transactions::kind.eq("action"))
            .count()
            .get_result(c)
            .unwrap()
    })
}

async fn the_api_catalogue_item_says_how_a_lead_is_billed_and_what_an_action_costs(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let per_action = LeadBuilder::new(0)
        .per_action(1500)
        .price_cents(200)
        .post(app, &token)
        .await;
    let per_lead = LeadBuilder::new(1).post(app, &token).await;
    let Buyer { token: buyer, .. } = BuyerBuilder::new("Keystone").create(app).await;
    let (status, body) = app.get_json("/api/v1/catalogue", &buyer).await;
    assert_eq!(status, 200, "{body}");
    let item = |id: &str| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(item(&per_action)["billing"], "per_action");
    assert_eq!(item(&per_action)["action_price_cents"], 1500);
    assert_eq!(item(&per_lead)["billing"], "per_lead");
    assert!(item(&per_lead)["action_price_cents"].is_null());
}

async fn a_per_action_report_shows_its_price_and_charges_only_once_confirmed(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(0)
        .per_action(1500)
        .price_cents(100)
        .post(app, &token)
        .await;
    let (buyer, b) = buyer_on_pages(app, 1_000_000).await;
    PurchaseBuilder::of([&lead]).post(app, &buyer.token).await;
    let csrf = b.csrf("/purchases").await;
    let report = [
        ("csrf_token", csrf.as_str()),
        ("lead_id", lead.as_str()),
        ("kind", "call"),
    ];
    let resp = b.post_form("/purchases/actions", &report).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("this action costs 15.00 EUR"), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\""));
    assert_eq!(
        action_transactions(app),
        0,
        "nothing is charged before confirming"
    );
    let confirmed = [report.as_slice(), &[("confirm", "yes")]].concat();
    let resp = b.post_form("/purchases/actions", &confirmed).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(action_transactions(app), 1, "confirming charges the action");
}

async fn buying_ticked_leads_shows_the_total_and_billing_first_and_buys_on_confirmation(
    app: &TestApp,
) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let a = LeadBuilder::new(0).post(app, &token).await;
    let b_lead = LeadBuilder::new(1)
        .per_action(1500)
        .price_cents(500)
        .post(app, &token)
        .await;
    let (_, b) = buyer_on_pages(app, 1_000_000).await;
    let (status, html) = b.get_text("/catalogue").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("per action: 15.00 EUR each reported action"),
        "the catalogue row says how the lead is billed"
    );
    assert!(
        html.contains("<details class=\"price-steps\"><summary>10.00 EUR</summary>"),
        "the price breakdown opens from the keyboard, not only on hover"
    );
    assert!(html.contains("/static/js/catalogue.js"));
    assert!(
        html.contains("name=\"all\" value=\"page\""),
        "select all works without JS"
    );
    let csrf = b.csrf("/catalogue").await;
    let ticked = [
        ("csrf_token", csrf.as_str()),
        ("lead_id", a.as_str()),
        ("lead_id", b_lead.as_str()),
        ("query", ""),
    ];
    let resp = b.post_form("/catalogue/buy-selected", &ticked).await;
    assert_eq!(resp.status(), 200);
    let review = resp.text().await.unwrap();
    assert!(review.contains("15.00 EUR"), "{review}");
    assert!(review.contains("Total for 2 lead(s)"));
    assert!(
        review.contains("15.00 EUR"),
        "the total of 10.00 + 5.00 EUR"
    );
    assert!(review.contains("Charged later, per action"));
    assert_eq!(count_purchases(app), 0, "the review buys nothing");
    let expected = review
        .split("name=\"expected_total_cents\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(expected, "1500");
    let confirmed = [
        ticked.as_slice(),
        &[
            ("confirm", "yes"),
            ("expected_total_cents", expected.as_str()),
        ],
    ]
    .concat();
    let resp = b.post_form("/catalogue/buy-selected", &confirmed).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(count_purchases(app), 2);
}

async fn buy_the_first_n_follows_the_sort_shown_and_shows_the_quantity_discount(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    // The newest lead is the dearest: newest-first and cheapest-first disagree.
    let dear_new = LeadBuilder::new(0)
        .price_cents(3000)
        .set("captured_at", recent_rfc3339(5))
        .post(app, &token)
        .await;
    let cheap_old = LeadBuilder::new(1)
        .price_cents(1000)
        .set("captured_at", recent_rfc3339(120))
        .post(app, &token)
        .await;
    let middle = LeadBuilder::new(2)
        .price_cents(2000)
        .set("captured_at", recent_rfc3339(60))
        .post(app, &token)
        .await;
    app.with_conn(|c| {
        leadmarket::services::market::tune_price_rule(c, &Who::system(), "quantity", "2", "0.9")
    })
    .unwrap();
    let (buyer, b) = buyer_on_pages(app, 1_000_000).await;
    let csrf = b.csrf("/catalogue?sort=price").await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("query", "sort=price"),
        ("quantity", "2"),
        ("max_price", "50.00"),
    ];
    let resp = b.post_form("/catalogue/buy-first", &form).await;
    assert_eq!(resp.status(), 200);
    let review = resp.text().await.unwrap();
    assert!(review.contains("10% off each lead"), "{review}");
    // 10.00 and 20.00 EUR, 10% off: 27.00 EUR.
    assert!(review.contains("27.00 EUR"), "{review}");
    assert_eq!(count_purchases(app), 0, "the review buys nothing");
    let confirmed = [form.as_slice(), &[("confirm", "yes")]].concat();
    let resp = b.post_form("/catalogue/buy-first", &confirmed).await;
    assert_eq!(resp.status(), 303);
    let bought: Vec<String> = app.with_conn(|c| {
        purchases::table
            .filter(purchases::buyer_id.eq(&buyer.id))
            .select(purchases::lead_id)
            .load(c)
            .unwrap()
    });
    let mut bought = bought;
    bought.sort();
    let mut cheapest = vec![cheap_old.clone(), middle.clone()];
    cheapest.sort();
    assert_eq!(
        bought, cheapest,
        "cheapest first, as sorted, not newest first"
    );
    assert!(!bought.contains(&dear_new));

    // The API follows a filter's sort too: best score first buys the hot lead.
    let hot = LeadBuilder::new(3)
        .warmth("hot")
        .set("captured_at", recent_rfc3339(200))
        .post(app, &token)
        .await;
    LeadBuilder::new(4)
        .warmth("cold")
        .set("captured_at", recent_rfc3339(1))
        .post(app, &token)
        .await;
    let resp = app
        .post_as(&buyer.token, "/api/v1/purchases")
        .json(&json!({"filter": {"sort": "-score"}, "quantity": 1, "max_price_cents": 100_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["purchases"][0]["lead_id"], hot.as_str(), "{body}");
}

async fn the_income_filter_is_typed_in_euros_and_old_cent_urls_still_mean_cents(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    LeadBuilder::new(0)
        .set("annual_income", "30000")
        .post(app, &token)
        .await;
    LeadBuilder::new(1)
        .set("annual_income", "50000")
        .post(app, &token)
        .await;
    let (_, b) = buyer_on_pages(app, 0).await;
    let (status, html) = b.get_text("/catalogue?income_min=40%2C000").await;
    assert_eq!(status, 200);
    assert!(html.contains("1 leads match"), "40,000 EUR a year, not 400");
    assert!(html.contains("Income from (EUR a year)"));
    assert!(html.contains("value=\"40,000\""), "what was typed stays");
    let (_, html) = b.get_text("/catalogue?income_min_cents=4000000").await;
    assert!(
        html.contains("1 leads match"),
        "a bookmark in cents filters as before"
    );
    assert!(html.contains("value=\"40000.00\""), "and shows euros");
    let (_, html) = b
        .get_text("/catalogue?max_price=12.505&segment=travel")
        .await;
    assert!(html.contains("two decimals"), "{html}");
    assert!(html.contains("value=\"12.505\""));
    assert!(html.contains("<option value=\"travel\" selected>"));
}

async fn upload(b: &Browser, app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = b.csrf("/batches/new").await;
    let mut form = reqwest::multipart::Form::new().text("csrf_token", csrf);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let csv = format!(
        "first_name,email,phone,age,country,warmth,contact_type,consent_at,captured_at\nAnn,ann@example.com,+447911100001,30,DE,warm,quick,{t},{t}\n",
        t = recent_rfc3339(10)
    );
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("leads.csv"),
    );
    b.client
        .post(app.url("/batches"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn an_upload_takes_its_price_in_euros_and_a_refused_one_keeps_what_was_typed(app: &TestApp) {
    let Agency { org, email, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let b = app.browser();
    b.login(&email).await;
    let (_, form) = b.get_text("/batches/new").await;
    assert!(form.contains("Base price per lead (EUR)"));
    let terms = [
        ("segment", "travel"),
        ("channel", "web_form"),
        ("consent_text", "I agree"),
    ];
    let resp = upload(&b, app, &[terms.as_slice(), &[("price", "12,50")]].concat()).await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("point for decimals"), "{html}");
    assert!(html.contains("value=\"12,50\""), "the price stays as typed");
    assert!(html.contains("I agree"), "the consent wording stays");
    assert!(html.contains("Choose the file again"));
    let resp = upload(&b, app, &[terms.as_slice(), &[("price", "12.50")]].concat()).await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let batches = app
        .with_conn(|c| store::batches::list_for_agency(c, &org.id, 10))
        .unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].price_cents, 1250);
}

async fn nothing_ticked_or_too_many_is_explained_beside_the_field_keeping_the_filters(
    app: &TestApp,
) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    LeadBuilder::new(0).post(app, &token).await;
    let (_, b) = buyer_on_pages(app, 1_000_000).await;
    let csrf = b.csrf("/catalogue").await;
    let resp = b
        .post_form(
            "/catalogue/buy-selected",
            &[("csrf_token", &csrf), ("query", "segment=travel")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"lead_id-error\""), "{html}");
    assert!(html.contains("Tick at least one lead"));
    assert!(!html.contains("the input is not valid"));
    assert!(
        html.contains("<option value=\"travel\" selected>"),
        "the filter stays"
    );
    let resp = b
        .post_form(
            "/catalogue/buy-first",
            &[
                ("csrf_token", &csrf),
                ("query", "segment=travel"),
                ("quantity", "5000"),
                ("max_price", "20"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"quantity-error\""), "{html}");
    assert!(html.contains("at most 1,000 leads"));
    assert!(
        html.contains("value=\"5000\""),
        "the quantity stays as typed"
    );
    assert!(
        html.contains("<option value=\"travel\" selected>"),
        "the filter stays"
    );
    assert_eq!(count_purchases(app), 0);
}
