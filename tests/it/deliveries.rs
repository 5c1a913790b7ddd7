//! Delivering standing orders' leads: signed callbacks to a receiver served by the test
//! (an actix server on port 0 that records what it gets and answers as scripted),
//! retries after a refusal or a timeout, dead after a day and "retry now", refusals of
//! loopback addresses at connect time, mail to the outbox, leases that run out, and two
//! app instances on one PostgreSQL database delivering each delivery exactly once.
//!
//! Orders here are inserted inactive, so no allocation buys the test's leads for them:
//! the test makes each delivery row itself, as a sale by the order would.

use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::TimeDelta;
use diesel::prelude::*;
use leadmarket::db::schema::{deliveries, outbox, purchases};
use leadmarket::domain::Role;
use leadmarket::domain::standing_order::callback;
use leadmarket::domain::standing_order::{DeliveryChannel, DeliveryStatus};
use leadmarket::store::{self, deliveries::DeliveryRow, organisations::OrganisationRow};
use serde_json::Value;

use crate::builders::{AgencyBuilder, LeadBuilder, PurchaseBuilder, StandingOrderBuilder};
use crate::helpers::{Backend, PG_TWIN_NEEDS_URL, TestApp};
use crate::on_both_backends;

const SECRET: &str = "whsec-test-0123456789abcdef";

on_both_backends!(with [("CALLBACK_ALLOW_PRIVATE", "true")] =>
    a_callback_is_signed_names_its_delivery_and_is_listed_delivered,
    a_refused_callback_is_retried_and_then_delivered,
    after_a_day_of_failures_a_delivery_is_dead_and_retry_now_delivers_it,
    a_claim_whose_lease_ran_out_is_delivered_by_the_next_worker,
    the_email_channel_puts_the_lead_in_the_outbox,
    a_delivery_waiting_when_its_lead_is_erased_sends_nothing_and_is_dead,
);

on_both_backends!(with [("CALLBACK_ALLOW_PRIVATE", "true"), ("CALLBACK_TIMEOUT_MS", "300")] =>
    a_receiver_slower_than_the_timeout_counts_as_a_failure,
);

// The default: private addresses refused.
on_both_backends!(callbacks_to_loopback_are_refused_at_connect_time);

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// 200 after this long.
    Slow(Duration),
}

