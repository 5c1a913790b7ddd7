//! Allocation (issue 20): accepted leads are bought at once by matching standing orders,
//! highest ceiling first and ties in turn, within cap, budget, hours and credit, never
//! past `max_sales` and never twice to one buyer. Orders are inserted directly
//! (`StandingOrderBuilder`); leads come through the API. Tests that need a chosen clock
//! call the service on a connection of the app.

use std::collections::HashSet;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use leadmarket::db::schema::{deliveries, leads, organisations, purchases, standing_orders};
use leadmarket::services::standing_orders::allocate::allocate;
use leadmarket::store::organisations::OrganisationRow;
use serde_json::{Value, json};

use crate::builders::{AgencyBuilder, BuyerBuilder, LeadBuilder, StandingOrderBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

const BP: i64 = 2000;

/// A buyer organisation with a generous credit limit and a token.
async fn buyer(app: &TestApp, name: &str) -> (OrganisationRow, String) {
    let b = BuyerBuilder::new(name).credit(10_000_000).create(app).await;
    let org = app.with_conn(|c| leadmarket::store::organisations::find(c, &b.id).unwrap());
    (org, b.token)
}

/// Posts a lead; returns the whole 201 answer.
async fn post_lead(app: &TestApp, token: &str, lead: LeadBuilder) -> Value {
    let (status, body) = app.post_json("/api/v1/leads", token, &lead.json()).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// `(buyer_id, price_cents, standing_order_id)` of each purchase of a lead.
fn purchases_of(app: &TestApp, lead_id: &str) -> Vec<(String, i64, Option<String>)> {
    app.with_conn(|c| {
        purchases::table
            .filter(purchases::lead_id.eq(lead_id))
            .select((
                purchases::buyer_id,
                purchases::price_cents,
                purchases::standing_order_id,
            ))
            .load(c)
            .unwrap()
    })
}

fn order_counters(app: &TestApp, order_id: &str) -> (i64, i32, Option<String>) {
    app.with_conn(|c| {
        standing_orders::table
            .find(order_id)
            .select((
                standing_orders::spent_cents,
                standing_orders::today_count,
                standing_orders::cap_day,
            ))
            .first(c)
            .unwrap()
    })
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn allocate_at(app: &TestApp, lead_id: &str, now: NaiveDateTime) -> usize {
    app.with_conn(|c| allocate(c, BP, &[lead_id.to_string()], now).unwrap())
        .get(lead_id)
        .copied()
        .unwrap_or(0)
}

fn exclusive(n: usize) -> LeadBuilder {
    LeadBuilder::new(n).max_sales(1)
}

async fn the_highest_ceiling_buys_first_and_pays_the_leads_price(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (low, _) = buyer(app, "Low Bidder").await;
    let (high, _) = buyer(app, "High Bidder").await;
    let low_order = StandingOrderBuilder::new(&low)
        .max_price_cents(50_000)
        .insert(app);
    let high_order = StandingOrderBuilder::new(&high)
        .filter("segment=travel&country=DE")
        .max_price_cents(90_000)
        .insert(app);
    let answer = post_lead(app, &agency.token, exclusive(1)).await;
    assert_eq!(answer["sold_to_orders"], 1, "{answer}");
    let lead_id = answer["id"].as_str().unwrap();
    let price = answer["price_cents"].as_i64().unwrap();
    assert!(price < 90_000, "the ceiling is not the price");
    assert_eq!(
        purchases_of(app, lead_id),
        vec![(high.id.clone(), price, Some(high_order.id.clone()))]
    );
    assert_eq!(order_counters(app, &high_order.id).0, price);
    assert_eq!(order_counters(app, &low_order.id).0, 0);
    // A replay of the same request answers what the first one did.
    let body = exclusive(2).json();
    let first = app
        .post_as(&agency.token, "/api/v1/leads")
        .header("Idempotency-Key", "lead-2")
        .json(&body)
        .send()
        .await
        .unwrap();
    let first: Value = first.json().await.unwrap();
    let again: Value = app
        .post_as(&agency.token, "/api/v1/leads")
        .header("Idempotency-Key", "lead-2")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["sold_to_orders"], 1);
    assert_eq!(again, first);
    crate::helpers::assert_ledger_balanced(app);
}

async fn ties_on_the_ceiling_go_round_robin_over_three_orders(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut orders = Vec::new();
    for name in ["First", "Second", "Third"] {
        let (org, _) = buyer(app, name).await;
        orders.push(
            StandingOrderBuilder::new(&org)
                .max_price_cents(70_000)
                .insert(app)
                .id,
        );
    }
    let mut winners = Vec::new();
    for n in 0..6 {
        let answer = post_lead(app, &agency.token, exclusive(n)).await;
        assert_eq!(answer["sold_to_orders"], 1);
        let bought = purchases_of(app, answer["id"].as_str().unwrap());
        winners.push(bought[0].2.clone().unwrap());
    }
    // Never-served orders first (by id), then whoever was served longest ago.
    let expected: Vec<String> = orders.iter().chain(&orders).cloned().collect();
    assert_eq!(winners, expected);
}

async fn the_daily_cap_holds_at_its_edge_and_resets_at_the_buyers_midnight(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            post_lead(app, &agency.token, LeadBuilder::new(n)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let (berlin, _) = buyer(app, "Berlin Buyer").await;
    let (utc, _) = buyer(app, "UTC Buyer").await;
    app.with_conn(|c| {
        diesel::update(organisations::table.find(&berlin.id))
            .set(organisations::time_zone.eq("Europe/Berlin"))
            .execute(c)
            .unwrap()
    });
    let b = StandingOrderBuilder::new(&berlin).daily_cap(2).insert(app);
    let u = StandingOrderBuilder::new(&utc).daily_cap(2).insert(app);
    // 22:30 UTC is 23:30 in Berlin, the same day in both zones.
    let evening = at("2026-12-03 22:30");
    assert_eq!(allocate_at(app, &ids[0], evening), 2);
    assert_eq!(allocate_at(app, &ids[1], evening), 2);
    assert_eq!(
        allocate_at(app, &ids[2], evening),
        0,
        "both caps are reached"
    );
    assert_eq!(order_counters(app, &b.id).1, 2);
    // 23:05 UTC is 00:05 the next day in Berlin: its count starts again; UTC's does not.
    let past_berlin_midnight = at("2026-12-03 23:05");
    assert_eq!(allocate_at(app, &ids[2], past_berlin_midnight), 1);
    let bought = purchases_of(app, &ids[2]);
    assert_eq!(bought.len(), 1);
    assert_eq!(bought[0].0, berlin.id);
    let (_, count, day) = order_counters(app, &b.id);
    assert_eq!((count, day.as_deref()), (1, Some("2026-12-04")));
    assert_eq!(order_counters(app, &u.id).2.as_deref(), Some("2026-12-03"));
    // UTC's midnight comes an hour later.
    assert_eq!(allocate_at(app, &ids[3], at("2026-12-04 00:01")), 2);
}

async fn the_budget_holds_to_the_cent_and_a_lead_past_it_goes_to_the_next_order(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    // Leads of one batch cost the same today: the first (no order yet) names the price.
    let price = post_lead(app, &agency.token, exclusive(0)).await["price_cents"]
        .as_i64()
        .unwrap();
    let (a, _) = buyer(app, "Budgeted").await;
    let (b, _) = buyer(app, "Fallback").await;
    let budgeted = StandingOrderBuilder::new(&a)
        .max_price_cents(90_000)
        .budget_cents(2 * price)
        .insert(app);
    let fallback = StandingOrderBuilder::new(&b)
        .max_price_cents(50_000)
        .insert(app);
    let mut takers = Vec::new();
    for n in 1..=3 {
        let answer = post_lead(app, &agency.token, exclusive(n)).await;
        assert_eq!(answer["price_cents"].as_i64(), Some(price));
        takers.push(
            purchases_of(app, answer["id"].as_str().unwrap())[0]
                .2
                .clone()
                .unwrap(),
        );
    }
    assert_eq!(
        takers,
        vec![
            budgeted.id.clone(),
            budgeted.id.clone(),
            fallback.id.clone()
        ]
    );
    assert_eq!(order_counters(app, &budgeted.id).0, 2 * price);
}

async fn an_order_buys_only_within_its_active_hours(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let lead = post_lead(app, &agency.token, LeadBuilder::new(1)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (org, _) = buyer(app, "Office Hours").await;
    StandingOrderBuilder::new(&org)
        .active_minutes(8 * 60, 18 * 60)
        .insert(app);
    assert_eq!(allocate_at(app, &lead, at("2026-12-03 07:59")), 0);
    assert_eq!(allocate_at(app, &lead, at("2026-12-03 18:00")), 0);
    assert_eq!(allocate_at(app, &lead, at("2026-12-03 08:00")), 1);
}

async fn a_buyer_with_two_orders_gets_a_lead_once(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Two Orders").await;
    let (b, _) = buyer(app, "One Order").await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(90_000)
        .insert(app);
    StandingOrderBuilder::new(&a)
        .max_price_cents(80_000)
        .insert(app);
    StandingOrderBuilder::new(&b)
        .max_price_cents(10_000)
        .insert(app);
    let answer = post_lead(app, &agency.token, LeadBuilder::new(1).max_sales(3)).await;
    assert_eq!(answer["sold_to_orders"], 2, "{answer}");
    let buyers: HashSet<String> = purchases_of(app, answer["id"].as_str().unwrap())
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(buyers, HashSet::from([a.id.clone(), b.id.clone()]));
    // Offered again, a lead is not sold to buyers who hold it.
    let id = answer["id"].as_str().unwrap().to_string();
    assert_eq!(
        allocate_at(app, &id, at("2026-12-03 12:00")),
        0,
        "both bought it already"
    );
}

async fn a_buyer_at_its_credit_limit_is_passed_over(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let broke = BuyerBuilder::new("No Credit").create(app).await;
    let broke = app.with_conn(|c| leadmarket::store::organisations::find(c, &broke.id).unwrap());
    let (rich, _) = buyer(app, "Credit").await;
    let skipped = StandingOrderBuilder::new(&broke)
        .max_price_cents(90_000)
        .insert(app);
    let taker = StandingOrderBuilder::new(&rich)
        .max_price_cents(10_000)
        .insert(app);
    let answer = post_lead(app, &agency.token, exclusive(1)).await;
    assert_eq!(answer["sold_to_orders"], 1);
    let bought = purchases_of(app, answer["id"].as_str().unwrap());
    assert_eq!(bought[0].2.as_deref(), Some(taker.id.as_str()));
    // Its savepoint was rolled back: no spend, no count.
    assert_eq!(order_counters(app, &skipped.id), (0, 0, None));
    crate::helpers::assert_ledger_balanced(app);
}

async fn deliveries_are_written_per_channel(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Both Channels").await;
    let (b, _) = buyer(app, "Email Only").await;
    let (c, _) = buyer(app, "Neither").await;
    let both = StandingOrderBuilder::new(&a)
        .deliver_email("crm@example.com")
        .callback_url("https://crm.example.com/leads")
        .insert(app);
    let email = StandingOrderBuilder::new(&b)
        .deliver_email("b@example.com")
        .insert(app);
    let neither = StandingOrderBuilder::new(&c).insert(app);
    let answer = post_lead(app, &agency.token, LeadBuilder::new(1).max_sales(3)).await;
    assert_eq!(answer["sold_to_orders"], 3);
    let rows: Vec<(String, String, String)> = app.with_conn(|conn| {
        deliveries::table
            .select((
                deliveries::order_id,
                deliveries::channel,
                deliveries::status,
            ))
            .load(conn)
            .unwrap()
    });
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|(o, ch, st)| {
            // Written pending; the worker may already have tried it (the mail goes out
            // at once, the callback's host does not answer here).
            assert!(
                ["pending", "delivered", "failed"].contains(&st.as_str()),
                "{o} {ch}: {st}"
            );
            (o.clone(), ch.clone())
        })
        .collect();
    got.sort();
    let mut want = vec![
        (both.id.clone(), "callback".to_string()),
        (both.id.clone(), "email".to_string()),
        (email.id.clone(), "email".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(!rows.iter().any(|r| r.0 == neither.id));
}

async fn a_batch_uploads_leads_are_allocated(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (org, _) = buyer(app, "Batch Buyer").await;
    let order = StandingOrderBuilder::new(&org)
        .filter("segment=travel")
        .insert(app);
    let leads: Vec<Value> = (0..5)
        .map(|n| {
            let mut l = LeadBuilder::new(n).json();
            for k in [
                "price_cents",
                "consent_text",
                "max_sales",
                "segment",
                "channel",
            ] {
                l.as_object_mut().unwrap().remove(k);
            }
            l
        })
        .collect();
    let terms = json!({"segment": "travel", "channel": "web_form", "price_cents": 1000,
        "consent_text": "ok", "max_sales": 2});
    let resp = app
        .post_as(&agency.token, "/api/v1/batches")
        .json(&json!({"batch": terms, "leads": leads}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = app.wait_for_batch(&agency.token, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["accepted"], 5, "{done}");
    let bought: i64 = app.with_conn(|c| {
        purchases::table
            .filter(purchases::standing_order_id.eq(&order.id))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(bought, 5);
}

async fn orders_and_manual_buyers_racing_never_pass_max_sales_nor_sell_twice(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    for name in ["Order A", "Order B", "Order C"] {
        let (org, _) = buyer(app, name).await;
        StandingOrderBuilder::new(&org).insert(app);
    }
    let mut manual = Vec::new();
    for name in ["Hand A", "Hand B"] {
        manual.push(buyer(app, name).await.1);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for token in manual {
        let (client, url, stop) = (app.api(), app.url("/api/v1/purchases"), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"filter": {"segment": "travel"}, "quantity": 1, "max_price_cents": 100_000}))
                    .send()
                    .await;
            }
        }));
    }
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            post_lead(app, &agency.token, LeadBuilder::new(n).max_sales(2)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    for id in &ids {
        let bought = purchases_of(app, id);
        let buyers: HashSet<&String> = bought.iter().map(|p| &p.0).collect();
        assert_eq!(buyers.len(), bought.len(), "a buyer holds {id} twice");
        assert!(bought.len() <= 2, "{id} sold {} times", bought.len());
        let sales: i32 = app.with_conn(|c| {
            leads::table
                .find(id)
                .select(leads::sales_count)
                .first(c)
                .unwrap()
        });
        assert_eq!(sales as usize, bought.len());
    }
    crate::helpers::assert_ledger_balanced(app);
}

/// The matcher and the catalogue query agree on every lead for every filter.
async fn the_matcher_agrees_with_the_catalogue_query(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (_, token) = buyer(app, "Looker").await;
    let shapes: [(&str, &str, &str, usize, &str); 6] = [
        ("insurance.car", "FR", "hot", 25, "75008"),
        ("insurance", "FR", "warm", 45, "69001"),
        ("insurance.health", "DE", "cold", 60, "10115"),
        ("travel", "DE", "hot", 33, "80331"),
        ("finance.loans", "GB", "warm", 52, "SW1A 1AA"),
        ("travel", "GB", "cold", 70, "EC1A 1BB"),
    ];
    let mut ids = Vec::new();
    for (n, (segment, country, warmth, age, postal)) in shapes.iter().enumerate() {
        let lead = LeadBuilder::new(n)
            .segment(segment)
            .country(country)
            .warmth(warmth)
            .age(*age)
            .max_sales(if n % 2 == 0 { 1 } else { 3 })
            .set("postal_code", *postal)
            .set("annual_income", 20_000 + 10_000 * n as i64)
            .set("verified", if n % 3 == 0 { "true" } else { "false" });
        ids.push(
            post_lead(app, &agency.token, lead).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let now = leadmarket::store::now();
    let facts = app.with_conn(|c| leadmarket::store::allocation::leads(c, &ids).unwrap());
    let mut sizes = HashSet::new();
    for query in [
        "",
        "segment=insurance",
        "segment=insurance.car",
        "segment=travel&country=GB",
        "country=FR&postal_prefix=75",
        "postal_prefix=sw1",
        "age_min=40&age_max=60",
        "income_min_cents=4000000",
        "income_max_cents=3000000",
        "warmth=hot&warmth=cold",
        "verified=true",
        "exclusive=true",
        "exclusive=false&country=DE",
        "max_price_cents=1",
        "min_score=50",
        "max_age_days=1",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/catalogue?limit=500&{query}"), &token)
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        let listed: HashSet<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .filter(|id| ids.contains(id))
            .collect();
        let filter = leadmarket::domain::catalogue::parse(
            &leadmarket::domain::catalogue::RawFilter::from_query(query).unwrap(),
        )
        .unwrap()
        .filter;
        let tree = app.with_conn(|c| leadmarket::store::reference::segment_tree(c).unwrap());
        let matched: HashSet<String> = facts
            .iter()
            .filter(|l| filter.matches(&l.facts(), &tree, now))
            .map(|l| l.sale.id.clone())
            .collect();
        assert_eq!(matched, listed, "{query}");
        sizes.insert(listed.len());
    }
    // Not trivially equal: the filters list all, none and several in between.
    assert!(
        sizes.contains(&ids.len()) && sizes.contains(&0) && sizes.len() >= 4,
        "{sizes:?}"
    );
}

/// The order book (`services::standing_orders::book`) keeps the orders between
/// allocations; a change by anyone (here raw UPDATEs, as another process would make)
/// is seen by the very next lead.
async fn the_order_book_sees_every_change_to_an_order_or_its_buyer_at_the_next_lead(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (b, _) = buyer(app, "Book Buyer").await;
    let order = StandingOrderBuilder::new(&b).insert(app);
    let mut n = 0;
    let mut next_sold = async || {
        n += 1;
        post_lead(app, &agency.token, exclusive(n)).await["sold_to_orders"].clone()
    };
    assert_eq!(next_sold().await, 1, "the first lead reads the book");
    let update = |f: &dyn Fn(&mut leadmarket::db::AnyConnection) -> QueryResult<usize>| {
        assert_eq!(app.with_conn(|c| f(c)).unwrap(), 1);
    };
    let so = standing_orders::table.find(order.id.clone());
    // Its filter moved to another segment (the default lead is `travel`).
    update(&|c| {
        diesel::update(so.clone())
            .set((
                standing_orders::filter_query.eq("segment=insurance"),
                standing_orders::segment.eq(Some("insurance")),
            ))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "an edited filter");
    update(&|c| {
        diesel::update(so.clone())
            .set((
                standing_orders::filter_query.eq(""),
                standing_orders::segment.eq(None::<String>),
            ))
            .execute(c)
    });
    assert_eq!(next_sold().await, 1);
    update(&|c| {
        diesel::update(so.clone())
            .set(standing_orders::max_price_cents.eq(1))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "a ceiling under the price");
    update(&|c| {
        diesel::update(so.clone())
            .set((
                standing_orders::max_price_cents.eq(100_000),
                standing_orders::active.eq(false),
            ))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "a paused order");
    update(&|c| {
        diesel::update(so.clone())
            .set(standing_orders::active.eq(true))
            .execute(c)
    });
    assert_eq!(next_sold().await, 1);
    let buyer_row = organisations::table.find(b.id.clone());
    update(&|c| {
        diesel::update(buyer_row.clone())
            .set(organisations::status.eq(leadmarket::domain::OrgStatus::Suspended))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "a suspended buyer");
    update(&|c| {
        diesel::update(buyer_row.clone())
            .set(organisations::status.eq(leadmarket::domain::OrgStatus::Active))
            .execute(c)
    });
    assert_eq!(next_sold().await, 1);
    // Hours of 09:00-10:00 in the buyer's zone, which then moves so that now is in them.
    let now = leadmarket::store::now();
    let utc_minute = i32::try_from(now.time().num_seconds_from_midnight() / 60).unwrap();
    let from = (utc_minute + 180) % 1440;
    update(&|c| {
        diesel::update(so.clone())
            .set((
                standing_orders::active_from_minute.eq(Some(from)),
                standing_orders::active_to_minute.eq(Some((from + 60) % 1440)),
            ))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "outside its hours in UTC");
    update(&|c| {
        diesel::update(buyer_row.clone())
            .set(organisations::time_zone.eq("Etc/GMT-3"))
            .execute(c)
    });
    assert_eq!(next_sold().await, 1, "within them three hours east");
    update(&|c| {
        diesel::update(so.clone())
            .set(standing_orders::deleted_at.eq(Some(now)))
            .execute(c)
    });
    assert_eq!(next_sold().await, 0, "a deleted order");
}

on_both_backends!(
    the_highest_ceiling_buys_first_and_pays_the_leads_price,
    ties_on_the_ceiling_go_round_robin_over_three_orders,
    the_daily_cap_holds_at_its_edge_and_resets_at_the_buyers_midnight,
    the_budget_holds_to_the_cent_and_a_lead_past_it_goes_to_the_next_order,
    an_order_buys_only_within_its_active_hours,
    a_buyer_with_two_orders_gets_a_lead_once,
    a_buyer_at_its_credit_limit_is_passed_over,
    deliveries_are_written_per_channel,
    a_batch_uploads_leads_are_allocated,
    orders_and_manual_buyers_racing_never_pass_max_sales_nor_sell_twice,
    the_matcher_agrees_with_the_catalogue_query,
    the_order_book_sees_every_change_to_an_order_or_its_buyer_at_the_next_lead,
);
