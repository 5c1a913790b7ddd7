//! Standing orders managed by buyers (issue 20): the API's create, read, change, delete
//! and secret rotation, every refused field (callback URLs that would reach private
//! addresses included), scoping, the pages, the time zone setting and today's count in
//! the buyer's zone.

use chrono::TimeDelta;
use diesel::prelude::*;
use leadmarket::db::schema::{organisations, purchases};
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    a_new_order_shows_its_secret_once_and_rotation_changes_it,
    every_refused_field_is_named_and_private_callbacks_are_refused_at_save,
    another_buyers_order_is_not_found_and_other_kinds_are_forbidden,
    a_patch_changes_only_what_it_names_and_a_deleted_order_is_gone,
    today_count_counts_the_purchases_of_the_buyers_own_day,
    a_buyer_creates_lists_edits_and_pauses_an_order_on_the_pages,
    the_time_zone_is_saved_and_a_bad_one_is_refused_beside_the_field,
);

on_both_backends!(with [("CALLBACK_ALLOW_PRIVATE", "true")] =>
    with_private_callbacks_allowed_a_loopback_http_callback_is_saved,
);

fn order() -> Value {
    json!({
        "name": "Hot car insurance in Germany",
        "filter": {"segment": "insurance.car", "country": "DE", "warmth": ["hot"], "age_min": 25},
        "max_price_cents": 1500,
        "daily_cap": 20,
        "budget_cents": 50000,
        "deliver_email": "Leads@Example.com",
        "callback_url": null,
        "active": true,
        "active_hours": "08:00-18:00"
    })
}

async fn patch(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = app
        .api()
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, token: &str, path: &str) -> u16 {
    app.api()
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn problems(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|p| {
                    (
                        p["field"].as_str().unwrap_or_default().to_string(),
                        p["problem"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn a_new_order_shows_its_secret_once_and_rotation_changes_it(app: &TestApp) {
    let buyer = BuyerBuilder::new("Acme Insurance").create(app).await;
    let (status, made) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &order())
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64, "32 bytes as hex");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    let id = made["id"].as_str().unwrap().to_string();
    insta::assert_json_snapshot!("standing_order", made, {
        ".id" => "[id]",
        ".secret" => "[secret]",
        ".created_at" => "[time]",
        ".updated_at" => "[time]",
    });

    let (status, got) = app
        .get_json(&format!("/api/v1/standing-orders/{id}"), &buyer.token)
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("secret").is_none(), "GET never shows the secret");
    assert_eq!(got["today_count"], 0);
    assert_eq!(got["spent_cents"], 0);
    assert_eq!(got["budget_left_cents"], 50000);
    assert_eq!(got["deliver_email"], "leads@example.com");
    let (_, list) = app.get_json("/api/v1/standing-orders", &buyer.token).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none());
    assert!(!list.to_string().contains(&secret));

    let (status, rotated) = app
        .post_json(
            &format!("/api/v1/standing-orders/{id}/secret"),
            &buyer.token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_eq!(new_secret.len(), 64);
    assert_ne!(new_secret, secret);
    let stored = app
        .with_conn(|c| store::standing_orders::find(c, &id))
        .unwrap();
    assert_eq!(
        stored.secret, new_secret,
        "the new secret signs from now on"
    );
}

async fn every_refused_field_is_named_and_private_callbacks_are_refused_at_save(app: &TestApp) {
    let buyer = BuyerBuilder::new("Acme Insurance").create(app).await;
    let bad = json!({
        "name": "  ",
        "filter": {"age_min": 5, "colour": "blue"},
        "max_price_cents": -1,
        "daily_cap": 0,
        "budget_cents": -5,
        "deliver_email": "not an email",
        "active_hours": "8 to 6"
    });
    let (status, body) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &bad)
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<String> = problems(&body).into_iter().map(|(f, _)| f).collect();
    assert!(fields.contains(&"filter.colour".to_string()), "{fields:?}");
    let (_, body) = app
        .post_json(
            "/api/v1/standing-orders",
            &buyer.token,
            &json!({"name": " ", "filter": {"age_min": 5}, "max_price_cents": -1, "daily_cap": 0,
                    "budget_cents": -5, "deliver_email": "not an email", "active_hours": "8 to 6"}),
        )
        .await;
    let fields: Vec<String> = problems(&body).into_iter().map(|(f, _)| f).collect();
    for f in [
        "name",
        "filter.age_min",
        "max_price_cents",
        "daily_cap",
        "budget_cents",
        "deliver_email",
        "active_hours",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }

    for url in [
        "https://127.0.0.1/",
        "https://10.0.0.1/",
        "https://169.254.169.254/",
        "https://localhost/",
        "ftp://crm.example.com/",
        "http://crm.example.com/",
        "http://127.0.0.1:9/",
    ] {
        let mut body = order();
        body["callback_url"] = json!(url);
        let (status, answer) = app
            .post_json("/api/v1/standing-orders", &buyer.token, &body)
            .await;
        assert_eq!(status, 422, "{url}: {answer}");
        assert_eq!(
            problems(&answer)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>(),
            vec!["callback_url".to_string()],
            "{url}"
        );
    }
    let (_, list) = app.get_json("/api/v1/standing-orders", &buyer.token).await;
    assert_eq!(list["items"], json!([]), "nothing refused was saved");
}

async fn with_private_callbacks_allowed_a_loopback_http_callback_is_saved(app: &TestApp) {
    let buyer = BuyerBuilder::new("Acme Insurance").create(app).await;
    let mut body = order();
    body["callback_url"] = json!("http://127.0.0.1:9/");
    let (status, made) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &body)
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["callback_url"], "http://127.0.0.1:9/");
    body["callback_url"] = json!("ftp://127.0.0.1/");
    let (status, _) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &body)
        .await;
    assert_eq!(status, 422, "other schemes stay refused");
}