#[derive(Debug, Clone)]
struct Hit {
    delivery: String,
    signature: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct Inbox {
    hits: Mutex<Vec<Hit>>,
    /// Answers in turn; 200 once they are used up.
    script: Mutex<VecDeque<Reply>>,
}

/// A buyer's system receiving callbacks, on its own port.
struct Receiver {
    port: u16,
    inbox: Arc<Inbox>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start(script: &[Reply]) -> Receiver {
        let inbox = Arc::new(Inbox::default());
        inbox.script.lock().unwrap().extend(script.iter().copied());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::from(inbox.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            port,
            inbox,
            server: handle,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn hits(&self) -> Vec<Hit> {
        self.inbox.hits.lock().unwrap().clone()
    }

    async fn stop(self) {
        self.server.stop(false).await;
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, inbox: web::Data<Inbox>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    inbox.hits.lock().unwrap().push(Hit {
        delivery: header(callback::DELIVERY_ID_HEADER),
        signature: header(callback::SIGNATURE_HEADER),
        body: body.to_vec(),
    });
    let reply = inbox.script.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Status(code)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
                .body("x".repeat(1000))
        }
        Some(Reply::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            HttpResponse::Ok().finish()
        }
        None => HttpResponse::Ok().body("thanks"),
    }
}

/// A buyer with credit and `n` leads it bought by hand: (buyer, token, [(purchase, lead)]).
async fn bought(app: &TestApp, n: usize) -> (OrganisationRow, String, Vec<(String, String)>) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let (org, _) = app.member(Role::Buyer, "Keystone");
    app.with_conn(|c| leadmarket::services::market::set_credit_limit(c, &org.slug, 100_000_000))
        .unwrap();
    let token = app.token(&app.api_key(&org)).await;
    let mut leads = Vec::new();
    for i in 0..n {
        leads.push(LeadBuilder::new(i).post(app, &agency.token).await);
    }
    let body = PurchaseBuilder::of(&leads).post(app, &token).await;
    let sold = body["purchases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["lead_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (org, token, sold)
}

/// Makes each purchase the order's and queues its delivery, as a sale by the order would,
/// with `adjust` applied to each row; wakes the worker. Returns the delivery ids.
fn queue(
    app: &TestApp,
    order_id: &str,
    buyer: &OrganisationRow,
    sold: &[(String, String)],
    channel: DeliveryChannel,
    adjust: impl Fn(&mut DeliveryRow),
) -> Vec<String> {
    let rows: Vec<DeliveryRow> = sold
        .iter()
        .map(|(purchase, lead)| {
            let mut row =
                DeliveryRow::pending(order_id, purchase, lead, &buyer.id, channel, store::now());
            adjust(&mut row);
            row
        })
        .collect();
    app.with_conn(|c| {
        leadmarket::db::write_transaction(c, |c| {
            for (purchase, _) in sold {
                diesel::update(purchases::table.find(purchase))
                    .set(purchases::standing_order_id.eq(order_id))
                    .execute(c)?;
            }
            store::deliveries::enqueue(c, &rows)
        })
    })
    .unwrap();
    app.state.wake_deliveries();
    rows.into_iter().map(|r| r.id).collect()
}

fn delivery(app: &TestApp, id: &str) -> DeliveryRow {
    app.with_conn(|c| {
        deliveries::table
            .find(id)
            .select(DeliveryRow::as_select())
            .first(c)
            .unwrap()
    })
}

/// Waits (up to 10 s) until the delivery is in `status`, and returns it.
async fn settled(app: &TestApp, id: &str, status: DeliveryStatus) -> DeliveryRow {
    for _ in 0..200 {
        let row = delivery(app, id);
        if row.status == status {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "delivery {id} never became {status}: {:?}",
        delivery(app, id)
    );
}

/// Makes a failed delivery due at once, as if its backoff had passed.
fn due_now(app: &TestApp, id: &str) {
    app.with_conn(|c| {
        diesel::update(deliveries::table.find(id))
            .set(deliveries::next_attempt_at.eq(store::now() - TimeDelta::seconds(1)))
            .execute(c)
            .unwrap()
    });
    app.state.wake_deliveries();
}

async fn a_callback_is_signed_names_its_delivery_and_is_listed_delivered(app: &TestApp) {
    let rx = Receiver::start(&[]);
    let (buyer, token, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .secret(SECRET)
        .insert(app);
    let ids = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |_| {},
    );
    let row = settled(app, &ids[0], DeliveryStatus::Delivered).await;
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_status_code, Some(200));
    assert!(row.delivered_at.is_some());

    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(
        callback::verify(SECRET, &hit.signature, &hit.body),
        "signed with the order's secret: {}",
        hit.signature
    );
    assert!(!callback::verify(
        "another-secret",
        &hit.signature,
        &hit.body
    ));
    assert_eq!(hit.delivery, ids[0], "the stable delivery id header");
    let body: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body["event"], "lead.delivered");
    assert_eq!(body["order_id"], order.id.as_str());
    assert_eq!(body["purchase_id"], sold[0].0.as_str());
    assert_eq!(body["lead"]["id"], sold[0].1.as_str());
    assert_eq!(body["lead"]["email"], "ann0@example.com");
    assert_eq!(body["lead"]["first_name"], "Ann0");
    assert_eq!(body["lead"]["phone"], "+447911110000");
    assert_eq!(body["lead"]["price_cents"], 1000);

