//! `leadmarket bench funnel`: the funnel of one agency with N leads over 90 days through
//! `GET /api/v1/funnel`, by every grouping, after the job loop's rollup has counted them.

use std::time::Instant;

use super::market::percentile;
use super::purchases::{Server, runtime};
use crate::config::Config;
use crate::db::{DatabaseUrl, scratch::ScratchDb};
use crate::domain::funnel::GroupBy;
use crate::services::{self, accounts};
use crate::store;

pub struct FunnelReport {
    pub leads: usize,
    pub batches: usize,
    pub seed_seconds: f64,
    /// The rollup's first count of every batch (a new deployment's first run).
    pub refresh_seconds: f64,
    /// A run with nothing new: what every later tick costs when no lead was sold.
    pub idle_refresh_ms: f64,
    /// Per grouping: p50 and p99 in ms over the requests.
    pub by_grouping: Vec<(GroupBy, f64, f64)>,
    pub all_ms: (f64, f64),
    pub requests: usize,
}

/// Requests per grouping.
const REQUESTS: usize = 40;

pub fn funnel(config: &Config, base: &DatabaseUrl, leads: usize) -> anyhow::Result<FunnelReport> {
    let scratch = ScratchDb::beside(base, "bench")?;
    let (pool, agency) = super::prepare(&scratch, 8)?;
    let mut conn = pool.get()?;
    let now = store::now();
    let started = Instant::now();
    // Batches of 2,000 uploaded over the last 80 days (`demo::make_batch`).
    super::data::market_leads(&mut conn, &agency.id, leads, now)?;
    crate::db::refresh_planner_stats(&mut conn, &["leads", "batches"])?;
    let seed_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let batches = services::funnel::refresh(&mut conn, "bench")?
        .ok_or_else(|| anyhow::anyhow!("the rollup's lease was taken"))?;
    let refresh_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    services::funnel::refresh(&mut conn, "bench")?;
    let idle_refresh_ms = started.elapsed().as_secs_f64() * 1000.0;
    crate::db::refresh_planner_stats(&mut conn, &["funnel_counts"])?;

    let key = accounts::create_api_key(&mut conn, &agency.id, "bench", None)?.secret;
    drop(conn);
    let to = now.date();
    let from = to - chrono::TimeDelta::days(89);
    let rt = runtime()?;
    let (by_grouping, all) = rt.block_on(async {
        let server = Server::start(config, scratch.url(), &[key]).await?;
        let mut by_grouping = Vec::new();
        let mut all = Vec::new();
        for g in GroupBy::ALL {
            let url = format!(
                "{}/api/v1/funnel?from={from}&to={to}&group_by={}",
                server.base,
                g.as_str()
            );
            let mut times = Vec::new();
            for _ in 0..REQUESTS {
                let t = Instant::now();
                let resp = server
                    .client
                    .get(&url)
                    .bearer_auth(&server.tokens[0])
                    .send()
                    .await?
                    .error_for_status()?;
                let body: serde_json::Value = resp.json().await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                let leads_counted = body["steps"][2]["count"].as_u64().unwrap_or(0);
                anyhow::ensure!(
                    leads_counted as usize == leads,
                    "the funnel counted {leads_counted} of {leads} leads"
                );
            }
            times.sort_by(f64::total_cmp);
            by_grouping.push((*g, percentile(&times, 0.5), percentile(&times, 0.99)));
            all.extend(times);
        }
        server.stop().await;
        all.sort_by(f64::total_cmp);
        anyhow::Ok((by_grouping, all))
    })?;
    Ok(FunnelReport {
        leads,
        batches,
        seed_seconds,
        refresh_seconds,
        idle_refresh_ms,
        by_grouping,
        all_ms: (percentile(&all, 0.5), percentile(&all, 0.99)),
        requests: all.len(),
    })
}
