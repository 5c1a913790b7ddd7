//! `leadmarket bench ...`: end-to-end measurements, each on a scratch database of the
//! configured backend (`db::scratch`: a temp SQLite file, or a new PostgreSQL database on
//! the configured server, dropped afterwards). One file per bench: `intake` (rows/s of
//! the import pipeline), `market` (catalogue latency, purchase throughput over HTTP),
//! `crowd` (the market's buyers by one shared filter right after a real import), `orders`
//! (single leads posted while standing orders take them), `ping` (pings
//! while the same orders bid), `funnel` (an agency's funnel over 90 days); `data`
//! generates what they measure.

mod crowd;
mod data;
mod funnel;
mod intake;
mod market;
mod orders;
mod ping;
mod purchases;

pub use crowd::{CrowdReport, CrowdRun, crowd};
pub use funnel::{FunnelReport, funnel};
pub use intake::{Ceiling, Report, intake};
pub use market::{MarketReport, market};
pub use orders::{OrdersReport, orders};
pub use ping::{PingReport, ping};

use crate::db::{self, scratch::ScratchDb};
use crate::domain::OrgKind;
use crate::services::accounts;
use crate::store::organisations::OrganisationRow;

/// Peak resident set size of this process (`VmHWM`), where the OS tells it.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A migrated pool on the scratch database, with the agency whose leads are measured.
fn prepare(db: &ScratchDb, pool_size: u32) -> anyhow::Result<(db::Pool, OrganisationRow)> {
    let pool = db.migrated_pool(pool_size)?;
    let agency = accounts::create_organisation(
        &mut *pool.get()?,
        OrgKind::Agency,
        "Bench Agency",
        Some("bench-agency"),
    )?;
    Ok((pool, agency))
}