async fn another_buyers_order_is_not_found_and_other_kinds_are_forbidden(app: &TestApp) {
    let owner = BuyerBuilder::new("Acme Insurance").create(app).await;
    let other = BuyerBuilder::new("Other Buyer").create(app).await;
    let (_, made) = app
        .post_json("/api/v1/standing-orders", &owner.token, &order())
        .await;
    let path = format!("/api/v1/standing-orders/{}", made["id"].as_str().unwrap());
    let (status, _) = app.get_json(&path, &other.token).await;
    assert_eq!(status, 404);
    let (status, _) = patch(app, &other.token, &path, &json!({"name": "Mine now"})).await;
    assert_eq!(status, 404);
    assert_eq!(delete(app, &other.token, &path).await, 404);
    let (status, _) = app
        .post_json(&format!("{path}/secret"), &other.token, &json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, got) = app.get_json(&path, &owner.token).await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "Hot car insurance in Germany", "unchanged");

    let agency = AgencyBuilder::new("Lead Farm").create(app).await;
    let (status, _) = app.get_json("/api/v1/standing-orders", &agency.token).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .post_json("/api/v1/standing-orders", &agency.token, &order())
        .await;
    assert_eq!(status, 403);
}

async fn a_patch_changes_only_what_it_names_and_a_deleted_order_is_gone(app: &TestApp) {
    let buyer = BuyerBuilder::new("Acme Insurance").create(app).await;
    let (_, made) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &order())
        .await;
    let id = made["id"].as_str().unwrap();
    let path = format!("/api/v1/standing-orders/{id}");
    let (status, changed) = patch(
        app,
        &buyer.token,
        &path,
        &json!({"active": false, "daily_cap": null, "filter": {"segment": "travel"}}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["active"], false);
    assert_eq!(changed["daily_cap"], Value::Null);
    assert_eq!(changed["filter"], json!({"segment": "travel"}));
    assert_eq!(changed["max_price_cents"], 1500, "not named, kept");
    assert_eq!(changed["active_hours"], "08:00-18:00");
    let row = app
        .with_conn(|c| store::standing_orders::find(c, id))
        .unwrap();
    assert_eq!(
        (row.segment.as_deref(), row.country.as_deref()),
        (Some("travel"), None),
        "the index keys follow the filter"
    );
    let (status, refused) = patch(app, &buyer.token, &path, &json!({"max_price_cents": -3})).await;
    assert_eq!(status, 422, "{refused}");

    assert_eq!(delete(app, &buyer.token, &path).await, 204);
    let (status, _) = app.get_json(&path, &buyer.token).await;
    assert_eq!(status, 404);
    assert_eq!(delete(app, &buyer.token, &path).await, 404);
    let row = app
        .with_conn(|c| store::standing_orders::find(c, id))
        .unwrap();
    assert!(row.deleted_at.is_some() && !row.active, "kept, inactive");
}

