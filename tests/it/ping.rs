//! Ping-post (issue 21): agencies ping a lead without its contact, the active standing
//! orders bid in a second-price auction, and the post against the offer sells the lead
//! to the winner alone at the quote. Orders are inserted directly
//! (`StandingOrderBuilder`); the clock of an offer is moved by rewriting its
//! `expires_at`, and the auction service is called at a chosen time where that matters.

use diesel::prelude::*;
use leadmarket::db::schema::{deliveries, leads, ping_bids, pings, purchases, standing_orders};
use leadmarket::domain::ping::parse_ping;
use leadmarket::services::ping::{PingAnswer, ping};
use leadmarket::store::organisations::OrganisationRow;
use serde_json::{Value, json};

use crate::builders::{AgencyBuilder, BuyerBuilder, LeadBuilder, StandingOrderBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    one_two_and_three_bidders_pay_the_reserve_or_the_second_bid,
    tied_bids_take_turns,
    open_offers_hold_the_cap_and_the_budget,
    a_ping_then_a_post_sells_the_lead_to_the_winner_alone_at_the_quote,
    a_used_ping_and_an_expired_ping_are_refused,
    a_post_that_changes_a_filtered_field_is_refused_and_not_kept,
    an_invalid_or_duplicate_post_is_refused_as_without_a_ping,
    no_contact_data_is_in_a_ping_answer_or_the_auction_log,
    pings_are_seen_only_by_their_agency_and_the_buyers_that_bid,
    a_buyer_who_bought_the_person_before_does_not_bid,
    an_open_offer_holds_the_cap_against_allocation_too,
    an_orders_held_counters_follow_its_offers_through_post_and_expiry,
    a_buyers_auction_log_pages_through_its_bids_across_time_windows,
);

async fn buyer(app: &TestApp, name: &str) -> (OrganisationRow, String) {
    let b = BuyerBuilder::new(name).credit(10_000_000).create(app).await;
    let org = app.with_conn(|c| leadmarket::store::organisations::find(c, &b.id).unwrap());
    (org, b.token)
}

/// The ping of a lead body: its filtered fields (never its contact) and a reserve.
fn ping_of(lead: &Value, reserve: i64) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "segment",
        "country",
        "region",
        "postal_code",
        "age",
        "annual_income",
        "warmth",
        "contact_type",
        "verified",
        "channel",
        "captured_at",
    ] {
        if let Some(v) = lead.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    out.insert("price_cents".into(), reserve.into());
    Value::Object(out)
}

