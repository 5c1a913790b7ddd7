//! A suppression takes the person's open leads off sale at once, across batches and
//! agencies, and every purchase checks the list inside its own transaction.

use diesel::prelude::*;
use leadmarket::db::schema::leads;
use leadmarket::domain::intake::SuppressionKind;
use leadmarket::domain::market::OrderStatus;
use leadmarket::domain::{Role, dedup};
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder};
use crate::helpers::{TestApp, csrf_from, recent_rfc3339};
use crate::on_both_backends;

// No dedup window: the same person may be listed by two agencies, as they are in life.
on_both_backends!(with [("DEDUP_DAYS", "0")] =>
    a_suppression_withdraws_the_persons_listed_leads_across_agencies,
    a_purchase_by_id_by_filter_or_for_an_order_refuses_a_suppressed_person,
);

async fn buy(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let resp = app
        .post_as(token, "/api/v1/purchases")
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn status_of(app: &TestApp, id: &str) -> String {
    app.with_conn(|c| {
        leads::table
            .find(id)
            .select(leads::status)
            .first::<String>(c)
            .unwrap()
    })
}

async fn a_suppression_withdraws_the_persons_listed_leads_across_agencies(app: &TestApp) {
    let (acme, _) = app.member(Role::Agency, "Acme Leads");
    let (bolt, _) = app.member(Role::Agency, "Bolt Leads");
    let acme_token = app.token(&app.api_key(&acme)).await;
    let bolt_token = app.token(&app.api_key(&bolt)).await;
    // The same person at two agencies (by email, then by phone), and someone else.
    let at_acme = LeadBuilder::new(1)
        .email("Jo.Doe@Example.com")
        .post(app, &acme_token)
        .await;
    let at_bolt = LeadBuilder::new(2)
        .email("jo.doe@example.com")
        .phone("+447911190001")
        .post(app, &bolt_token)
        .await;
    let by_phone = LeadBuilder::new(3)
        .phone("+447911190002")
        .post(app, &bolt_token)
        .await;
    let other = LeadBuilder::new(4).post(app, &acme_token).await;

    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;
    let (_, html) = admin.get_text("/admin/suppressions").await;
    let token = csrf_from(&html).unwrap();
    let resp = admin
        .post_form(
            "/admin/suppressions",
            &[
                ("csrf_token", token.as_str()),
                ("entries", "jo.doe@example.com\n+44 7911 190002"),
                ("reason", "opt_out"),
                ("default_country", ""),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("3 open leads of these people withdrawn"),
        "the page says how many leads it withdrew: {page}"
    );
    for id in [&at_acme, &at_bolt, &by_phone] {
        assert_eq!(status_of(app, id), "withdrawn");
    }
    assert_eq!(status_of(app, &other), "available");

    let Buyer { token: buyer, .. } = BuyerBuilder::new("Keystone")
        .credit(100_000)
        .create(app)
        .await;
    let (_, page) = app.get_json("/api/v1/catalogue", &buyer).await;
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![other.as_str()],
        "only the other person is listed"
    );
    let (status, body) = buy(app, &buyer, json!({"lead_ids": [at_acme]})).await;
    assert_eq!(status, 409, "{body}");

    // The API withdraws too, and says so.
    let resp = app.post_as(app.token(&app.api_key(&app.org(leadmarket::domain::OrgKind::Platform, "Ops"))).await, "/api/v1/suppressions")
        .json(&json!({"emails": [format!("ann4@example.com")], "phones": [], "reason": "do_not_call"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["withdrawn"], 1, "{body}");
    assert_eq!(status_of(app, &other), "withdrawn");
}

/// The list entry is written straight to the table, as a suppression committed while
/// these leads were being stored would leave them: still listed, yet never sold.
async fn a_purchase_by_id_by_filter_or_for_an_order_refuses_a_suppressed_person(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let listed = LeadBuilder::new(1).post(app, &token).await;
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        // No credit: the targeted lead stays unsold at intake (its order's buyer cannot
        // pay), so the buy below is the one the suppression must refuse.
        .credit(0)
        .create(app)
        .await;

    // A targeted lead for this buyer's order.
    let order = store::orders::OrderRow {
        id: uuid::Uuid::new_v4().to_string(),
        buyer_id: buyer_id.clone(),
        name: "Loans".into(),
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
    let resp = app
        .post_as(&token, "/api/v1/batches")
        .json(&json!({
            "batch": {"kind": "targeted", "order_id": order.id, "segment": "finance.loans",
                      "channel": "sms", "price_cents": 900, "consent_text": "ok"},
            "leads": [{"first_name": "Kim", "phone": "+447911123457", "age": 41, "country": "GB",
                       "warmth": "hot", "contact_type": "quick",
                       "consent_at": recent_rfc3339(5), "captured_at": recent_rfc3339(4)}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let batch_id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.wait_for_batch(&token, &batch_id).await["accepted"], 1);
    let targeted: String = app.with_conn(|c| {
        leads::table
            .filter(leads::batch_id.eq(&batch_id))
            .select(leads::id)
            .first(c)
            .unwrap()
    });

    app.with_conn(|c| {
        store::intake::add_suppressions(
            c,
            &[
                (dedup::email_key("ann1@example.com"), SuppressionKind::Email),
                (dedup::phone_key("+447911123457"), SuppressionKind::Phone),
            ],
            "opt_out",
            "test",
        )
    })
    .unwrap();

    let (status, body) = buy(app, &buyer, json!({"lead_ids": [listed]})).await;
    assert_eq!(status, 409, "by id: {body}");
    assert!(
        body["error"]["details"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("asked not to be contacted"),
        "{body}"
    );
    let (status, body) = buy(
        app,
        &buyer,
        json!({"filter": {"segment": "travel"}, "quantity": 1, "max_price_cents": 5000}),
    )
    .await;
    assert_eq!(status, 409, "by filter: {body}");
    let (status, body) = buy(app, &buyer, json!({"lead_ids": [targeted]})).await;
    assert_eq!(status, 409, "for the order: {body}");
    let sold: i64 = app.with_conn(|c| {
        leads::table
            .filter(leads::sales_count.gt(0))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(sold, 0, "nothing was sold");
    let (_, account) = app.get_json("/api/v1/account", &buyer).await;
    assert_eq!(account["owed_cents"], 0);
}
