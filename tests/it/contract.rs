//! The public API's bodies as snapshots (`snapshots/`), so a change of the contract in
//! api.md (a field renamed, added or dropped, a type changed) shows in review as a changed
//! `.snap` file. Ids, times and the invoice number are redacted; both backends compare
//! against the same snapshot. Update with `INSTA_UPDATE=always` (or `cargo insta review`)
//! after a deliberate contract change.

use leadmarket::domain::audit::Who;
use leadmarket::services::billing;
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder};
use crate::helpers::{TestApp, ctx, this_month};
use crate::on_both_backends;

on_both_backends!(the_catalogue_purchase_invoice_and_batch_bodies_keep_their_shape);

/// The snapshot under `name`, without the backend, so both twins share one file.
fn assert_body(name: &str, body: &Value) {
    insta::assert_json_snapshot!(name, body, {
        ".id" => "[id]",
        ".items[].id" => "[id]",
        ".items[].captured_at" => "[time]",
        ".items[].agency.id" => "[id]",
        ".purchases[].id" => "[id]",
        ".purchases[].lead_id" => "[id]",
        ".number" => "[number]",
        ".issued_at" => "[time]",
        ".due_at" => "[time]",
        ".lines[].description" => insta::dynamic_redaction(|value, _| {
            value
                .as_str()
                .map(|d| match d.split_once(", batch of ") {
                    // Lines name the batch's day in words: "batch of 2 Dec 2026".
                    Some((what, _)) => format!("{what}, batch of [date]"),
                    None => without_dates(d),
                })
                .unwrap_or_default()
        }),
    });
}

/// `text` with every `YYYY-MM-DD` replaced by `[date]` (invoice lines name the day).
fn without_dates(text: &str) -> String {
    let is_date = |s: &[u8]| {
        s.len() == 10
            && s.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < text.len() {
        if bytes.get(i..i + 10).is_some_and(is_date) {
            out.push_str("[date]");
            i += 10;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

async fn the_catalogue_purchase_invoice_and_batch_bodies_keep_their_shape(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(1)
        .set("region", "Berlin")
        .set("city", "Berlin")
        .set("postal_code", "10115")
        .set("annual_income", "45000")
        .post(app, &token)
        .await;
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;

    let (status, catalogue) = app.get_json("/api/v1/catalogue", &buyer).await;
    assert_eq!(status, 200, "{catalogue}");
    assert_eq!(catalogue["items"][0]["id"], lead.as_str());
    assert_body("catalogue", &catalogue);

    let (status, purchase) = app
        .post_json("/api/v1/purchases", &buyer, &json!({ "lead_ids": [lead] }))
        .await;
    assert_eq!(status, 201, "{purchase}");
    assert_eq!(purchase["purchases"][0]["lead_id"], lead.as_str());
    assert_body("purchase", &purchase);

    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&buyer_id), false))
        .unwrap()
        .remove(0);
    let issued = app
        .with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    let (status, invoice) = app
        .get_json(&format!("/api/v1/invoices/{}", issued.id), &buyer)
        .await;
    assert_eq!(status, 200, "{invoice}");
    assert_eq!(invoice["id"], issued.id.as_str());
    assert_body("invoice", &invoice);

    let (status, accepted) = app
        .post_json(
            "/api/v1/batches",
            &token,
            &json!({
                "batch": {"segment": "travel", "channel": "web_form", "price_cents": 1000, "consent_text": "ok"},
                "leads": [LeadBuilder::new(2).json(), LeadBuilder::new(2).json(), LeadBuilder::new(3).age(12).json()],
            }),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let batch = app
        .wait_for_batch(&token, accepted["id"].as_str().unwrap())
        .await;
    assert_eq!(batch["id"], accepted["id"]);
    assert_body("batch", &batch);
}