    let (status, list) = app
        .get_json(
            &format!("/api/v1/standing-orders/{}/deliveries", order.id),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["id"], ids[0].as_str());
    insta::assert_json_snapshot!("standing_order_deliveries", list, {
        ".items[].id" => "[id]",
        ".items[].purchase_id" => "[id]",
        ".items[].lead_id" => "[id]",
    });

    // Another buyer's token, or an order that is not there: 404.
    let (other, _) = app.member(Role::Buyer, "Brio Travel");
    let other_token = app.token(&app.api_key(&other)).await;
    let path = format!("/api/v1/standing-orders/{}/deliveries", order.id);
    assert_eq!(app.get_json(&path, &other_token).await.0, 404);
    let missing = "/api/v1/standing-orders/0190e0a0-0000-7000-8000-000000000000/deliveries";
    assert_eq!(app.get_json(missing, &token).await.0, 404);
    rx.stop().await;
}

async fn a_refused_callback_is_retried_and_then_delivered(app: &TestApp) {
    let rx = Receiver::start(&[Reply::Status(500)]);
    let (buyer, _, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .insert(app);
    let id = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |_| {},
    )
    .remove(0);
    let failed = settled(app, &id, DeliveryStatus::Failed).await;
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.last_status_code, Some(500));
    let excerpt = failed.last_error.clone().unwrap();
    assert!(
        excerpt.starts_with("xxx") && excerpt.chars().count() <= 200,
        "only a short excerpt of the body: {} chars",
        excerpt.chars().count()
    );
    let wait = failed.next_attempt_at.unwrap() - store::now();
    assert!(
        wait > TimeDelta::zero() && wait <= TimeDelta::seconds(10),
        "the first retry within 10 s: {wait}"
    );

    due_now(app, &id);
    let delivered = settled(app, &id, DeliveryStatus::Delivered).await;
    assert_eq!(delivered.attempts, 2);
    assert_eq!(delivered.last_status_code, Some(200));
    assert_eq!(delivered.last_error, None);
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.delivery == id), "same id on a retry");
    rx.stop().await;
}

async fn a_receiver_slower_than_the_timeout_counts_as_a_failure(app: &TestApp) {
    let rx = Receiver::start(&[Reply::Slow(Duration::from_secs(3))]);
    let (buyer, _, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .insert(app);
    let started = std::time::Instant::now();
    let id = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |_| {},
    )
    .remove(0);
    let failed = settled(app, &id, DeliveryStatus::Failed).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "given up at the timeout"
    );
    assert_eq!(failed.last_status_code, None);
    assert_eq!(failed.last_error.as_deref(), Some("timed out"));
    assert_eq!(rx.hits().len(), 1, "it was asked");
    rx.stop().await;
}

