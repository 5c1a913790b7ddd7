//! `leadmarket bench intake`: end-to-end intake throughput on a fresh database. It
//! writes N generated rows (10% bad, 5% duplicates) to a CSV file, then times the same
//! pipeline `import` uses (parse, validate, pseudo-lead checks, dedup, insert) and reports
//! rows/s and the process's peak resident memory.

use std::io::Write as _;
use std::time::Instant;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Config;
use crate::db::{self, DatabaseUrl};
use crate::demo::geo;
use crate::domain::OrgKind;
use crate::services::{accounts, intake};
use crate::store;

pub struct Report {
    pub rows: usize,
    pub seconds: f64,
    pub accepted: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub peak_rss_mb: Option<f64>,
}

/// Peak resident set size of this process (`VmHWM`), where the OS tells it.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Writes `rows` lead rows: 10% carry an error, 5% repeat an earlier contact.
pub fn generate_csv(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "first_name,last_name,email,phone,age,annual_income,country,region,city,postal_code,warmth,contact_type,consent_at,captured_at,verified,ip,form_seconds"
    )?;
    let now = chrono::Utc::now();
    let mut recent: Vec<(String, String)> = Vec::new();
    for i in 0..rows {
        let country = geo::pick(geo::COUNTRIES, &mut rng);
        let first = *geo::pick(country.first_names, &mut rng);
        let last = *geo::pick(country.last_names, &mut rng);
        let region = geo::pick(country.regions, &mut rng);
        let city = geo::pick(region.cities, &mut rng);
        let plan: &&str = geo::pick(country.mobiles, &mut rng);
        let (mut email, mut phone) = (
            format!(
                "{}.{}{}@{}",
                geo::ascii_fold(first),
                geo::ascii_fold(last),
                i,
                geo::pick(geo::EMAIL_DOMAINS, &mut rng)
            ),
            geo::fill(plan, &mut rng),
        );
        let roll = rng.random_range(0..100);
        if roll < 5 && !recent.is_empty() {
            (email, phone) = recent[rng.random_range(0..recent.len())].clone();
        } else if recent.len() < 10_000 {
            recent.push((email.clone(), phone.clone()));
        } else {
            let slot = rng.random_range(0..recent.len());
            recent[slot] = (email.clone(), phone.clone());
        }
        let mut age = rng.random_range(18..80).to_string();
        if (5..15).contains(&roll) {
            // The bad tenth: a mix of the usual mistakes.
            match roll % 3 {
                0 => email = email.replace('@', " at "),
                1 => age = "17".into(),
                _ => phone = "12345".into(),
            }
        }
        let captured = now - chrono::TimeDelta::minutes(rng.random_range(10..60 * 24 * 20));
        let consent = captured - chrono::TimeDelta::seconds(30);
        writeln!(
            out,
            "{first},{last},{email},{phone},{age},{},{},{},{},{},{},{},{},{},{},10.{}.{}.{},{}",
            rng.random_range(15_000..150_000),
            country.code,
            region.name,
            city.name,
            geo::fill(city.postal, &mut rng),
            ["cold", "warm", "hot"][rng.random_range(0..3)],
            ["quick", "registration", "promotional", "interested"][rng.random_range(0..4)],
            consent.format("%Y-%m-%dT%H:%M:%SZ"),
            captured.format("%Y-%m-%dT%H:%M:%SZ"),
            rng.random_bool(0.4),
            rng.random_range(0..255),
            rng.random_range(0..255),
            rng.random_range(1..255),
            rng.random_range(8..300),
        )?;
    }
    out.flush()
}

/// Runs the benchmark against `base_url`: a SQLite path (a fresh file is made beside
/// it) or a PostgreSQL server URL (a fresh database is created and dropped).
pub fn intake(config: &Config, base: &DatabaseUrl, rows: usize) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("bench.csv");
    generate_csv(&csv, rows)?;
    let (url, cleanup) = match base {
        DatabaseUrl::Sqlite(_) => (DatabaseUrl::Sqlite(dir.path().join("bench.db")), None),
        DatabaseUrl::Postgres(server) => {
            let name = format!("lm_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(server)?;
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
            let (head, _) = server
                .rsplit_once('/')
                .ok_or_else(|| anyhow::anyhow!("the PostgreSQL URL needs a database name"))?;
            (
                DatabaseUrl::Postgres(format!("{head}/{name}")),
                Some((server.clone(), name)),
            )
        }
    };
    let result = (|| {
        let pool = db::connect_pool(&url, 4)?;
        let mut conn = pool.get()?;
        db::run_migrations(&mut conn)?;
        let agency = accounts::create_organisation(
            &mut conn,
            OrgKind::Agency,
            "Bench Agency",
            Some("bench-agency"),
        )?;
        let input = intake::BatchInput {
            segment: Some("insurance.car".into()),
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
            Some("bench.csv"),
            None,
        )?;
        store::batches::insert(&mut conn, &batch)?;
        let started = Instant::now();
        let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&csv)?);
        intake::run_file(&mut conn, &config.intake, &batch, file, |_, _| Ok(true))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        let done = store::batches::find(&mut conn, &batch.id)?;
        Ok(Report {
            rows,
            seconds,
            accepted: done.accepted,
            rejected: done.rejected,
            duplicates: done.duplicates,
            peak_rss_mb: peak_rss_mb(),
        })
    })();
    if let Some((server, name)) = cleanup
        && let Ok(mut admin) = diesel::PgConnection::establish(&server)
    {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
    result
}