/// Four purchases 1, 7, 13 and 19 hours ago: moving the buyer's zone by 12 hours moves
/// its midnight past two of them, whatever the hour of the run.
async fn today_count_counts_the_purchases_of_the_buyers_own_day(app: &TestApp) {
    let agency = AgencyBuilder::new("Lead Farm").create(app).await;
    let buyer: Buyer = BuyerBuilder::new("Acme Insurance")
        .credit(1_000_000)
        .create(app)
        .await;
    let mut leads = Vec::new();
    for n in 0..4 {
        leads.push(LeadBuilder::new(n).post(app, &agency.token).await);
    }
    let bought = PurchaseBuilder::of(&leads).post(app, &buyer.token).await;
    let (_, made) = app
        .post_json("/api/v1/standing-orders", &buyer.token, &order())
        .await;
    let order_id = made["id"].as_str().unwrap().to_string();
    let now = store::now();
    let times: Vec<chrono::NaiveDateTime> = [1, 7, 13, 19]
        .iter()
        .map(|h| now - TimeDelta::hours(*h))
        .collect();
    let mut total = 0;
    for (p, at) in bought["purchases"].as_array().unwrap().iter().zip(&times) {
        total += p["price_cents"].as_i64().unwrap();
        let id = p["id"].as_str().unwrap().to_string();
        app.with_conn(|c| {
            diesel::update(purchases::table.find(id))
                .set((
                    purchases::standing_order_id.eq(Some(&order_id)),
                    purchases::created_at.eq(*at),
                ))
                .execute(c)
                .unwrap()
        });
    }
    let mut counts = Vec::new();
    for zone in ["UTC", "Etc/GMT-12"] {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let today = now.and_utc().with_timezone(&tz).date_naive();
        let expected = times
            .iter()
            .filter(|t| t.and_utc().with_timezone(&tz).date_naive() == today)
            .count();
        app.with_conn(|c| {
            diesel::update(organisations::table.find(&buyer.id))
                .set(organisations::time_zone.eq(zone))
                .execute(c)
                .unwrap()
        });
        let (_, got) = app
            .get_json(&format!("/api/v1/standing-orders/{order_id}"), &buyer.token)
            .await;
        assert_eq!(got["today_count"], expected, "{zone}");
        assert_eq!(got["spent_cents"], total);
        assert_eq!(got["budget_left_cents"], 50000 - total);
        counts.push(expected);
    }
    assert_ne!(counts[0], counts[1], "the zone decides the day");
}

