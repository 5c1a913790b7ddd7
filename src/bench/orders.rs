//! `leadmarket bench orders`: single leads posted over HTTP while 1,000 active standing
//! orders wait for them, on a scratch database with N leads already stored. The answer to
//! `POST /leads` comes after the orders' sales commit, so its latency is the time from
//! the post to the committed sale.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::market::percentile;
use super::purchases::{Server, runtime};
use crate::config::Config;
use crate::db::{DatabaseUrl, scratch::ScratchDb};
use crate::domain::OrgKind;
use crate::domain::time::rfc3339;
use crate::services::{self, accounts};
use crate::store::{self, standing_orders::StandingOrderRow};

pub struct OrdersReport {
    pub leads: usize,
    pub orders: usize,
    pub seed_seconds: f64,
    pub posts: usize,
    pub seconds: f64,
    /// POST /leads latency in ms, p50 and p99.
    pub post_ms: (f64, f64),
    /// Posted leads at least one order took, and the sales they made.
    pub sold_leads: usize,
    pub sales: usize,
    pub failed: usize,
    /// Sales of the orders with a callback, how many callbacks arrived, and the ms from
    /// each sale (its purchase's time) to its callback at the local receiver, p50 and p99.
    pub callback_sales: usize,
    pub callbacks: usize,
    pub callback_ms: (f64, f64),
}

const ORDERS: usize = 1000;
const BUYERS: usize = 100;
/// Every tenth order delivers to a callback at a local receiver, the rest by the API only.
const CALLBACK_EVERY: usize = 10;
/// How long the callbacks still due after the last post may take to arrive.
const DRAIN: Duration = Duration::from_secs(10);
const SEGMENTS: [Option<&str>; 8] = [
    None,
    Some("insurance"),
    Some("insurance.car"),
    Some("finance"),
    Some("finance.loans"),
    Some("travel"),
    Some("real_estate"),
    Some("telecom"),
];
const COUNTRIES: [Option<&str>; 5] = [None, Some("GB"), Some("DE"), Some("FR"), Some("ES")];
/// The posted leads' segments and countries: some no order names.
const LEAD_SEGMENTS: [&str; 6] = [
    "insurance.car",
    "insurance.health",
    "finance.loans",
    "travel",
    "real_estate",
    "medical",
];
const LEAD_COUNTRIES: [&str; 5] = ["GB", "DE", "FR", "ES", "IT"];

