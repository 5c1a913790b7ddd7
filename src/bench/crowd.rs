//! The market bench's crowd: leads arrive through the real intake (a generated CSV run
//! as `import` runs it, statistics refresh included), the catalogue is timed alone over
//! the first 10 s after the import (what fresh statistics are for), then 16 buyers buy by
//! one shared filter over HTTP, `quantity` 1 and then 10, with nothing else running.
//! Last, the catalogue is timed again beside a third run of the crowd (`quantity` 1): what
//! 16 buyers at full speed on the same cores leave it. The crowd's rates are not taken
//! from that run, where the bench's own catalogue queries share the cores with it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::purchases::{Server, runtime};
use crate::config::Config;
use crate::db::{DatabaseUrl, scratch::ScratchDb};
use crate::jobs::runner::Lease;
use crate::services::intake::{self, RunError};
use crate::services::{accounts, planner_stats};
use crate::store;

/// The filter every buyer of the crowd buys by: all the generated leads match it.
const SHARED_FILTER: &str = "insurance";

/// The crowd's price ceiling, far above any generated lead's list price.
const MAX_PRICE_CENTS: i64 = 100_000;

/// How long after the import the catalogue is timed (at most: it stops with the crowd).
const CATALOGUE_WINDOW: Duration = Duration::from_secs(10);

pub struct CrowdReport {
    pub rows: usize,
    pub accepted: i32,
    pub import_seconds: f64,
    /// Catalogue first pages of the 20 mixes, round after round, in the 10 s after the
    /// import, with nothing else running.
    pub alone: CatalogueTimes,
    /// The crowd's runs, `quantity` 1 and 10, alone.
    pub runs: Vec<CrowdRun>,
    /// The same first pages timed beside a third run of the crowd, and that run.
    pub beside_crowd: CatalogueTimes,
    pub beside_run: CrowdRun,
}

/// Catalogue first pages timed: how many, over how long, p50 and p99 in ms.
pub struct CatalogueTimes {
    pub queries: usize,
    pub seconds: f64,
    pub ms: (f64, f64),
}

impl CatalogueTimes {
    fn of(mut times: Vec<f64>, seconds: f64) -> Self {
        times.sort_by(f64::total_cmp);
        Self {
            queries: times.len(),
            seconds,
            ms: (
                super::market::percentile(&times, 0.5),
                super::market::percentile(&times, 0.99),
            ),
        }
    }
}

/// One run of the crowd at one `quantity`.
pub struct CrowdRun {
    pub quantity: usize,
    pub seconds: f64,
    pub requests: usize,
    pub bought: usize,
    /// 409s while the buyer's catalogue still showed matching leads.
    pub refused_while_available: usize,
    /// 409s once none was left (the buyer stops there).
    pub refused_sold_out: usize,
    /// Buyers still buying when the run's time was up.
    pub stopped_by_time: usize,
}

/// How one buyer's run ended.
#[derive(Default)]
struct Tally {
    requests: usize,
    bought: usize,
    refused_while_available: usize,
    refused_sold_out: usize,
    stopped_by_time: usize,
    failed: usize,
}

/// Runs the crowd on a scratch database of `base`'s backend: `rows` generated CSV rows
/// through intake, then each run for at most `seconds`.
pub fn crowd(
    config: &Config,
    base: &DatabaseUrl,
    rows: usize,
    seconds: u64,
) -> anyhow::Result<CrowdReport> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("crowd.csv");
    super::data::intake_csv(&csv, rows)?;
    let scratch = ScratchDb::beside(base, "bench")?;
    let (pool, agency) = super::prepare(&scratch, 20)?;
    let mut conn = pool.get()?;
    let buyers = super::market::buyers(&mut conn)?;
    let mut keys = Vec::new();
    for buyer in &buyers {
        keys.push(accounts::create_api_key(&mut conn, buyer, "bench", None)?.secret);
    }

    // The import, as `leadmarket import` runs it.
    let input = intake::BatchInput {
        segment: Some(format!("{SHARED_FILTER}.car")),
        channel: Some("web_form".into()),
        price_cents: Some(2500),
        consent_text: Some("I agree".into()),
        ..Default::default()
    };
    let batch = intake::prepare_batch(
        &mut conn,
        &agency.id,
        &input,
        "import",
        Some("crowd.csv"),
        None,
    )?;
    let started = Instant::now();
    store::batches::insert(&mut conn, &batch)?;
    let worker = format!("bench-{}", std::process::id());
    let lease = Lease::take(&mut conn, &batch, &worker)?;
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&csv)?);
    lease
        .run(&mut conn, &config.intake, file, |_| {})
        .map_err(|e| match e {
            RunError::App(e) => anyhow::anyhow!("{e}"),
            RunError::Unusable(reason) => anyhow::anyhow!("{reason}"),
            RunError::LeaseLost => anyhow::anyhow!("the bench's lease was lost"),
        })?;
    planner_stats::after_batch(&mut conn);
    let import_seconds = started.elapsed().as_secs_f64();
    let accepted = store::batches::find(&mut conn, &batch.id)?.accepted;

    // Right after the upload, the catalogue alone (as long as one run of the crowd when
    // that is shorter: the tests' short runs); then the crowd alone; then both.
    let window = CATALOGUE_WINDOW.min(Duration::from_secs(seconds));
    let (alone, alone_seconds) =
        catalogue_window(&mut conn, &buyers[0], window, &AtomicBool::new(false))?;
    let alone = CatalogueTimes::of(alone, alone_seconds);
    let (runs, beside_crowd, beside_run) = runtime()?.block_on(async {
        let server = Server::start(config, scratch.url(), &keys).await?;
        let result = async {
            let mut runs = Vec::new();
            for quantity in [1, 10] {
                runs.push(run(&server, quantity, Duration::from_secs(seconds)).await?);
            }
            let crowd_done = Arc::new(AtomicBool::new(false));
            let timing = {
                let done = crowd_done.clone();
                let buyer = buyers[0].clone();
                tokio::task::spawn_blocking(move || {
                    catalogue_window(&mut conn, &buyer, window, &done)
                })
            };
            let beside_run = run(&server, 1, window).await;
            crowd_done.store(true, Ordering::Relaxed);
            let (times, seconds) = timing.await??;
            anyhow::Ok((runs, CatalogueTimes::of(times, seconds), beside_run?))
        }
        .await;
        server.stop().await;
        result
    })?;
    Ok(CrowdReport {
        rows,
        accepted,
        import_seconds,
        alone,
        runs,
        beside_crowd,
        beside_run,
    })
}

