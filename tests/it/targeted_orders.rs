//! Targeted orders (issue 21): buyers open, list and close orders by API and page;
//! agencies list the open ones and fill them with targeted batches, whose rows go to the
//! order's buyer alone at its price, up to its quantity, within its criteria and before
//! its deadline, and never to the catalogue.

use diesel::prelude::*;
use leadmarket::db::schema::{leads, orders, purchases};
use serde_json::{Value, json};

use crate::builders::{AgencyBuilder, BuyerBuilder};
use crate::helpers::{TestApp, recent_rfc3339};
use crate::on_both_backends;

on_both_backends!(
    a_buyer_opens_lists_and_closes_a_targeted_order,
    a_targeted_batch_fills_its_order_within_criteria_and_quantity_at_its_price,
    an_order_past_its_deadline_is_closed_and_takes_no_batch,
    orders_are_scoped_between_organisations,
    a_buyer_opens_and_closes_an_order_on_its_page,
);

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days)).to_rfc3339()
}

fn order_body(quantity: i64) -> Value {
    json!({"name": "Loans, Bavaria", "segment": "finance.loans", "filter": {"country": "DE", "age_min": 30},
           "quantity": quantity, "price_cents": 2500, "deadline": in_days(7)})
}

async fn open_order(app: &TestApp, token: &str, quantity: i64) -> Value {
    let (status, body) = app
        .post_json("/api/v1/orders", token, &order_body(quantity))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

fn row(n: usize, age: u32) -> Value {
    json!({"first_name": format!("Kim{n}"), "phone": format!("+4479112{:05}", 20_000 + n), "age": age,
           "country": "DE", "warmth": "hot", "contact_type": "quick",
           "consent_at": recent_rfc3339(5), "captured_at": recent_rfc3339(4)})
}

async fn upload(app: &TestApp, token: &str, order_id: &str, leads: Vec<Value>) -> (u16, Value) {
    app.post_json(
        "/api/v1/batches",
        token,
        &json!({"batch": {"kind": "targeted", "order_id": order_id, "segment": "finance.loans",
                          "channel": "sms", "price_cents": 900, "consent_text": "ok"},
                "leads": leads}),
    )
    .await
}

async fn a_buyer_opens_lists_and_closes_a_targeted_order(app: &TestApp) {
    let buyer = BuyerBuilder::new("Keystone").create(app).await;
    let order = open_order(app, &buyer.token, 10).await;
    assert_eq!(order["status"], "open");
    assert_eq!(order["remaining"], 10);
    assert_eq!(order["filter"], json!({"country": "DE", "age_min": 30}));
    let id = order["id"].as_str().unwrap();
    let (_, list) = app.get_json("/api/v1/orders", &buyer.token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, one) = app
        .get_json(&format!("/api/v1/orders/{id}"), &buyer.token)
        .await;
    assert_eq!((status, &one["delivered"]), (200, &json!(0)));
    let (status, closed) = app
        .post_json(
            &format!("/api/v1/orders/{id}/close"),
            &buyer.token,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, &closed["status"]),
        (200, &json!("closed")),
        "{closed}"
    );
    let (status, again) = app
        .post_json(
            &format!("/api/v1/orders/{id}/close"),
            &buyer.token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    // Every problem of a bad order at once.
    let (status, bad) = app
        .post_json(
            "/api/v1/orders",
            &buyer.token,
            &json!({"name": "", "segment": "nope", "quantity": 0, "price_cents": -1, "deadline": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = bad["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["name", "segment", "quantity", "price_cents", "deadline"]
    );
}

async fn a_targeted_batch_fills_its_order_within_criteria_and_quantity_at_its_price(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;
    let order = open_order(app, &buyer.token, 2).await;
    let id = order["id"].as_str().unwrap().to_string();
    let (_, open) = app.get_json("/api/v1/orders/open", &agency.token).await;
    assert_eq!(open["items"][0]["id"], id.as_str());
    assert_eq!(open["items"][0]["buyer"]["name"], "Keystone");
    assert_eq!(open["items"][0]["remaining"], 2);

    // Row 2 is too young for the order; rows 1, 3 fill it; row 4 is one too many.
    let (status, batch) = upload(
        app,
        &agency.token,
        &id,
        vec![row(1, 40), row(2, 25), row(3, 50), row(4, 44)],
    )
    .await;
    assert_eq!(status, 202, "{batch}");
    let batch_id = batch["id"].as_str().unwrap().to_string();
    let done = app.wait_for_batch(&agency.token, &batch_id).await;
    assert_eq!(
        (done["accepted"].as_i64(), done["rejected"].as_i64()),
        (Some(2), Some(2)),
        "{done}"
    );
    let rejects = app
        .get_as(
            &agency.token,
            &format!("/api/v1/batches/{batch_id}/rejects.csv"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reasons: Vec<&str> = rejects.lines().skip(1).collect();
    assert_eq!(reasons.len(), 2, "{rejects}");
    assert!(
        reasons[0].contains("Kim2") && reasons[0].contains("out_of_criteria"),
        "{rejects}"
    );
    assert!(
        reasons[1].contains("Kim4") && reasons[1].contains("order_filled"),
        "{rejects}"
    );

    let sold: Vec<(String, i64)> = app.with_conn(|c| {
        purchases::table
            .inner_join(leads::table)
            .filter(leads::batch_id.eq(&batch_id))
            .select((purchases::buyer_id, purchases::price_cents))
            .load(c)
            .unwrap()
    });
    assert_eq!(
        sold,
        vec![(buyer.id.clone(), 2500), (buyer.id.clone(), 2500)]
    );
    let (_, one) = app
        .get_json(&format!("/api/v1/orders/{id}"), &buyer.token)
        .await;
    assert_eq!(
        (&one["delivered"], &one["remaining"]),
        (&json!(2), &json!(0))
    );
    // Filled orders are not offered to agencies, and targeted leads are never listed.
    let (_, open) = app.get_json("/api/v1/orders/open", &agency.token).await;
    assert_eq!(open["items"], json!([]));
    let other = BuyerBuilder::new("Other")
        .credit(1_000_000)
        .create(app)
        .await;
    let (_, catalogue) = app.get_json("/api/v1/catalogue", &other.token).await;
    assert_eq!(catalogue["items"], json!([]), "{catalogue}");
    // A second batch gets nothing into a full order.
    let (_, batch) = upload(app, &agency.token, &id, vec![row(5, 40)]).await;
    let done = app
        .wait_for_batch(&agency.token, batch["id"].as_str().unwrap())
        .await;
    assert_eq!(done["accepted"], 0, "{done}");
    let (_, account) = app.get_json("/api/v1/account", &buyer.token).await;
    assert_eq!(account["owed_cents"], 5000);
}

async fn an_order_past_its_deadline_is_closed_and_takes_no_batch(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;
    let order = open_order(app, &buyer.token, 5).await;
    let id = order["id"].as_str().unwrap().to_string();
    // The deadline passes.
    app.with_conn(|c| {
        diesel::update(orders::table.find(&id))
            .set(orders::deadline.eq(Some(
                leadmarket::store::now() - chrono::TimeDelta::minutes(1),
            )))
            .execute(c)
            .unwrap()
    });
    let (_, one) = app
        .get_json(&format!("/api/v1/orders/{id}"), &buyer.token)
        .await;
    assert_eq!(one["status"], "closed");
    let (_, open) = app.get_json("/api/v1/orders/open", &agency.token).await;
    assert_eq!(open["items"], json!([]));
    let (status, body) = upload(app, &agency.token, &id, vec![row(1, 40)]).await;
    assert_eq!(status, 422, "{body}");
    let stored: String = app.with_conn(|c| {
        orders::table
            .find(&id)
            .select(orders::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(stored, "closed");
}

async fn orders_are_scoped_between_organisations(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone").create(app).await;
    let other = BuyerBuilder::new("Other").create(app).await;
    let order = open_order(app, &buyer.token, 5).await;
    let id = order["id"].as_str().unwrap();
    let (status, _) = app
        .get_json(&format!("/api/v1/orders/{id}"), &other.token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/orders/{id}/close"),
            &other.token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = app.get_json("/api/v1/orders", &other.token).await;
    assert_eq!(list["items"], json!([]));
    let (status, _) = app
        .post_json("/api/v1/orders", &agency.token, &order_body(1))
        .await;
    assert_eq!(status, 403, "agencies do not order");
    let (status, _) = app.get_json("/api/v1/orders/open", &buyer.token).await;
    assert_eq!(status, 403, "buyers do not fill orders");
    let (status, _) = app
        .get_json(&format!("/api/v1/orders/{id}"), &agency.token)
        .await;
    assert_eq!(status, 403);
}

async fn a_buyer_opens_and_closes_an_order_on_its_page(app: &TestApp) {
    let (buyer, email) = BuyerBuilder::new("Keystone").create_with_login(app).await;
    let web = app.browser();
    web.login(&email).await;
    let token = web.csrf("/orders").await;
    let deadline = (chrono::Utc::now() + chrono::TimeDelta::days(3))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let resp = web
        .post_form(
            "/orders",
            &[
                ("csrf_token", &token),
                ("name", "Car insurance, Berlin"),
                ("segment", "insurance.car"),
                ("quantity", "20"),
                ("price", "12.50"),
                ("deadline", &deadline),
                ("country", "DE"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let (_, html) = web.get_text("/orders").await;
    assert!(
        html.contains("Car insurance, Berlin") && html.contains("0 of 20"),
        "{html}"
    );
    let (_, list) = app.get_json("/api/v1/orders", &buyer.token).await;
    assert_eq!(list["items"][0]["price_cents"], 1250);
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let resp = web
        .post_form(&format!("/orders/{id}/close"), &[("csrf_token", &token)])
        .await;
    assert_eq!(resp.status(), 303);
    let (_, one) = app
        .get_json(&format!("/api/v1/orders/{id}"), &buyer.token)
        .await;
    assert_eq!(one["status"], "closed");
}