async fn send_ping(app: &TestApp, token: &str, body: &Value) -> Value {
    let (status, answer) = app.post_json("/api/v1/ping", token, body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Posts the lead against the ping; returns the status and body.
async fn post_for(app: &TestApp, token: &str, lead: &Value, ping_id: &Value) -> (u16, Value) {
    let mut body = lead.clone();
    body["ping_id"] = ping_id.clone();
    app.post_json("/api/v1/leads", token, &body).await
}

fn winner_of(app: &TestApp, ping_id: &str) -> Option<String> {
    app.with_conn(|c| {
        pings::table
            .find(ping_id)
            .select(pings::winner_order_id)
            .first(c)
            .unwrap()
    })
}

async fn one_two_and_three_bidders_pay_the_reserve_or_the_second_bid(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    let (b, _) = buyer(app, "Bravo").await;
    let (c, _) = buyer(app, "Charlie").await;
    let lead = LeadBuilder::new(1).json();

    // No order: no offer.
    let none = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(none, json!({"ping_id": null, "reason": "no_offer"}));

    // One bidder pays the reserve.
    let oa = StandingOrderBuilder::new(&a)
        .max_price_cents(900)
        .insert(app);
    let one = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(one["price_cents"], 500, "{one}");
    assert!(one["expires_at"].is_string());
    assert_eq!(
        winner_of(app, one["ping_id"].as_str().unwrap()),
        Some(oa.id.clone())
    );

    // Two: the higher wins and pays the other's bid.
    let ob = StandingOrderBuilder::new(&b)
        .max_price_cents(1200)
        .insert(app);
    let two = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(two["price_cents"], 900, "{two}");
    assert_eq!(
        winner_of(app, two["ping_id"].as_str().unwrap()),
        Some(ob.id.clone())
    );

    // Three, one under the reserve: it loses and does not set the price.
    StandingOrderBuilder::new(&c)
        .max_price_cents(700)
        .insert(app);
    let three = send_ping(app, &agency.token, &ping_of(&lead, 800)).await;
    assert_eq!(three["price_cents"], 900, "{three}");
    let id = three["ping_id"].as_str().unwrap().to_string();
    let outcomes: Vec<(i64, String)> = app.with_conn(|conn| {
        ping_bids::table
            .filter(ping_bids::ping_id.eq(&id))
            .select((ping_bids::bid_cents, ping_bids::outcome))
            .order(ping_bids::bid_cents.desc())
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        outcomes,
        vec![
            (1200, "won".to_string()),
            (900, "lost".to_string()),
            (700, "under_reserve".to_string())
        ]
    );
    // All under the reserve: no offer.
    let high = send_ping(app, &agency.token, &ping_of(&lead, 5000)).await;
    assert_eq!(high["reason"], "no_offer");
}

async fn tied_bids_take_turns(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    let (b, _) = buyer(app, "Bravo").await;
    let oa = StandingOrderBuilder::new(&a)
        .max_price_cents(1000)
        .insert(app);
    let ob = StandingOrderBuilder::new(&b)
        .max_price_cents(1000)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let mut winners = Vec::new();
    for _ in 0..4 {
        let offer = send_ping(app, &agency.token, &ping_of(&lead, 100)).await;
        assert_eq!(
            offer["price_cents"], 1000,
            "a tie pays the tied bid: {offer}"
        );
        winners.push(winner_of(app, offer["ping_id"].as_str().unwrap()).unwrap());
    }
    assert_ne!(winners[0], winners[1], "{winners:?}");
    assert_eq!(winners[0], winners[2]);
    assert_eq!(winners[1], winners[3]);
    let both: std::collections::HashSet<_> = winners.into_iter().collect();
    assert_eq!(both, [oa.id, ob.id].into_iter().collect());
}

async fn open_offers_hold_the_cap_and_the_budget(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    let (b, _) = buyer(app, "Bravo").await;
    // Alpha may take one lead a day; Bravo has 1,500 to spend.
    let capped = StandingOrderBuilder::new(&a)
        .max_price_cents(2000)
        .daily_cap(1)
        .insert(app);
    let budgeted = StandingOrderBuilder::new(&b)
        .max_price_cents(1000)
        .budget_cents(1500)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let first = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    let first_id = first["ping_id"].as_str().unwrap().to_string();
    assert_eq!(winner_of(app, &first_id), Some(capped.id.clone()));
    assert_eq!(first["price_cents"], 1000);
    // Alpha's cap is held by the open offer: Bravo is alone and pays the reserve.
    let second = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(
        winner_of(app, second["ping_id"].as_str().unwrap()),
        Some(budgeted.id.clone())
    );
    assert_eq!(second["price_cents"], 500);
    // Bravo holds 500 of its 1,500: it bids what is left, 1,000, and wins alone.
    let third = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(
        winner_of(app, third["ping_id"].as_str().unwrap()),
        Some(budgeted.id.clone())
    );
    // It now holds 1,000: 500 left bids exactly the reserve.
    let fourth = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(fourth["price_cents"], 500, "{fourth}");
    let fifth = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(fifth["reason"], "no_offer", "budget fully held: {fifth}");

    // Once the offers expire they hold nothing: both bid again.
    app.with_conn(|c| {
        diesel::update(pings::table)
            .set(pings::expires_at.eq(Some(
                leadmarket::store::now() - chrono::TimeDelta::seconds(1),
            )))
            .execute(c)
            .unwrap()
    });
    let again = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(
        winner_of(app, again["ping_id"].as_str().unwrap()),
        Some(capped.id)
    );
    assert_eq!(again["price_cents"], 1000);

    // The service at a chosen clock: 61 s after an offer, it holds nothing.
    let agency_id = agency.org.id.clone();
    let answers = app.with_conn(|c| {
        let known = leadmarket::services::known::known(c).unwrap();
        let now = leadmarket::store::now();
        let map = ping_of(&lead, 500).as_object().unwrap().clone();
        let (segments, channels) = (&known.reference.segments, &known.reference.channels);
        let parsed = parse_ping(&map, segments, channels, now).unwrap();
        let held = ping(c, &known, &agency_id, &parsed, now).unwrap();
        let later = ping(
            c,
            &known,
            &agency_id,
            &parsed,
            now + chrono::TimeDelta::seconds(61),
        )
        .unwrap();
        (held, later)
    });
    assert!(
        matches!(
            answers.0,
            PingAnswer::Offer {
                price_cents: 500,
                ..
            }
        ),
        "{answers:?}"
    );
    assert!(
        matches!(
            answers.1,
            PingAnswer::Offer {
                price_cents: 1000,
                ..
            }
        ),
        "{answers:?}"
    );
}

async fn a_ping_then_a_post_sells_the_lead_to_the_winner_alone_at_the_quote(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    let (b, _) = buyer(app, "Bravo").await;
    let winner = StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .deliver_email("leads@alpha.example")
        .insert(app);
    StandingOrderBuilder::new(&b)
        .max_price_cents(1100)
        .insert(app);
    // The batch allows three sales: a post against a ping still goes to one buyer.
    let lead = LeadBuilder::new(7).max_sales(3).json();
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert_eq!(offer["price_cents"], 1100);
    let (status, body) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sold_to_orders"], 1);
    assert_eq!(body["price_cents"], 1100);
    let lead_id = body["id"].as_str().unwrap().to_string();
    let sales: Vec<(String, i64, Option<String>)> = app.with_conn(|c| {
        purchases::table
            .filter(purchases::lead_id.eq(&lead_id))
            .select((
                purchases::buyer_id,
                purchases::price_cents,
                purchases::standing_order_id,
            ))
            .load(c)
            .unwrap()
    });
    assert_eq!(sales, vec![(a.id.clone(), 1100, Some(winner.id.clone()))]);
    let (sold, max): (i32, i32) = app.with_conn(|c| {
        leads::table
            .find(&lead_id)
            .select((leads::sales_count, leads::max_sales))
            .first(c)
            .unwrap()
    });
    assert_eq!((sold, max), (1, 1), "exclusive to the winner");
    let queued: i64 = app.with_conn(|c| {
        deliveries::table
            .filter(deliveries::order_id.eq(&winner.id))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(queued, 1, "delivered through the order's outbox");
    let (status, ping) = app.with_conn(|c| {
        pings::table
            .find(offer["ping_id"].as_str().unwrap())
            .select((pings::status, pings::lead_id))
            .first::<(String, Option<String>)>(c)
            .unwrap()
    });
    assert_eq!((status.as_str(), ping), ("posted", Some(lead_id)));
    // The order's counters took the sale.
    let spent: i64 = app.with_conn(|c| {
        leadmarket::db::schema::standing_orders::table
            .find(&winner.id)
            .select(leadmarket::db::schema::standing_orders::spent_cents)
            .first(c)
            .unwrap()
    });
    assert_eq!(spent, 1100);
}

async fn a_used_ping_and_an_expired_ping_are_refused(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    let (status, _) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 201);
    let other = LeadBuilder::new(2).json();
    let (status, body) = post_for(app, &agency.token, &other, &offer["ping_id"]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "ping_used");

    let lead3 = LeadBuilder::new(3).json();
    let late = send_ping(app, &agency.token, &ping_of(&lead3, 500)).await;
    let late_id = late["ping_id"].as_str().unwrap().to_string();
    // 61 seconds later.
    app.with_conn(|c| {
        diesel::update(pings::table.find(&late_id))
            .set(pings::expires_at.eq(Some(
                leadmarket::store::now() - chrono::TimeDelta::seconds(1),
            )))
            .execute(c)
            .unwrap()
    });
    let (status, body) = post_for(app, &agency.token, &lead3, &late["ping_id"]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "ping_expired");
    let stored: String = app.with_conn(|c| {
        pings::table
            .find(&late_id)
            .select(pings::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(stored, "expired", "the log says what became of it");
    let kept: i64 = app.with_conn(|c| leads::table.count().get_result(c).unwrap());
    assert_eq!(kept, 1, "a refused post keeps no lead");
    // An unknown ping is not found.
    let (status, _) = post_for(
        app,
        &agency.token,
        &lead3,
        &json!(uuid::Uuid::new_v4().to_string()),
    )
    .await;
    assert_eq!(status, 404);
}

async fn a_post_that_changes_a_filtered_field_is_refused_and_not_kept(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    StandingOrderBuilder::new(&a)
        .filter("segment=travel&age_min=30")
        .max_price_cents(1500)
        .insert(app);
    let lead = LeadBuilder::new(1).age(35).json();
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert!(offer["ping_id"].is_string(), "{offer}");
    let mut changed = lead.clone();
    changed["age"] = json!(19);
    changed["warmth"] = json!("hot");
    let (status, body) = post_for(app, &agency.token, &changed, &offer["ping_id"]).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["age", "warmth"]);
    let kept: i64 = app.with_conn(|c| leads::table.count().get_result(c).unwrap());
    assert_eq!(kept, 0);
    // The offer still holds for the lead that was pinged.
    let (status, body) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 201, "{body}");
}

async fn an_invalid_or_duplicate_post_is_refused_as_without_a_ping(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .insert(app);
    // The person is in the marketplace already.
    LeadBuilder::new(1).post(app, &agency.token).await;
    let lead = LeadBuilder::new(1).json();
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    let (status, body) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "duplicate");
    let mut invalid = LeadBuilder::new(2).json();
    invalid["email"] = json!("not an email");
    invalid["phone"] = json!("12");
    let (status, body) = post_for(app, &agency.token, &invalid, &offer["ping_id"]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
}

async fn no_contact_data_is_in_a_ping_answer_or_the_auction_log(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, buyer_token) = buyer(app, "Alpha").await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .insert(app);
    let lead = LeadBuilder::new(4).json();
    // A ping that carries a contact is refused.
    let mut with_contact = ping_of(&lead, 500);
    with_contact["email"] = lead["email"].clone();
    with_contact["phone"] = lead["phone"].clone();
    let (status, body) = app
        .post_json("/api/v1/ping", &agency.token, &with_contact)
        .await;
    assert_eq!(status, 422, "{body}");
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    let (status, _) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 201);
    let (_, agency_log) = app.get_json("/api/v1/pings", &agency.token).await;
    let (_, buyer_log) = app.get_json("/api/v1/pings", &buyer_token).await;
    let page = {
        let web = app.browser();
        web.login(&agency.email).await;
        let (status, html) = web.get_text("/pings").await;
        assert_eq!(status, 200);
        html
    };
    let email = lead["email"].as_str().unwrap();
    let phone = lead["phone"].as_str().unwrap();
    for text in [
        offer.to_string(),
        agency_log.to_string(),
        buyer_log.to_string(),
        page,
    ] {
        for contact in [email, phone, "Ann4"] {
            assert!(!text.contains(contact), "{contact} in {text}");
        }
    }
    assert_eq!(agency_log["items"].as_array().unwrap().len(), 1);
}

async fn pings_are_seen_only_by_their_agency_and_the_buyers_that_bid(app: &TestApp) {
    let mine = AgencyBuilder::new("Acme Leads").create(app).await;
    let other = AgencyBuilder::new("Other Leads").create(app).await;
    let (a, a_token) = buyer(app, "Alpha").await;
    let (b, b_token) = buyer(app, "Bravo").await;
    let (_, c_token) = buyer(app, "Charlie").await;
    StandingOrderBuilder::new(&a)
        .name("Alpha travel")
        .max_price_cents(1500)
        .insert(app);
    StandingOrderBuilder::new(&b)
        .name("Bravo travel")
        .max_price_cents(1200)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let offer = send_ping(app, &mine.token, &ping_of(&lead, 500)).await;
    let id = offer["ping_id"].as_str().unwrap().to_string();

    let (_, log) = app.get_json("/api/v1/pings", &mine.token).await;
    let bids = log["items"][0]["bids"].as_array().unwrap();
    assert_eq!(bids.len(), 2, "the seller sees who bid: {log}");
    assert_eq!(bids[0]["buyer"], "Alpha");
    assert_eq!(bids[1]["buyer"], "Bravo");

    let (_, theirs) = app.get_json("/api/v1/pings", &other.token).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, _) = app
        .get_json(&format!("/api/v1/pings/{id}"), &other.token)
        .await;
    assert_eq!(status, 404);
    let (status, _) = post_for(app, &other.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 404, "another agency's ping is not found");

    let (_, bravo) = app.get_json("/api/v1/pings", &b_token).await;
    let item = &bravo["items"][0];
    assert_eq!(item["won"], false);
    assert_eq!(item["price_cents"], 1200);
    assert_eq!(item["bids"].as_array().unwrap().len(), 1, "{bravo}");
    assert_eq!(item["bids"][0]["bid_cents"], 1200);
    assert!(
        !bravo.to_string().contains("Alpha"),
        "never another bidder's name: {bravo}"
    );
    let (_, alpha) = app.get_json(&format!("/api/v1/pings/{id}"), &a_token).await;
    assert_eq!(alpha["won"], true);
    assert!(!alpha.to_string().contains("Bravo"), "{alpha}");
    // A buyer that did not bid sees nothing of it.
    let (_, charlie) = app.get_json("/api/v1/pings", &c_token).await;
    assert_eq!(charlie["items"], json!([]));
    let (status, _) = app.get_json(&format!("/api/v1/pings/{id}"), &c_token).await;
    assert_eq!(status, 404);
    // Agencies only ping.
    let (status, _) = app
        .post_json("/api/v1/ping", &a_token, &ping_of(&lead, 500))
        .await;
    assert_eq!(status, 403);
}

async fn a_buyer_who_bought_the_person_before_does_not_bid(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, a_token) = buyer(app, "Alpha").await;
    let (b, _) = buyer(app, "Bravo").await;
    // Alpha bought this person's lead from the catalogue.
    let earlier = LeadBuilder::new(1).post(app, &agency.token).await;
    crate::builders::PurchaseBuilder::of([&earlier])
        .post(app, &a_token)
        .await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .insert(app);
    StandingOrderBuilder::new(&b)
        .max_price_cents(1200)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let mut body = ping_of(&lead, 500);
    body["phone_hash"] = json!(hex::encode(leadmarket::domain::dedup::phone_key(
        lead["phone"].as_str().unwrap()
    )));
    let offer = send_ping(app, &agency.token, &body).await;
    let winner = winner_of(app, offer["ping_id"].as_str().unwrap()).unwrap();
    let buyer_of_winner: String = app.with_conn(|c| {
        leadmarket::db::schema::standing_orders::table
            .find(&winner)
            .select(leadmarket::db::schema::standing_orders::buyer_id)
            .first(c)
            .unwrap()
    });
    assert_eq!(buyer_of_winner, b.id);
    assert_eq!(offer["price_cents"], 500, "Bravo alone pays the reserve");
}

async fn an_open_offer_holds_the_cap_against_allocation_too(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    StandingOrderBuilder::new(&a)
        .max_price_cents(5000)
        .daily_cap(1)
        .insert(app);
    let lead = LeadBuilder::new(1).json();
    let offer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
    assert!(offer["ping_id"].is_string(), "{offer}");
    // A lead posted without a ping meets the order's cap held by the offer.
    let (status, body) = app
        .post_json("/api/v1/leads", &agency.token, &LeadBuilder::new(2).json())
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sold_to_orders"], 0, "{body}");
    // The offer itself is still good.
    let (status, body) = post_for(app, &agency.token, &lead, &offer["ping_id"]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sold_to_orders"], 1);
}

async fn an_orders_held_counters_follow_its_offers_through_post_and_expiry(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, _) = buyer(app, "Alpha").await;
    let order = StandingOrderBuilder::new(&a)
        .max_price_cents(1500)
        .daily_cap(10)
        .insert(app);
    let held = |app: &TestApp| -> (i32, i64) {
        app.with_conn(|c| {
            standing_orders::table
                .find(&order.id)
                .select((standing_orders::held_offers, standing_orders::held_cents))
                .first(c)
                .unwrap()
        })
    };
    let (one, two) = (LeadBuilder::new(1).json(), LeadBuilder::new(2).json());
    let first = send_ping(app, &agency.token, &ping_of(&one, 500)).await;
    let second = send_ping(app, &agency.token, &ping_of(&two, 700)).await;
    assert_eq!(held(app), (2, 1200), "two open offers at their reserves");
    let (status, body) = post_for(app, &agency.token, &one, &first["ping_id"]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(held(app), (1, 700), "the posted offer became a sale");
    // The second offer lapses: the next win sweeps it off the counters.
    let second_id = second["ping_id"].as_str().unwrap().to_string();
    app.with_conn(|c| {
        diesel::update(pings::table.find(&second_id))
            .set(pings::expires_at.eq(Some(
                leadmarket::store::now() - chrono::TimeDelta::seconds(1),
            )))
            .execute(c)
            .unwrap()
    });
    let third = send_ping(
        app,
        &agency.token,
        &ping_of(&LeadBuilder::new(3).json(), 900),
    )
    .await;
    assert!(third["ping_id"].is_string(), "{third}");
    assert_eq!(held(app), (1, 900), "only the third offer is open");
    let stored: String = app.with_conn(|c| {
        pings::table
            .find(&second_id)
            .select(pings::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(stored, "expired");
    let open: i64 = app.with_conn(|c| {
        pings::table
            .filter(pings::status.eq("open"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(open, 1);
}

/// A buyer's log is found through the 256 ms windows it bid in: pings in several
/// windows, some it did not bid in, read a page at a time.
async fn a_buyers_auction_log_pages_through_its_bids_across_time_windows(app: &TestApp) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (a, a_token) = buyer(app, "Alpha").await;
    let (b, b_token) = buyer(app, "Bravo").await;
    StandingOrderBuilder::new(&a)
        .filter("country=DE")
        .max_price_cents(1500)
        .insert(app);
    StandingOrderBuilder::new(&b)
        .max_price_cents(1200)
        .insert(app);
    let mut alpha_bid = Vec::new();
    let mut all = Vec::new();
    for (n, country) in ["DE", "FR", "DE", "FR", "DE", "DE"].into_iter().enumerate() {
        // The last two share a window.
        if n < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let lead = LeadBuilder::new(n).country(country).json();
        let answer = send_ping(app, &agency.token, &ping_of(&lead, 500)).await;
        let id = answer["ping_id"].as_str().unwrap().to_string();
        if country == "DE" {
            alpha_bid.push(id.clone());
        }
        all.push(id);
    }
    alpha_bid.reverse();
    all.reverse();
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, whole) = app.get_json("/api/v1/pings", &a_token).await;
    assert_eq!(
        ids(&whole),
        alpha_bid,
        "newest first, only its own: {whole}"
    );
    let (_, bravo) = app.get_json("/api/v1/pings", &b_token).await;
    assert_eq!(ids(&bravo), all);

    let mut seen = Vec::new();
    let mut url = "/api/v1/pings?limit=2".to_string();
    loop {
        let (status, page) = app.get_json(&url, &a_token).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/pings?limit=2&cursor={c}"),
            None => break,
        }
        assert!(
            seen.len() <= alpha_bid.len(),
            "pages do not repeat: {seen:?}"
        );
    }
    assert_eq!(seen, alpha_bid);
    // A cursor inside a window: only what is older than it.
    let (_, rest) = app
        .get_json(&format!("/api/v1/pings?cursor={}", alpha_bid[0]), &a_token)
        .await;
    assert_eq!(ids(&rest), alpha_bid[1..].to_vec());
}