/// Milliseconds of the mixes' first pages, round after round, until `window` closes or
/// the crowd is done; with the seconds that took.
fn catalogue_window(
    conn: &mut crate::db::AnyConnection,
    buyer: &str,
    window: Duration,
    crowd_done: &AtomicBool,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let mut parsed = Vec::new();
    for mix in super::market::MIXES {
        parsed.push(super::market::filter(mix)?);
    }
    let started = Instant::now();
    let mut times = Vec::new();
    let rules = crate::services::market::rules(conn)?;
    'window: loop {
        for filter in &parsed {
            if started.elapsed() >= window || crowd_done.load(Ordering::Relaxed) {
                break 'window;
            }
            let t = Instant::now();
            store::catalogue::page(conn, buyer, filter, &rules.tree, store::now())?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok((times, started.elapsed().as_secs_f64()))
}

/// All the buyers at once, each buying `quantity` by the shared filter until `limit` or
/// until nothing matching at `MAX_PRICE_CENTS` is left for it.
async fn run(server: &Server, quantity: usize, limit: Duration) -> anyhow::Result<CrowdRun> {
    let started = Instant::now();
    let deadline = started + limit;
    let mut tasks = Vec::new();
    for token in &server.tokens {
        tasks.push(tokio::spawn(buy_by_filter(
            server.client.clone(),
            server.base.clone(),
            token.clone(),
            quantity,
            deadline,
        )));
    }
    let mut total = Tally::default();
    for task in tasks {
        let t = task.await?;
        total.requests += t.requests;
        total.bought += t.bought;
        total.refused_while_available += t.refused_while_available;
        total.refused_sold_out += t.refused_sold_out;
        total.stopped_by_time += t.stopped_by_time;
        total.failed += t.failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        total.failed == 0,
        "{} purchase requests failed",
        total.failed
    );
    Ok(CrowdRun {
        quantity,
        seconds,
        requests: total.requests,
        bought: total.bought,
        refused_while_available: total.refused_while_available,
        refused_sold_out: total.refused_sold_out,
        stopped_by_time: total.stopped_by_time,
    })
}

/// One buyer's requests, one after the other. A 409 is told apart by the buyer's own
/// catalogue right after it: matching leads still shown, or none left (then it stops).
async fn buy_by_filter(
    client: reqwest::Client,
    base: String,
    token: String,
    quantity: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let body = serde_json::json!({
        "filter": { "segment": SHARED_FILTER },
        "quantity": quantity,
        "max_price_cents": MAX_PRICE_CENTS,
    });
    loop {
        if Instant::now() >= deadline {
            tally.stopped_by_time = 1;
            break;
        }
        tally.requests += 1;
        let response = client
            .post(format!("{base}/api/v1/purchases"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(_) => {
                tally.failed += 1;
                break;
            }
        };
        match response.status().as_u16() {
            201 => match response.json::<serde_json::Value>().await {
                Ok(b) => tally.bought += b["filled"].as_u64().unwrap_or(0) as usize,
                Err(_) => {
                    tally.failed += 1;
                    break;
                }
            },
            409 => match matching_left(&client, &base, &token).await {
                Some(0) => {
                    tally.refused_sold_out += 1;
                    break;
                }
                Some(_) => tally.refused_while_available += 1,
                None => {
                    tally.failed += 1;
                    break;
                }
            },
            _ => {
                tally.failed += 1;
                break;
            }
        }
    }
    tally
}

/// The buyer's catalogue `total` for the shared filter.
async fn matching_left(client: &reqwest::Client, base: &str, token: &str) -> Option<u64> {
    let body: serde_json::Value = client
        .get(format!("{base}/api/v1/catalogue?segment={SHARED_FILTER}&max_price_cents={MAX_PRICE_CENTS}&limit=1"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .json()
        .await
        .ok()?;
    body["total"].as_u64()
}
