//! `leadmarket bench intake`: end-to-end intake throughput on a scratch database. It
//! writes N generated rows (10% bad, 5% duplicates) to a CSV file, then times the same
//! pipeline `import` uses (parse, validate, pseudo-lead checks, dedup, insert) and reports
//! rows/s and the process's peak resident memory.

use std::time::Instant;

use crate::config::Config;
use crate::db::{self, AnyConnection, DatabaseUrl, scratch::ScratchDb};
use crate::services::intake::{self, IntakeSettings};
use crate::store;

pub struct Report {
    pub rows: usize,
    pub seconds: f64,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub peak_rss_mb: Option<f64>,
    /// With `--ceiling`: how fast the database alone stored the same leads.
    pub ceiling: Option<Ceiling>,
}

/// The database's own speed at storing the leads a run accepted, into the same table
/// with every index, check and foreign key: what intake's writer cannot beat.
pub struct Ceiling {
    pub leads: i64,
    pub seconds: f64,
}

/// Runs the benchmark on a scratch database of `base`'s backend (a SQLite temp file, or
/// a new database on `base`'s PostgreSQL server), dropped afterwards.
pub fn intake(
    config: &Config,
    base: &DatabaseUrl,
    rows: usize,
    ceiling: bool,
) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("bench.csv");
    super::data::intake_csv(&csv, rows)?;
    let scratch = ScratchDb::beside(base, "bench")?;
    let (pool, agency) = super::prepare(&scratch, 4)?;
    let conn = &mut *pool.get()?;
    let input = intake::BatchInput {
        segment: Some("insurance.car".into()),
        channel: Some("web_form".into()),
        price_cents: Some(2500),
        consent_text: Some("I agree".into()),
        ..Default::default()
    };
    let batch = intake::prepare_batch(conn, &agency.id, &input, "import", Some("bench.csv"), None)?;
    store::batches::insert(conn, &batch)?;
    let started = Instant::now();
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&csv)?);
    intake::run_file(conn, &config.intake, &batch, file, |_, _| Ok(true))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let done = store::batches::find(conn, &batch.id)?;
    let peak_rss_mb = super::peak_rss_mb();
    let ceiling = if ceiling {
        Some(engine_ceiling(conn, &config.intake)?)
    } else {
        None
    };
    Ok(Report {
        rows,
        seconds,
        accepted: done.accepted,
        rejected: done.rejected,
        duplicates: done.duplicates,
        peak_rss_mb,
        ceiling,
    })
}

/// Copies the stored leads aside, empties the table and copies them back with plain
/// `INSERT ... SELECT` in intake's transaction size and page cache: no parsing, no
/// look-ups, no application code, only the table's own indexes, checks and foreign keys.
fn engine_ceiling(conn: &mut AnyConnection, settings: &IntakeSettings) -> anyhow::Result<Ceiling> {
    db::bench::copy_leads_aside(conn)?;
    db::bench::empty_leads(conn)?;
    db::set_sqlite_cache_kib(conn, settings.sqlite_cache_kib)?;
    let started = Instant::now();
    let mut leads = 0i64;
    loop {
        let moved = db::bench::restore_leads(conn, settings.commit_rows)?;
        if moved == 0 {
            break;
        }
        leads += moved as i64;
    }
    let seconds = started.elapsed().as_secs_f64();
    db::set_sqlite_cache_kib(conn, db::SQLITE_CACHE_KIB)?;
    Ok(Ceiling { leads, seconds })
}