async fn a_buyer_creates_lists_edits_and_pauses_an_order_on_the_pages(app: &TestApp) {
    let (buyer, email) = BuyerBuilder::new("Acme Insurance")
        .create_with_login(app)
        .await;
    let currency = app.state.config().currency.clone();
    let b = app.browser();
    b.login(&email).await;
    let csrf = b.csrf("/standing-orders/new").await;
    let form = |name: &str, price: &str| {
        vec![
            ("csrf_token".to_string(), csrf.clone()),
            ("name".into(), name.to_string()),
            ("max_price".into(), price.to_string()),
            ("daily_cap".into(), "15".into()),
            ("budget".into(), "1,000.50".into()),
            ("deliver_email".into(), "crm@acme.example.com".into()),
            ("callback_url".into(), String::new()),
            ("active_hours".into(), String::new()),
            ("segment".into(), "travel".into()),
            ("country".into(), "de".into()),
            ("income_min".into(), "30,000".into()),
            ("warmth".into(), "hot".into()),
        ]
    };
    let as_refs = |f: &Vec<(String, String)>| -> Vec<(String, String)> { f.clone() };

    // A refused amount keeps what was typed, with the problem beside its field.
    let bad = as_refs(&form("Travel in Germany", "12,5"));
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post_form("/standing-orders", &pairs).await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("value=\"12,5\""), "typed value kept");
    assert!(
        html.contains("id=\"max_price-error\""),
        "error beside the field"
    );
    assert!(html.contains("value=\"Travel in Germany\""));

    let good = form("Travel in Germany", "12.50");
    let pairs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post_form("/standing-orders", &pairs).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let order = app
        .with_conn(|c| store::standing_orders::list_for_buyer(c, &buyer.id))
        .unwrap()
        .remove(0);
    assert_eq!(order.max_price_cents, 1250, "euros typed, cents stored");
    assert_eq!(order.budget_cents, Some(100_050));
    assert_eq!(order.country.as_deref(), Some("DE"));
    assert_eq!(order.segment.as_deref(), Some("travel"));
    assert!(
        order.filter_query.contains("income_min_cents=3000000"),
        "{}",
        order.filter_query
    );
    assert!(
        html.contains(&order.secret),
        "the secret is shown once, after create"
    );
    let (status, again) = b.get_text(&format!("/standing-orders/{}", order.id)).await;
    assert_eq!(status, 200);
    assert!(!again.contains(&order.secret), "and never again");

    let (status, list) = b.get_text("/standing-orders").await;
    assert_eq!(status, 200);
    assert!(list.contains("Travel in Germany"));
    assert!(list.contains(&format!("12.50 {currency}")), "{list}");
    assert!(list.contains("0 / 15"));
    assert!(list.contains("class=\"table-wrap\""));

    let (status, edit) = b
        .get_text(&format!("/standing-orders/{}/edit", order.id))
        .await;
    assert_eq!(status, 200);
    assert!(edit.contains("value=\"12.50\"") && edit.contains("value=\"30000.00\""));
    let changed = form("Travel, hot only", "9.99");
    let pairs: Vec<(&str, &str)> = changed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let resp = b
        .post_form(&format!("/standing-orders/{}", order.id), &pairs)
        .await;
    assert_eq!(resp.status(), 303);
    let row = app
        .with_conn(|c| store::standing_orders::find(c, &order.id))
        .unwrap();
    assert_eq!(
        (row.name.as_str(), row.max_price_cents),
        ("Travel, hot only", 999)
    );

    let resp = b
        .post_form(
            &format!("/standing-orders/{}/pause", order.id),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let (_, list) = b.get_text("/standing-orders").await;
    assert!(list.contains("paused"), "{list}");
    assert!(
        !app.with_conn(|c| store::standing_orders::find(c, &order.id))
            .unwrap()
            .active
    );

    // Another buyer's order page is not found.
    let (_, other_email) = BuyerBuilder::new("Other Buyer")
        .create_with_login(app)
        .await;
    let other = app.browser();
    other.login(&other_email).await;
    let (status, _) = other
        .get_text(&format!("/standing-orders/{}", order.id))
        .await;
    assert_eq!(status, 404);
}

async fn the_time_zone_is_saved_and_a_bad_one_is_refused_beside_the_field(app: &TestApp) {
    let (buyer, email) = BuyerBuilder::new("Acme Insurance")
        .create_with_login(app)
        .await;
    let b = app.browser();
    b.login(&email).await;
    let csrf = b.csrf("/settings/organisation").await;
    let (_, page) = b.get_text("/settings/organisation").await;
    assert!(page.contains("value=\"UTC\""), "UTC by default");
    let resp = b
        .post_form(
            "/settings/time-zone",
            &[("csrf_token", csrf.as_str()), ("time_zone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"time_zone-error\""), "beside the field");
    assert!(html.contains("value=\"Mars/Olympus\""), "as typed");
    let zone = |app: &TestApp| {
        app.with_conn(|c| store::organisations::time_zone(c, &buyer.id))
            .unwrap()
    };
    assert_eq!(zone(app), "UTC");
    let resp = b
        .post_form(
            "/settings/time-zone",
            &[
                ("csrf_token", csrf.as_str()),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(zone(app), "Europe/Berlin");
    let (_, page) = b.get_text("/settings/organisation").await;
    assert!(page.contains("value=\"Europe/Berlin\""));
}
