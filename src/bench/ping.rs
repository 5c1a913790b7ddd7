//! `leadmarket bench ping`: pings over HTTP while 1,000 active standing orders (those of
//! `bench orders`) bid, on a scratch database with N leads stored (the pings carry phone
//! hashes, so "bought this person before" is looked up in them). Each answer comes after
//! the auction and its log are committed. Offers are never posted: they stay open and
//! hold the orders' caps and budgets for their 60 s, as the busiest real traffic would.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::market::percentile;
use super::orders::{seed_standing_orders, seed_stored_leads};
use super::purchases::{Server, runtime};
use crate::config::Config;
use crate::db::{DatabaseUrl, scratch::ScratchDb};
use crate::domain::time::rfc3339;
use crate::services::accounts;
use crate::store;

pub struct PingReport {
    pub leads: usize,
    pub orders: usize,
    pub seed_seconds: f64,
    pub pings: usize,
    pub seconds: f64,
    /// POST /ping latency in ms, p50 and p99.
    pub ping_ms: (f64, f64),
    pub offers: usize,
    pub failed: usize,
}

const SEGMENTS: [&str; 6] = [
    "insurance.car",
    "insurance.health",
    "finance.loans",
    "travel",
    "real_estate",
    "medical",
];
const COUNTRIES: [&str; 5] = ["GB", "DE", "FR", "ES", "IT"];

pub fn ping(
    config: &Config,
    base: &DatabaseUrl,
    lead_count: usize,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<PingReport> {
    let scratch = ScratchDb::beside(base, "bench")?;
    let (pool, agency) = super::prepare(&scratch, 20)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let now = store::now();
    seed_stored_leads(&mut conn, &agency.id, lead_count, now)?;
    seed_standing_orders(&mut conn, now, None)?;
    let key = accounts::create_api_key(&mut conn, &agency.id, "bench", None)?.secret;
    let seed_seconds = started.elapsed().as_secs_f64();
    drop(conn);
    let keys = vec![key; clients.max(1)];
    let url = scratch.url().clone();
    let (mut latencies, offers, failed, elapsed) = runtime()?.block_on(async move {
        let server = Server::start(config, &url, &keys).await?;
        let until = Instant::now() + Duration::from_secs(seconds);
        let t = Instant::now();
        let mut tasks = Vec::new();
        for (i, token) in server.tokens.iter().enumerate() {
            tasks.push(tokio::spawn(send_pings(
                server.client.clone(),
                server.base.clone(),
                token.clone(),
                i,
                until,
            )));
        }
        let (mut all, mut offers, mut failed) = (Vec::new(), 0, 0);
        for task in tasks {
            let (ms, o, f) = task.await?;
            all.extend(ms);
            offers += o;
            failed += f;
        }
        let elapsed = t.elapsed().as_secs_f64();
        server.stop().await;
        anyhow::Ok((all, offers, failed, elapsed))
    })?;
    latencies.sort_by(f64::total_cmp);
    Ok(PingReport {
        leads: lead_count,
        orders: 1000,
        seed_seconds,
        pings: latencies.len(),
        seconds: elapsed,
        ping_ms: (percentile(&latencies, 0.5), percentile(&latencies, 0.99)),
        offers,
        failed,
    })
}

/// One client pinging one lead after the other until `until`: the ms of each answer,
/// the offers among them and the failed calls.
async fn send_pings(
    client: reqwest::Client,
    base: String,
    token: String,
    client_no: usize,
    until: Instant,
) -> (Vec<f64>, usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(500 + client_no as u64);
    let (mut ms, mut offers, mut failed) = (Vec::new(), 0, 0);
    let mut n: usize = 0;
    while Instant::now() < until {
        n += 1;
        let captured = store::now() - chrono::TimeDelta::minutes(5);
        let warmth = ["cold", "warm", "hot"][rng.random_range(0..3)];
        let phone = format!("+44792{:07}", client_no * 1_000_000 + n % 1_000_000);
        let body = serde_json::json!({
            "segment": SEGMENTS[rng.random_range(0..SEGMENTS.len())],
            "country": COUNTRIES[rng.random_range(0..COUNTRIES.len())],
            "age": rng.random_range(18..80),
            "warmth": warmth,
            "contact_type": "interested", "channel": "web_form",
            "captured_at": rfc3339(captured),
            "price_cents": rng.random_range(500..3000),
            "phone_hash": hex::encode(crate::domain::dedup::phone_key(&phone)),
        });
        let t = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/ping"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let answer = match answer {
            Ok(r) if r.status().as_u16() == 200 => r.json::<serde_json::Value>().await.ok(),
            _ => None,
        };
        let Some(answer) = answer else {
            failed += 1;
            continue;
        };
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if answer["ping_id"].is_string() {
            offers += 1;
        }
    }
    (ms, offers, failed)
}
