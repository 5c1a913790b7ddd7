//! A buyer's flaky integration: concurrent retries with one `Idempotency-Key` run the work
//! once, and "count, then insert" rules hold under concurrent requests.

use diesel::prelude::*;
use futures_util::future::join_all;
use leadmarket::db::schema::{actions, batches, buyer_accounts, disputes, purchases};
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    ten_concurrent_purchases_with_one_key_charge_once,
    ten_concurrent_batches_with_one_key_create_one,
    a_key_reused_with_another_body_is_refused_and_a_failed_request_frees_it,
    concurrent_disputes_never_pass_the_return_cap,
);

// One purchase, one return: over the default cap of 20%.
on_both_backends!(with [("RETURN_CAP_BP", "10000")] =>
    concurrent_actions_and_disputes_with_one_key_record_once,
);

/// Sends `body` to `path` `n` times at once with one key; returns (status, body) each.
async fn at_once(
    app: &TestApp,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
    n: usize,
) -> Vec<(u16, Value)> {
    let sends = (0..n).map(|_| async {
        let resp = app
            .post_as(token, path)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    });
    join_all(sends).await
}

/// Every answer is the first one, or a 409 asking to retry while it ran.
fn one_answer(answers: &[(u16, Value)], expected: u16) -> Value {
    let done: Vec<&(u16, Value)> = answers
        .iter()
        .filter(|(s, b)| !(*s == 409 && b["error"]["code"] == "request_in_progress"))
        .collect();
    assert!(!done.is_empty(), "someone got the answer: {answers:?}");
    for (status, body) in &done {
        assert_eq!(*status, expected, "{body}");
        assert_eq!(body, &done[0].1, "every retry gets the first answer");
    }
    done[0].1.clone()
}

fn owed(app: &TestApp, buyer_id: &str) -> i64 {
    app.with_conn(|c| {
        buyer_accounts::table
            .find(buyer_id)
            .select(buyer_accounts::owed_cents)
            .first(c)
            .unwrap()
    })
}

async fn ten_concurrent_purchases_with_one_key_charge_once(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(1).post(app, &token).await;
    for n in 2..6 {
        LeadBuilder::new(n).post(app, &token).await;
    }
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;

    let answers = at_once(
        app,
        &buyer,
        "/api/v1/purchases",
        "buy-1",
        &json!({"lead_ids": [lead]}),
        10,
    )
    .await;
    let first = one_answer(&answers, 201);
    assert_eq!(first["purchases"].as_array().unwrap().len(), 1);
    let by_filter =
        json!({"filter": {"segment": "travel"}, "quantity": 2, "max_price_cents": 5000});
    let answers = at_once(app, &buyer, "/api/v1/purchases", "buy-2", &by_filter, 10).await;
    let second = one_answer(&answers, 201);
    assert_eq!(second["purchases"].as_array().unwrap().len(), 2);

    let bought: i64 = app.with_conn(|c| {
        purchases::table
            .filter(purchases::buyer_id.eq(&buyer_id))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(bought, 3, "one purchase per key, not one per retry");
    let total = first["total_cents"].as_i64().unwrap() + second["total_cents"].as_i64().unwrap();
    assert_eq!(
        owed(app, &buyer_id),
        total,
        "the buyer owes for three leads only"
    );
}

async fn ten_concurrent_batches_with_one_key_create_one(app: &TestApp) {
    let Agency {
        org: agency, token, ..
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let body = json!({
        "batch": {"segment": "travel", "channel": "web_form", "price_cents": 1000, "consent_text": "ok"},
        "leads": [{"first_name": "Ann", "phone": "+447911123456", "age": 34, "country": "GB",
                   "warmth": "hot", "contact_type": "quick",
                   "consent_at": crate::helpers::recent_rfc3339(5), "captured_at": crate::helpers::recent_rfc3339(4)}]
    });
    let answers = at_once(app, &token, "/api/v1/batches", "upload-1", &body, 10).await;
    let first = one_answer(&answers, 202);
    let made: Vec<String> = app.with_conn(|c| {
        batches::table
            .filter(batches::agency_id.eq(&agency.id))
            .select(batches::id)
            .load(c)
            .unwrap()
    });
    assert_eq!(made, vec![first["id"].as_str().unwrap().to_string()]);
}

async fn concurrent_actions_and_disputes_with_one_key_record_once(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = LeadBuilder::new(1).per_action(4000).post(app, &token).await;
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of([&lead]).post(app, &buyer).await;
    let before = owed(app, &buyer_id);

    let action = json!({"lead_id": lead, "kind": "call"});
    let answers = at_once(app, &buyer, "/api/v1/actions", "call-1", &action, 10).await;
    assert!(
        answers.iter().all(|(s, _)| *s == 201 || *s == 200),
        "{answers:?}"
    );
    let recorded: i64 = app.with_conn(|c| actions::table.count().get_result(c).unwrap());
    assert_eq!(recorded, 1);
    assert_eq!(
        owed(app, &buyer_id),
        before + 4000,
        "the call is charged once"
    );

    let dispute = json!({"lead_id": lead, "reason": "prank", "comment": "a friend's name"});
    let answers = at_once(app, &buyer, "/api/v1/disputes", "dispute-1", &dispute, 10).await;
    let first = one_answer(&answers, 201);
    let opened: Vec<String> =
        app.with_conn(|c| disputes::table.select(disputes::id).load(c).unwrap());
    assert_eq!(opened, vec![first["id"].as_str().unwrap().to_string()]);
}

async fn a_key_reused_with_another_body_is_refused_and_a_failed_request_frees_it(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let a = LeadBuilder::new(1).post(app, &token).await;
    let b = LeadBuilder::new(2).post(app, &token).await;
    let Buyer { token: buyer, .. } = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;
    let answers = at_once(
        app,
        &buyer,
        "/api/v1/purchases",
        "k",
        &json!({"lead_ids": [a]}),
        1,
    )
    .await;
    assert_eq!(answers[0].0, 201);
    let answers = at_once(
        app,
        &buyer,
        "/api/v1/purchases",
        "k",
        &json!({"lead_ids": [b]}),
        1,
    )
    .await;
    assert_eq!(answers[0].0, 422, "{:?}", answers[0].1);
    assert_eq!(
        answers[0].1["error"]["details"][0]["field"],
        "Idempotency-Key"
    );
    // A refusal is an answer too: the same request with the same key gets it again.
    let Buyer { token: poor, .. } = BuyerBuilder::new("Poor Buyer").create(app).await;
    let answers = at_once(
        app,
        &poor,
        "/api/v1/purchases",
        "k",
        &json!({"lead_ids": [b]}),
        2,
    )
    .await;
    assert_eq!(answers[0].0, 402, "keys are per organisation");
    assert_eq!(answers[0], answers[1]);
}

async fn concurrent_disputes_never_pass_the_return_cap(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(LeadBuilder::new(n).post(app, &token).await);
    }
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(100_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of(&ids).post(app, &buyer).await;
    // 20% of 10 purchases: two returns. Eight at once, each on its own lead.
    let sends = ids.iter().take(8).map(|id| {
        app.post_as(&buyer, "/api/v1/disputes")
            .json(&json!({"lead_id": id, "reason": "prank"}))
            .send()
    });
    let statuses: Vec<u16> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 422),
        "{statuses:?}"
    );
    let opened: i64 = app.with_conn(|c| {
        disputes::table
            .filter(disputes::buyer_id.eq(&buyer_id))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(opened, 2);
}
