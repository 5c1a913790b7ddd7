//! A crowd buying by one shared filter: every buyer gets leads while any match, none is
//! sold past its `max_sales` or twice to one buyer, and the ledger balances.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use leadmarket::db::schema::{leads, purchases};
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder};
use crate::helpers::{TestApp, assert_ledger_balanced};
use crate::on_both_backends;

on_both_backends!(
    sixteen_buyers_of_one_filter_are_never_refused_while_leads_match,
    a_filter_purchase_fills_what_it_can_then_finds_nothing,
);

/// Buys by `filter` until refused; returns each answer's status and body.
async fn buy_until_refused(
    app: &TestApp,
    token: &str,
    filter: &Value,
    quantity: i64,
) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    loop {
        let resp = app
            .post_as(token, "/api/v1/purchases")
            .json(&json!({"filter": filter, "quantity": quantity, "max_price_cents": 5000}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        answers.push((status, body));
        if status != 201 {
            return answers;
        }
    }
}

async fn sixteen_buyers_of_one_filter_are_never_refused_while_leads_match(app: &TestApp) {
    let second = app.second_instance().await;
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    // Exclusive and shared leads in the filter (all under the price cap, exclusive ones
    // dearer), and some it leaves out.
    let mut matching = Vec::new();
    for n in 0..60 {
        let lead = LeadBuilder::new(n)
            .segment(if n % 10 == 9 { "finance" } else { "travel" })
            .max_sales([1, 2, 3][n % 3]);
        let id = lead.post(app, &token).await;
        if n % 10 != 9 {
            matching.push(id);
        }
    }
    let mut buyers = Vec::new();
    for n in 0..16 {
        buyers.push(
            BuyerBuilder::new(&format!("Buyer {n}"))
                .credit(10_000_000)
                .create(app)
                .await,
        );
    }
    let filter = json!({"segment": "travel"});
    let answers = futures_util::future::join_all(buyers.iter().enumerate().map(
        |(n, Buyer { token, .. })| {
            let instance = if n % 2 == 0 { app } else { &second };
            let quantity = if n < 8 { 1 } else { 10 };
            let filter = &filter;
            async move { buy_until_refused(instance, token, filter, quantity).await }
        },
    ))
    .await;
    let mut filled_total = 0;
    for (n, answers) in answers.iter().enumerate() {
        let quantity = if n < 8 { 1 } else { 10 };
        let (last_status, last) = answers.last().unwrap();
        assert_eq!(*last_status, 409, "buyer {n}: {last}");
        assert_eq!(last["error"]["code"], "nothing_available", "{last}");
        for (_, body) in &answers[..answers.len() - 1] {
            let filled = body["purchases"].as_array().unwrap().len() as i64;
            assert_eq!(body["requested"], quantity, "{body}");
            assert_eq!(body["filled"], filled, "{body}");
            assert!((1..=quantity).contains(&filled), "{body}");
            filled_total += filled;
        }
    }

    app.with_conn(|conn| {
        let counts: Vec<(String, i32, i32)> = leads::table
            .select((leads::id, leads::sales_count, leads::max_sales))
            .load(conn)
            .unwrap();
        let sold: Vec<(String, String)> = purchases::table
            .select((purchases::lead_id, purchases::buyer_id))
            .load(conn)
            .unwrap();
        let mut per_lead: HashMap<&str, i32> = HashMap::new();
        for (lead, _) in &sold {
            *per_lead.entry(lead.as_str()).or_default() += 1;
        }
        let mut available = 0;
        for (id, sales, max) in &counts {
            assert_eq!(per_lead.get(id.as_str()).copied().unwrap_or(0), *sales);
            if matching.contains(id) {
                // Refused only once nothing matched: every matching lead sold out.
                assert_eq!(
                    sales, max,
                    "lead {id} left unsold while buyers were refused"
                );
                available += max;
            } else {
                assert_eq!(*sales, 0, "lead {id} is outside the filter");
            }
        }
        assert_eq!(sold.len() as i64, filled_total);
        // 16 buyers asked for more than there was: they got every sale there was.
        assert_eq!(filled_total, available as i64);
        assert_eq!(
            sold.iter().collect::<HashSet<_>>().len(),
            sold.len(),
            "no buyer holds a lead twice"
        );
    });
    assert_ledger_balanced(app);
    second.finish().await;
}

async fn a_filter_purchase_fills_what_it_can_then_finds_nothing(app: &TestApp) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    for n in 0..3 {
        LeadBuilder::new(n).post(app, &token).await;
    }
    let Buyer { token: buyer, .. } = BuyerBuilder::new("Keystone")
        .credit(100_000)
        .create(app)
        .await;
    let body = json!({"filter": {"segment": "travel"}, "quantity": 10, "max_price_cents": 1000});
    let resp = app
        .post_as(&buyer, "/api/v1/purchases")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "fewer than asked is still a purchase");
    let bought: Value = resp.json().await.unwrap();
    assert_eq!(bought["requested"], 10);
    assert_eq!(bought["filled"], 3);
    assert_eq!(bought["purchases"].as_array().unwrap().len(), 3);
    assert_eq!(bought["total_cents"], 3000);
    let resp = app
        .post_as(&buyer, "/api/v1/purchases")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let refused: Value = resp.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "nothing_available", "{refused}");
    assert_ledger_balanced(app);
}