/// Seeds `lead_count` leads and 1,000 orders of 100 buyers, then `clients` agencies'
/// clients post single leads for `seconds`.
pub fn orders(
    config: &Config,
    base: &DatabaseUrl,
    lead_count: usize,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<OrdersReport> {
    let scratch = ScratchDb::beside(base, "bench")?;
    let (pool, agency) = super::prepare(&scratch, 20)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let now = store::now();
    seed_stored_leads(&mut conn, &agency.id, lead_count, now)?;
    let receiver = Receiver::bind()?;
    seed_standing_orders(&mut conn, now, Some(&receiver.url))?;
    let key = accounts::create_api_key(&mut conn, &agency.id, "bench", None)?.secret;
    let seed_seconds = started.elapsed().as_secs_f64();
    drop(conn);
    let keys = vec![key; clients.max(1)];
    let url = scratch.url().clone();
    // The receiver is on loopback, which callbacks may reach only when allowed.
    let mut config = config.clone();
    config.callback_allow_private = true;
    let config = &config;
    let watch = pool.clone();
    let (mut latencies, tally, elapsed, arrivals) = runtime()?.block_on(async move {
        let receiving = receiver.start()?;
        let server = Server::start(config, &url, &keys).await?;
        let until = Instant::now() + Duration::from_secs(seconds);
        let t = Instant::now();
        let mut tasks = Vec::new();
        for (i, token) in server.tokens.iter().enumerate() {
            tasks.push(tokio::spawn(post_leads(
                server.client.clone(),
                server.base.clone(),
                token.clone(),
                i,
                until,
            )));
        }
        let mut all = Vec::new();
        let mut total = Tally::default();
        for task in tasks {
            let (ms, tally) = task.await?;
            all.extend(ms);
            total.sold_leads += tally.sold_leads;
            total.sales += tally.sales;
            total.failed += tally.failed;
        }
        let elapsed = t.elapsed().as_secs_f64();
        let drained = Instant::now() + DRAIN;
        while Instant::now() < drained && deliveries_due(&watch)? > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.stop().await;
        let arrivals = receiving.stop().await;
        anyhow::Ok((all, total, elapsed, arrivals))
    })?;
    latencies.sort_by(f64::total_cmp);
    let (callback_sales, mut callback_latencies) = callback_latencies(&pool, &arrivals)?;
    callback_latencies.sort_by(f64::total_cmp);
    Ok(OrdersReport {
        leads: lead_count,
        orders: ORDERS,
        seed_seconds,
        posts: latencies.len(),
        seconds: elapsed,
        post_ms: (percentile(&latencies, 0.5), percentile(&latencies, 0.99)),
        sold_leads: tally.sold_leads,
        sales: tally.sales,
        failed: tally.failed,
        callback_sales,
        callbacks: callback_latencies.len(),
        callback_ms: (
            percentile(&callback_latencies, 0.5),
            percentile(&callback_latencies, 0.99),
        ),
    })
}

/// Callback deliveries not delivered yet.
fn deliveries_due(pool: &crate::db::Pool) -> anyhow::Result<i64> {
    use crate::db::schema::deliveries::dsl as d;
    use diesel::prelude::*;
    let mut conn = pool.get()?;
    Ok(d::deliveries
        .filter(d::channel.eq("callback"))
        .filter(d::status.ne("delivered"))
        .count()
        .get_result(&mut **conn)?)
}

/// The callback sales, and for each callback that arrived the ms from its purchase's
/// time (taken before the sale commits, so this errs long) to its arrival.
fn callback_latencies(
    pool: &crate::db::Pool,
    arrivals: &[(String, chrono::NaiveDateTime)],
) -> anyhow::Result<(usize, Vec<f64>)> {
    use crate::db::schema::{deliveries::dsl as d, purchases::dsl as p};
    use diesel::prelude::*;
    let mut conn = pool.get()?;
    let sold: Vec<(String, chrono::NaiveDateTime)> = d::deliveries
        .inner_join(p::purchases)
        .filter(d::channel.eq("callback"))
        .select((d::purchase_id, p::created_at))
        .load(&mut **conn)?;
    let sold_at: std::collections::HashMap<_, _> = sold.iter().cloned().collect();
    let mut ms = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (purchase, at) in arrivals {
        // A repeat (a retry after a lost answer) is not a second delivery.
        if let Some(sale) = sold_at.get(purchase)
            && seen.insert(purchase.clone())
        {
            ms.push((*at - *sale).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
    }
    Ok((sold.len(), ms))
}

/// A local receiver of callbacks that notes when each purchase's callback arrived.
struct Receiver {
    listener: std::net::TcpListener,
    url: String,
}

struct Receiving {
    server: actix_web::dev::ServerHandle,
    arrivals: std::sync::Arc<std::sync::Mutex<Vec<(String, chrono::NaiveDateTime)>>>,
}

impl Receiver {
    fn bind() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!(
            "http://127.0.0.1:{}/callback",
            listener.local_addr()?.port()
        );
        Ok(Self { listener, url })
    }

    fn start(self) -> anyhow::Result<Receiving> {
        use actix_web::{App, HttpResponse, HttpServer, web};
        let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let noted = arrivals.clone();
        let server = HttpServer::new(move || {
            let noted = noted.clone();
            App::new().default_service(web::to(move |body: web::Bytes| {
                let at = store::now();
                let noted = noted.clone();
                async move {
                    let event: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_default();
                    if let Some(purchase) = event["purchase_id"].as_str() {
                        noted
                            .lock()
                            .expect("arrivals lock")
                            .push((purchase.to_string(), at));
                    }
                    HttpResponse::NoContent().finish()
                }
            }))
        })
        .workers(1)
        .listen(self.listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Receiving {
            server: handle,
            arrivals,
        })
    }
}

impl Receiving {
    async fn stop(self) -> Vec<(String, chrono::NaiveDateTime)> {
        self.server.stop(false).await;
        std::mem::take(&mut *self.arrivals.lock().expect("arrivals lock"))
    }
}

/// `lead_count` leads stored as a running market holds them: analysed, counted by the
/// funnel's rollup and priced for today.
pub(super) fn seed_stored_leads(
    conn: &mut crate::db::AnyConnection,
    agency_id: &str,
    lead_count: usize,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<()> {
    super::data::market_leads(conn, agency_id, lead_count, now)?;
    crate::db::bench::analyze_seeded(conn)?;
    // A running market's rollup has counted its stored leads long ago: its first pass
    // over the seed (seconds at 1M leads) would fall in the timed posts otherwise.
    crate::services::funnel::refresh(conn, "bench")?;
    store::pricing::set_priced_on(conn, now.date())?;
    Ok(())
}

/// 1,000 active standing orders of 100 buyers (credit without limit): segments and
/// countries from the lists above (some any), 30% with an age floor, half with a daily
/// cap, 30% with a budget; every tenth calls `callback_url` when given. `bench ping` bids
/// with the same orders.
pub(super) fn seed_standing_orders(
    conn: &mut crate::db::AnyConnection,
    now: chrono::NaiveDateTime,
    callback_url: Option<&str>,
) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut buyers = Vec::new();
    for i in 0..BUYERS {
        let org = accounts::create_organisation(
            conn,
            OrgKind::Buyer,
            &format!("Orders Buyer {i}"),
            Some(&format!("orders-buyer-{i}")),
        )?;
        services::market::set_credit_limit(conn, &org.slug, i64::MAX / 4)?;
        buyers.push(org.id);
    }
    for i in 0..ORDERS {
        let segment = SEGMENTS[rng.random_range(0..SEGMENTS.len())];
        let country = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
        let mut query = Vec::new();
        if let Some(s) = segment {
            query.push(format!("segment={s}"));
        }
        if let Some(c) = country {
            query.push(format!("country={c}"));
        }
        if rng.random_bool(0.3) {
            query.push(format!("age_min={}", rng.random_range(18..40)));
        }
        let row = StandingOrderRow {
            id: store::new_id(),
            buyer_id: buyers[i % BUYERS].clone(),
            name: format!("Bench order {i}"),
            filter_query: query.join("&"),
            segment: segment.map(str::to_string),
            country: country.map(str::to_string),
            max_price_cents: rng.random_range(1000..20_000),
            daily_cap: rng.random_bool(0.5).then(|| rng.random_range(50..5000)),
            budget_cents: rng
                .random_bool(0.3)
                .then(|| rng.random_range(100_000..10_000_000)),
            spent_cents: 0,
            cap_day: None,
            today_count: 0,
            deliver_email: None,
            callback_url: callback_url
                .filter(|_| i % CALLBACK_EVERY == 0)
                .map(str::to_string),
            secret: "bench-secret".into(),
            active: true,
            active_from_minute: None,
            active_to_minute: None,
            last_allocated_at: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        diesel::insert_into(crate::db::schema::standing_orders::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    sold_leads: usize,
    sales: usize,
    failed: usize,
}

/// One client posting leads one after the other until `until`; the ms of each accepted
/// post.
async fn post_leads(
    client: reqwest::Client,
    base: String,
    token: String,
    client_no: usize,
    until: Instant,
) -> (Vec<f64>, Tally) {
    let mut rng = ChaCha8Rng::seed_from_u64(100 + client_no as u64);
    let (mut ms, mut tally) = (Vec::new(), Tally::default());
    let mut n: usize = 0;
    while Instant::now() < until {
        n += 1;
        let captured = store::now() - chrono::TimeDelta::minutes(5);
        let warmth = ["cold", "warm", "hot"][rng.random_range(0..3)];
        let max_sales = [1, 3][rng.random_range(0..2)];
        let body = serde_json::json!({
            "first_name": "Bench", "last_name": format!("Lead{n}"),
            "email": format!("bench{client_no}-{n}@example.com"),
            "phone": format!("+44791{:07}", client_no * 1_000_000 + n % 1_000_000),
            "age": rng.random_range(18..80),
            "country": LEAD_COUNTRIES[rng.random_range(0..LEAD_COUNTRIES.len())],
            "segment": LEAD_SEGMENTS[rng.random_range(0..LEAD_SEGMENTS.len())],
            "channel": "web_form", "warmth": warmth,
            "contact_type": "interested", "consent_at": rfc3339(captured),
            "captured_at": rfc3339(captured), "consent_text": "ok",
            "price_cents": 2000, "max_sales": max_sales,
        });
        let t = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/leads"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let answer = match answer {
            Ok(r) if r.status().as_u16() == 201 => r.json::<serde_json::Value>().await.ok(),
            _ => None,
        };
        let Some(answer) = answer else {
            tally.failed += 1;
            continue;
        };
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let sold = answer["sold_to_orders"].as_u64().unwrap_or(0) as usize;
        if sold > 0 {
            tally.sold_leads += 1;
            tally.sales += sold;
        }
    }
    (ms, tally)
}
