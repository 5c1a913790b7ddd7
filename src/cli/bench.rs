//! `bench market`, `bench intake`, `bench orders`, `bench ping` and `bench funnel`.

use super::support::{CliError, config};
use crate::config::MissingSecrets;

/// With `crowd` (its time limit per run, in seconds), the crowd's report follows.
pub fn market(leads: usize, keep: bool, crowd: Option<u64>) -> Result<(), CliError> {
    let config = config(MissingSecrets::Generate)?;
    let r = crate::bench::market(&config, &config.database_url, leads, keep)
        .map_err(CliError::Other)?;
    println!(
        "market on {} with {} leads (seeded in {:.1} s): catalogue first page p50 {:.1} ms p99 {:.1} ms; deep page (21st) p50 {:.1} ms p99 {:.1} ms; purchases {:.0}/s with 16 buyers ({} bought, {} refused)",
        if config.database_url.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        r.leads,
        r.seed_seconds,
        r.first_page_ms.0,
        r.first_page_ms.1,
        r.deep_page_ms.0,
        r.deep_page_ms.1,
        r.purchases_per_second,
        r.purchase_outcomes.0,
        r.purchase_outcomes.1
    );
    if let Some(kept) = r.kept {
        println!("the database is kept: {kept}");
    }
    let Some(seconds) = crowd else {
        return Ok(());
    };
    let c = crate::bench::crowd(&config, &config.database_url, leads, seconds)
        .map_err(CliError::Other)?;
    println!(
        "crowd: {} rows imported in {:.1} s ({} accepted); catalogue over the 20 mixes in the {:.1} s after the import, alone: p50 {:.1} ms p99 {:.1} ms ({} queries)",
        c.rows,
        c.import_seconds,
        c.accepted,
        c.alone.seconds,
        c.alone.ms.0,
        c.alone.ms.1,
        c.alone.queries,
    );
    for r in &c.runs {
        println!("crowd of 16 buyers by one filter, {}", crowd_run(r));
    }
    println!(
        "catalogue beside the crowd: p50 {:.1} ms p99 {:.1} ms ({} queries in {:.1} s); meanwhile the crowd, {}",
        c.beside_crowd.ms.0,
        c.beside_crowd.ms.1,
        c.beside_crowd.queries,
        c.beside_crowd.seconds,
        crowd_run(&c.beside_run)
    );
    Ok(())
}

fn crowd_run(r: &crate::bench::CrowdRun) -> String {
    format!(
        "quantity {}: {} bought in {:.1} s = {:.0} leads/s, {:.0} requests/s ({} requests); refused {} while matching leads remained, {} after they ran out, {} still buying when time was up",
        r.quantity,
        r.bought,
        r.seconds,
        r.bought as f64 / r.seconds,
        r.requests as f64 / r.seconds,
        r.requests,
        r.refused_while_available,
        r.refused_sold_out,
        r.stopped_by_time
    )
}

pub fn intake(rows: usize, ceiling: bool) -> Result<(), CliError> {
    let config = config(MissingSecrets::Generate)?;
    let report = crate::bench::intake(&config, &config.database_url, rows, ceiling)
        .map_err(CliError::Other)?;
    println!(
        "intake on {}: {} rows in {:.2} s = {:.0} rows/s ({} accepted, {} rejected, {} duplicates); peak RSS {}",
        if config.database_url.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        report.rows,
        report.seconds,
        report.rows as f64 / report.seconds,
        report.accepted,
        report.rejected,
        report.duplicates,
        report
            .peak_rss_mb
            .map(|m| format!("{m:.0} MB"))
            .unwrap_or_else(|| "unknown".into())
    );
    match report.ceiling {
        Some(c) if c.leads > 0 => {
            let leads_per_s = c.leads as f64 / c.seconds;
            // Input rows/s the database alone would allow at this run's acceptance.
            let rows_per_s = leads_per_s * report.rows as f64 / c.leads as f64;
            println!(
                "the database alone stored the {} leads in {:.2} s = {:.0} leads/s, {:.0} input rows/s at this acceptance; intake ran at {:.0}% of that",
                c.leads,
                c.seconds,
                leads_per_s,
                rows_per_s,
                100.0 * (report.rows as f64 / report.seconds) / rows_per_s
            );
        }
        Some(_) => {
            println!("no lead was accepted: nothing for the database alone to store")
        }
        None => {}
    }
    Ok(())
}

pub fn orders(leads: usize, clients: usize, seconds: u64) -> Result<(), CliError> {
    let config = config(MissingSecrets::Generate)?;
    let r = crate::bench::orders(&config, &config.database_url, leads, clients, seconds)
        .map_err(CliError::Other)?;
    println!(
        "orders on {} with {} leads and {} active standing orders (seeded in {:.1} s): {} single-lead posts from {} clients in {:.1} s = {:.0} posts/s; POST /leads to the committed sale p50 {:.1} ms p99 {:.1} ms; {} leads sold to orders ({} sales); {} posts failed; callbacks: {} of {} sales arrived, sale to callback p50 {:.1} ms p99 {:.1} ms",
        if config.database_url.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        r.leads,
        r.orders,
        r.seed_seconds,
        r.posts,
        clients,
        r.seconds,
        r.posts as f64 / r.seconds,
        r.post_ms.0,
        r.post_ms.1,
        r.sold_leads,
        r.sales,
        r.failed,
        r.callbacks,
        r.callback_sales,
        r.callback_ms.0,
        r.callback_ms.1
    );
    Ok(())
}

pub fn ping(leads: usize, clients: usize, seconds: u64) -> Result<(), CliError> {
    let config = config(MissingSecrets::Generate)?;
    let r = crate::bench::ping(&config, &config.database_url, leads, clients, seconds)
        .map_err(CliError::Other)?;
    println!(
        "ping on {} with {} leads and {} active standing orders (seeded in {:.1} s): {} pings from {} clients in {:.1} s = {:.0} pings/s; POST /ping to the committed auction p50 {:.2} ms p99 {:.2} ms; {} offers; {} pings failed",
        if config.database_url.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        r.leads,
        r.orders,
        r.seed_seconds,
        r.pings,
        clients,
        r.seconds,
        r.pings as f64 / r.seconds,
        r.ping_ms.0,
        r.ping_ms.1,
        r.offers,
        r.failed
    );
    Ok(())
}

pub fn funnel(leads: usize) -> Result<(), CliError> {
    let config = config(MissingSecrets::Generate)?;
    let r = crate::bench::funnel(&config, &config.database_url, leads).map_err(CliError::Other)?;
    println!(
        "funnel on {} of one agency with {} leads in {} batches over 90 days (seeded in {:.1} s): rollup first count {:.1} s, idle run {:.1} ms; GET /api/v1/funnel over 90 days p50 {:.1} ms p99 {:.1} ms ({} requests)",
        if config.database_url.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        r.leads,
        r.batches,
        r.seed_seconds,
        r.refresh_seconds,
        r.idle_refresh_ms,
        r.all_ms.0,
        r.all_ms.1,
        r.requests
    );
    for (g, p50, p99) in &r.by_grouping {
        println!("  group_by={g}: p50 {p50:.1} ms p99 {p99:.1} ms");
    }
    Ok(())
}
