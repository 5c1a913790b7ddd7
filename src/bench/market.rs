//! `leadmarket bench market`: catalogue latency and purchase throughput on a scratch
//! database with N seeded leads.

use std::time::Instant;

use crate::config::Config;
use crate::db::{AnyConnection, DatabaseUrl, scratch::ScratchDb};
use crate::domain::OrgKind;
use crate::domain::catalogue::{self, Cursor, Parsed, RawFilter};
use crate::services::{self, accounts};
use crate::store::{self, catalogue::CataloguePage};

pub struct MarketReport {
    pub leads: usize,
    pub seed_seconds: f64,
    pub first_page_ms: (f64, f64),
    pub deep_page_ms: (f64, f64),
    pub purchases_per_second: f64,
    pub purchase_outcomes: (usize, usize),
    /// The database left behind, when asked to keep it.
    pub kept: Option<String>,
}

/// Buyers buying at once in the purchase run.
const BUYERS: usize = 16;

/// Leads offered to the purchase run.
const PURCHASE_CANDIDATES: usize = 4000;

/// The filter mixes timed, each as a first page and as a deep page.
pub(super) const MIXES: [&str; 20] = [
    "",
    "segment=insurance",
    "segment=finance.loans&warmth=hot",
    "country=GB",
    "country=DE&region=Bayern",
    "country=FR&age_min=30&age_max=45",
    "warmth=hot&warmth=warm",
    "min_score=60",
    "max_age_days=7",
    "exclusive=true",
    "segment=travel&country=ES",
    "segment=real_estate&income_min_cents=5000000",
    "contact_type=interested&verified=true",
    "sort=-score",
    "sort=-score&segment=insurance.car",
    "postal_prefix=75&country=FR",
    "country=DE&city=Berlin",
    "segment=telecom&age_max=30",
    "warmth=cold&exclusive=false",
    "segment=medical&min_score=40&sort=score",
];

/// Catalogue latency and purchase throughput on a fresh database with `lead_count`
/// leads: 20 filter mixes, each as a first page and as a deep page (after 20 pages of
/// 50), then 16 buyers buying single leads over HTTP, each its own share of 4,000.
/// With `keep`, the database stays afterwards (a SQLite file in the working directory)
/// for looking at query plans; `MarketReport::kept` names it.
pub fn market(
    config: &Config,
    base: &DatabaseUrl,
    lead_count: usize,
    keep: bool,
) -> anyhow::Result<MarketReport> {
    let mut scratch = match base {
        DatabaseUrl::Sqlite(_) if keep => ScratchDb::sqlite_file(std::env::current_dir()?.join(
            format!("leadmarket-bench-{}.db", uuid::Uuid::new_v4().simple()),
        )),
        _ => ScratchDb::beside(base, "bench")?,
    };
    if keep {
        scratch.keep();
    }
    let kept = keep.then(|| scratch.url().redacted());
    let (pool, agency) = super::prepare(&scratch, 20)?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let now = store::now();
    super::data::market_leads(&mut conn, &agency.id, lead_count, now)?;
    // Planner statistics of the seeded tables, as a live database has them. Not of the
    // still empty ledger and purchase tables: PostgreSQL would plan (and keep, in its
    // cached foreign-key checks) sequential scans of them for the whole run, which a
    // live database, analysed as it grows, does not do.
    crate::db::bench::analyze_seeded(&mut conn)?;
    // Every list price above is today's, so today's repricing is done. Left undone, the
    // server's daily repricing pass walked all the seeded leads (at 1M, 1,000 chunks of
    // 1,000) while the purchases were timed; a live marketplace does that once a day,
    // not in every measurement.
    store::pricing::set_priced_on(&mut conn, now.date())?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let buyers = buyers(&mut conn)?;
    let (first, deep) = catalogue_latency(&mut conn, &buyers[0], now)?;
    let candidates = purchase_candidates(&mut conn, &buyers[0], now)?;
    let mut keys = Vec::new();
    for buyer in &buyers {
        keys.push(accounts::create_api_key(&mut conn, buyer, "bench", None)?.secret);
    }
    drop(conn);
    let (ok, refused, seconds) =
        super::purchases::over_http(config, scratch.url(), &keys, &candidates)?;
    Ok(MarketReport {
        leads: lead_count,
        seed_seconds,
        first_page_ms: (percentile(&first, 0.5), percentile(&first, 0.99)),
        deep_page_ms: (percentile(&deep, 0.5), percentile(&deep, 0.99)),
        purchases_per_second: ok as f64 / seconds,
        purchase_outcomes: (ok, refused),
        kept,
    })
}

/// The buyers of the purchase run, each with credit enough for all of it.
pub(super) fn buyers(conn: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let mut buyers = Vec::new();
    for i in 0..BUYERS {
        let org = accounts::create_organisation(
            conn,
            OrgKind::Buyer,
            &format!("Bench Buyer {i}"),
            Some(&format!("bench-buyer-{i}")),
        )?;
        services::market::set_credit_limit(conn, &org.slug, i64::MAX / 4)?;
        buyers.push(org.id);
    }
    Ok(buyers)
}

pub(super) fn filter(query: &str) -> anyhow::Result<Parsed> {
    let raw = RawFilter::from_query(query).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    catalogue::parse(&raw).map_err(|p| anyhow::anyhow!("{p:?}"))
}

/// The cursor to the page after `page`, `None` when it was empty.
fn next_page(filter: &Parsed, page: &CataloguePage) -> Option<Cursor> {
    let last = page.rows.last()?;
    Some(Cursor::after(
        filter.sort,
        last.captured_at,
        last.score,
        last.list_price_cents,
        &last.id,
    ))
}

/// Milliseconds of each mix's first page and of its 21st, each sorted.
fn catalogue_latency(
    conn: &mut AnyConnection,
    buyer: &str,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut first = Vec::new();
    let mut deep = Vec::new();
    for mix in MIXES {
        let mut parsed = filter(mix)?;
        for page in 0..21 {
            let t = Instant::now();
            let rules = services::market::rules(conn)?;
            let result = store::catalogue::page(conn, buyer, &parsed, &rules.tree, now)?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match page {
                0 => first.push(ms),
                20 => deep.push(ms),
                _ => {}
            }
            if page == 0 || page == 20 {
                tracing::debug!(mix, page, ms, total = result.total, "catalogue query");
            }
            let Some(cursor) = next_page(&parsed, &result) else {
                break;
            };
            parsed.cursor = Some(cursor);
        }
    }
    first.sort_by(f64::total_cmp);
    deep.sort_by(f64::total_cmp);
    Ok((first, deep))
}

/// Candidate leads for the purchase run, newest first, in pages of 500.
fn purchase_candidates(
    conn: &mut AnyConnection,
    buyer: &str,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<Vec<String>> {
    let mut parsed = filter("limit=500")?;
    let mut candidates: Vec<String> = Vec::new();
    while candidates.len() < PURCHASE_CANDIDATES {
        let rules = services::market::rules(conn)?;
        let page = store::catalogue::page(conn, buyer, &parsed, &rules.tree, now)?;
        let Some(cursor) = next_page(&parsed, &page) else {
            break;
        };
        parsed.cursor = Some(cursor);
        candidates.extend(page.rows.into_iter().map(|r| r.id));
    }
    Ok(candidates)
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}