async fn after_a_day_of_failures_a_delivery_is_dead_and_retry_now_delivers_it(app: &TestApp) {
    let rx = Receiver::start(&[Reply::Status(503), Reply::Status(503), Reply::Status(500)]);
    let (buyer, token, sold) = bought(app, 2).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .insert(app);
    // Made a day ago and failing since: the next failure is the last.
    let ids = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |r| {
            r.created_at -= TimeDelta::hours(24) + TimeDelta::minutes(1);
            r.attempts = 30;
        },
    );
    for id in &ids {
        let dead = settled(app, id, DeliveryStatus::Dead).await;
        assert_eq!(dead.next_attempt_at, None);
        assert_eq!(dead.last_status_code, Some(503));
    }
    let list_path = format!("/api/v1/standing-orders/{}/deliveries", order.id);
    let (_, list) = app.get_json(&list_path, &token).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|d| d["status"] == "dead"), "{list}");
    assert!(items.iter().all(|d| d["last_status_code"] == 503));

    // Another buyer cannot retry it.
    let (other, _) = app.member(Role::Buyer, "Brio Travel");
    let other_token = app.token(&app.api_key(&other)).await;
    let retry = |id: &str| format!("/api/v1/standing-orders/{}/deliveries/{id}/retry", order.id);
    let (status, _) = app
        .post_json(&retry(&ids[0]), &other_token, &Value::Null)
        .await;
    assert_eq!(status, 404);

    let (status, body) = app.post_json(&retry(&ids[0]), &token, &Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "pending");
    // Refused again, it is not dead at once: "retry now" opened a new day of retries.
    let again = settled(app, &ids[0], DeliveryStatus::Failed).await;
    assert_eq!(again.last_status_code, Some(500));
    assert_eq!(again.attempts, 32);
    let next = again.next_attempt_at.expect("tried again later");
    assert!(next > store::now() + TimeDelta::minutes(30), "{next}");
    let (status, body) = app.post_json(&retry(&ids[0]), &token, &Value::Null).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_dead");

    // The order page's "Retry now" form does the same, behind CSRF.
    let browser = app.browser();
    browser.login(&user_email(app, &buyer)).await;
    let page_retry = format!("/standing-orders/{}/deliveries/{}/retry", order.id, ids[1]);
    let without = browser.post_form(&page_retry, &[]).await;
    assert!(
        without.status().is_client_error(),
        "no CSRF token, no retry"
    );
    assert_eq!(delivery(app, &ids[1]).status, DeliveryStatus::Dead);
    let csrf = browser.csrf("/purchases").await;
    let resp = browser
        .post_form(&page_retry, &[("csrf_token", csrf.as_str())])
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()["location"],
        format!("/standing-orders/{}", order.id).as_str()
    );
    settled(app, &ids[1], DeliveryStatus::Delivered).await;
    rx.stop().await;
}

/// The email of the buyer's one user made by `app.member`.
fn user_email(app: &TestApp, buyer: &OrganisationRow) -> String {
    app.with_conn(|c| store::users::active_emails(c, &buyer.id))
        .unwrap()
        .remove(0)
}

async fn callbacks_to_loopback_are_refused_at_connect_time(app: &TestApp) {
    let rx = Receiver::start(&[]);
    let (buyer, _, sold) = bought(app, 3).await;
    let urls = [
        format!("https://127.0.0.1:{}/hook", rx.port),
        format!("https://localhost:{}/hook", rx.port),
        format!("http://127.0.0.1:{}/hook", rx.port),
    ];
    for (url, sale) in urls.iter().zip(&sold) {
        // Saved while private addresses were allowed, say: refused when connecting.
        let order = StandingOrderBuilder::new(&buyer)
            .inactive()
            .callback_url(url)
            .insert(app);
        let id = queue(
            app,
            &order.id,
            &buyer,
            std::slice::from_ref(sale),
            DeliveryChannel::Callback,
            |_| {},
        )
        .remove(0);
        let failed = settled(app, &id, DeliveryStatus::Failed).await;
        assert!(
            failed.last_error.as_deref().unwrap().starts_with("refused"),
            "{url}: {:?}",
            failed.last_error
        );
    }
    // A name is checked at connect time too: what it resolves to must be public.
    let refused = leadmarket::services::deliveries::resolve_public("localhost").await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(rx.hits().is_empty(), "the receiver never saw a request");
    rx.stop().await;
}

async fn a_claim_whose_lease_ran_out_is_delivered_by_the_next_worker(app: &TestApp) {
    let rx = Receiver::start(&[]);
    let (buyer, _, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .insert(app);
    // Claimed by a worker that died with it: leased for two more seconds.
    let id = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |r| {
            r.locked_until = Some(store::now() + TimeDelta::seconds(2));
        },
    )
    .remove(0);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(rx.hits().is_empty(), "not while the lease holds");
    assert_eq!(delivery(app, &id).status, DeliveryStatus::Pending);
    let row = settled(app, &id, DeliveryStatus::Delivered).await;
    assert_eq!(row.attempts, 1);
    assert_eq!(rx.hits().len(), 1);
    rx.stop().await;
}

async fn the_email_channel_puts_the_lead_in_the_outbox(app: &TestApp) {
    let (buyer, _, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .name("Travel leads")
        .deliver_email("crm@keystone.example")
        .insert(app);
    let id = queue(
        app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Email,
        |_| {},
    )
    .remove(0);
    let row = settled(app, &id, DeliveryStatus::Delivered).await;
    assert_eq!(row.attempts, 1);
    let mails: Vec<(String, String, String)> = app.with_conn(|c| {
        outbox::table
            .filter(outbox::template.eq("lead_delivered"))
            .select((outbox::recipient, outbox::subject, outbox::text_body))
            .load(c)
            .unwrap()
    });
    assert_eq!(mails.len(), 1, "one mail per delivery");
    let (to, subject, text) = &mails[0];
    assert_eq!(to, "crm@keystone.example");
    assert!(subject.contains("Travel leads"), "{subject}");
    assert!(text.contains("ann0@example.com"), "{text}");
    assert!(text.contains("+447911110000"), "{text}");
}

async fn a_delivery_waiting_when_its_lead_is_erased_sends_nothing_and_is_dead(app: &TestApp) {
    let (buyer, _, sold) = bought(app, 1).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .deliver_email("crm@keystone.example")
        .insert(app);
    // Waiting for a retry when the person asks to be erased.
    let id = queue(app, &order.id, &buyer, &sold, DeliveryChannel::Email, |r| {
        r.next_attempt_at = Some(store::now() + TimeDelta::hours(1));
    })
    .remove(0);
    let lead = sold[0].1.clone();
    let now = store::now();
    app.with_conn(|c| {
        diesel::update(leadmarket::db::schema::leads::table.find(&lead))
            .set(leadmarket::db::schema::leads::captured_at.eq(now - TimeDelta::days(4000)))
            .execute(c)
            .unwrap()
    });
    let settings = leadmarket::services::rights::Settings::from(&*app.state.config());
    let erased = app
        .with_conn(|c| leadmarket::services::rights::erase_past_retention(c, &settings, now))
        .unwrap();
    assert_eq!(erased, 1);
    due_now(app, &id);
    let row = settled(app, &id, DeliveryStatus::Dead).await;
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("erased"),
        "{row:?}"
    );
    let delivered_mails: i64 = app.with_conn(|c| {
        outbox::table
            .filter(outbox::template.eq("lead_delivered"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(delivered_mails, 0, "nothing of the person went out");
}

/// Two `serve` processes on one PostgreSQL database: each delivery goes out once.
#[tokio::test]
#[cfg_attr(
    not(leadmarket_pg_tests),
    ignore = "PostgreSQL twin: TEST_DATABASE_URL is not set"
)]
async fn two_instances_on_one_postgres_database_deliver_each_delivery_exactly_once() {
    const N: usize = 40;
    let vars = [("CALLBACK_ALLOW_PRIVATE", "true")];
    let app = TestApp::spawn_with(Backend::Postgres, &vars)
        .await
        .expect(PG_TWIN_NEEDS_URL);
    let second = app.second_instance_with(&vars).await;
    let rx = Receiver::start(&[]);
    let (buyer, _, sold) = bought(&app, N).await;
    let order = StandingOrderBuilder::new(&buyer)
        .inactive()
        .callback_url(&rx.url())
        .insert(&app);
    let ids = queue(
        &app,
        &order.id,
        &buyer,
        &sold,
        DeliveryChannel::Callback,
        |_| {},
    );
    second.state.wake_deliveries();
    for id in &ids {
        settled(&app, id, DeliveryStatus::Delivered).await;
    }
    // Time for a second send of anything, were one coming.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    for hit in rx.hits() {
        *per_delivery.entry(hit.delivery).or_default() += 1;
    }
    assert_eq!(per_delivery.len(), N);
    for id in &ids {
        assert_eq!(per_delivery.get(id), Some(&1), "delivery {id}");
    }
    rx.stop().await;
    second.finish().await;
    app.finish().await;
}
