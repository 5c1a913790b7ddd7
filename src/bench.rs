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
    /// With `--ceiling`: how fast the database alone stored the same leads.
    pub ceiling: Option<Ceiling>,
}

/// The database's own speed at storing the leads a run accepted, into the same table
/// with every index, check and foreign key: what intake's writer cannot beat.
pub struct Ceiling {
    pub leads: i64,
    pub seconds: f64,
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
pub fn intake(
    config: &Config,
    base: &DatabaseUrl,
    rows: usize,
    ceiling: bool,
) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("bench.csv");
    generate_csv(&csv, rows)?;
    let (url, cleanup) = fresh_database(base, dir.path())?;
    let result = (|| {
        let (pool, agency) = prepare(&url, 4)?;
        let mut conn = pool.get()?;
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
        let peak_rss_mb = peak_rss_mb();
        let ceiling = if ceiling {
            Some(engine_ceiling(&mut conn, &config.intake)?)
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
    })();
    drop_database(cleanup);
    result
}

/// Copies the stored leads aside, empties the table and copies them back with plain
/// `INSERT ... SELECT` in intake's transaction size and page cache: no parsing, no
/// look-ups, no application code, only the table's own indexes, checks and foreign keys.
fn engine_ceiling(
    conn: &mut db::AnyConnection,
    settings: &intake::IntakeSettings,
) -> anyhow::Result<Ceiling> {
    conn.batch_execute(
        "CREATE TABLE ceiling_leads AS SELECT * FROM leads; \
         CREATE INDEX ceiling_leads_id_idx ON ceiling_leads (id);",
    )?;
    db::empty_bench_leads(conn)?;
    db::set_sqlite_cache_kib(conn, settings.sqlite_cache_kib)?;
    // Each statement commits on its own, `commit_rows` leads at a time, in id order
    // (the order intake wrote them).
    let step = format!(
        "INSERT INTO leads SELECT * FROM ceiling_leads \
         WHERE id > COALESCE((SELECT MAX(id) FROM leads), '') ORDER BY id LIMIT {}",
        settings.commit_rows.max(1)
    );
    let started = Instant::now();
    let mut leads = 0i64;
    loop {
        let moved = diesel::sql_query(&step).execute(conn)?;
        if moved == 0 {
            break;
        }
        leads += moved as i64;
    }
    let seconds = started.elapsed().as_secs_f64();
    db::set_sqlite_cache_kib(conn, db::SQLITE_CACHE_KIB)?;
    Ok(Ceiling { leads, seconds })
}

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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Catalogue latency and purchase throughput on a fresh database with `leads` leads:
/// 20 filter mixes, each as a first page and as a deep page (after 20 pages of 50),
/// then 16 buyers buying single leads over HTTP, each its own share of 4,000.
/// With `keep`, the database stays afterwards (a SQLite file in the working directory)
/// for looking at query plans; `MarketReport::kept` names it.
pub fn market(
    config: &Config,
    base: &DatabaseUrl,
    lead_count: usize,
    keep: bool,
) -> anyhow::Result<MarketReport> {
    use crate::domain::catalogue::{self, RawFilter};
    let dir = tempfile::tempdir()?;
    let kept_dir = std::env::current_dir()?;
    let (url, cleanup) = fresh_database(base, if keep { &kept_dir } else { dir.path() })?;
    let url = match url {
        DatabaseUrl::Sqlite(_) if keep => DatabaseUrl::Sqlite(kept_dir.join(format!(
            "leadmarket-bench-{}.db",
            uuid::Uuid::new_v4().simple()
        ))),
        other => other,
    };
    let kept = keep.then(|| url.redacted());
    let result = (|| {
        let (pool, agency) = prepare(&url, 20)?;
        let mut conn = pool.get()?;
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let now = store::now();
        let countries = ["GB", "DE", "FR", "ES", "IT", "NL", "PL", "US"];
        let mut written = 0;
        let rules = crate::services::market::rules(&mut conn)?;
        while written < lead_count {
            let n = 2000.min(lead_count - written);
            let (batch, mut leads) =
                crate::demo::make_batch(&mut rng, &agency.id, &countries, n, now);
            for l in &mut leads {
                l.list_price_cents =
                    crate::services::market::list_price(l, batch.price_cents, &rules, now);
            }
            crate::db::write_transaction(&mut conn, |c| -> anyhow::Result<()> {
                store::batches::insert(c, &batch)?;
                store::leads::insert_many(c, &leads)?;
                Ok(())
            })?;
            written += n;
        }
        // Planner statistics of the seeded tables, as a live database has them. Not of
        // the still empty ledger and purchase tables: PostgreSQL would plan (and keep, in
        // its cached foreign-key checks) sequential scans of them for the whole run,
        // which a live database, analysed as it grows, does not do.
        conn.batch_execute("ANALYZE leads; ANALYZE batches;")?;
        // Every list price above is today's, so today's repricing is done. Left undone, the
        // server's daily repricing pass walked all the seeded leads (at 1M, 1,000 chunks
        // of 1,000) while the purchases were timed; a live marketplace does that once a
        // day, not in every measurement.
        store::pricing::set_priced_on(&mut conn, now.date())?;
        let seed_seconds = started.elapsed().as_secs_f64();
        let mut buyers = Vec::new();
        for i in 0..16 {
            let org = accounts::create_organisation(
                &mut conn,
                OrgKind::Buyer,
                &format!("Bench Buyer {i}"),
                Some(&format!("bench-buyer-{i}")),
            )?;
            crate::services::market::set_credit_limit(&mut conn, &org.slug, i64::MAX / 4)?;
            buyers.push(org.id);
        }
        let mixes = [
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
        let mut first = Vec::new();
        let mut deep = Vec::new();
        for mix in mixes {
            let raw = RawFilter::from_query(mix).map_err(|p| anyhow::anyhow!("{p:?}"))?;
            let mut parsed = catalogue::parse(&raw).map_err(|p| anyhow::anyhow!("{p:?}"))?;
            for page in 0..21 {
                let t = Instant::now();
                let result = store::catalogue::page(&mut conn, &buyers[0], &parsed, now)?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                match page {
                    0 => first.push(ms),
                    20 => deep.push(ms),
                    _ => {}
                }
                if page == 0 || page == 20 {
                    tracing::debug!(mix, page, ms, total = result.total, "catalogue query");
                }
                let Some(last) = result.rows.last() else {
                    break;
                };
                parsed.cursor = Some(catalogue::Cursor::after(
                    parsed.sort,
                    last.captured_at,
                    last.score,
                    last.list_price_cents,
                    &last.id,
                ));
            }
        }
        first.sort_by(f64::total_cmp);
        deep.sort_by(f64::total_cmp);
        // Candidate leads for the purchase run, newest first, in pages of 500.
        let mut parsed = catalogue::parse(
            &RawFilter::from_query("limit=500").map_err(|p| anyhow::anyhow!("{p:?}"))?,
        )
        .map_err(|p| anyhow::anyhow!("{p:?}"))?;
        let mut candidates: Vec<String> = Vec::new();
        while candidates.len() < PURCHASE_CANDIDATES {
            let page = store::catalogue::page(&mut conn, &buyers[0], &parsed, now)?;
            let Some(last) = page.rows.last() else {
                break;
            };
            parsed.cursor = Some(catalogue::Cursor::after(
                parsed.sort,
                last.captured_at,
                last.score,
                last.list_price_cents,
                &last.id,
            ));
            candidates.extend(page.rows.into_iter().map(|r| r.id));
        }
        let mut keys = Vec::new();
        for buyer in &buyers {
            keys.push(accounts::create_api_key(&mut conn, buyer, "bench", None)?.secret);
        }
        drop(conn);
        let (ok, refused, seconds) = purchases_over_http(config, &url, &keys, &candidates)?;
        Ok(MarketReport {
            leads: lead_count,
            seed_seconds,
            first_page_ms: (percentile(&first, 0.5), percentile(&first, 0.99)),
            deep_page_ms: (percentile(&deep, 0.5), percentile(&deep, 0.99)),
            purchases_per_second: ok as f64 / seconds,
            purchase_outcomes: (ok, refused),
            kept,
        })
    })();
    if !keep {
        drop_database(cleanup);
    }
    result
}

/// Leads offered to the purchase run.
const PURCHASE_CANDIDATES: usize = 4000;

/// 16 buyers (one API key each) buy single leads through `POST /api/v1/purchases` on a
/// real server, all at once, each over its own sixteenth of `candidates`, so the run
/// measures purchases rather than refusals (the race for the same leads is the
/// concurrency test's job). Returns (bought, refused, seconds).
fn purchases_over_http(
    config: &Config,
    url: &DatabaseUrl,
    keys: &[String],
    candidates: &[String],
) -> anyhow::Result<(usize, usize, f64)> {
    let mut app_config = config.clone();
    app_config.database_url = url.clone();
    app_config.bind = "127.0.0.1:0".into();
    app_config.db_pool_size = app_config.db_pool_size.max(16);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = crate::app::Application::build(app_config)?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let stop = app.stop_handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let mut tokens = Vec::new();
        for key in keys {
            let body: serde_json::Value = client
                .post(format!("{base}/api/v1/auth/token"))
                .json(&serde_json::json!({ "api_key": key }))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let token = body["access_token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("no access token in {body}"))?;
            tokens.push(token.to_string());
        }
        let t = Instant::now();
        let mut tasks = Vec::new();
        for (i, token) in tokens.into_iter().enumerate() {
            let (client, base) = (client.clone(), base.clone());
            let wanted: Vec<String> = candidates
                .iter()
                .enumerate()
                .filter(|(n, _)| n % keys.len() == i)
                .map(|(_, id)| id.clone())
                .collect();
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut refused, mut failed) = (0usize, 0usize, 0usize);
                for lead in wanted {
                    let status = client
                        .post(format!("{base}/api/v1/purchases"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "lead_ids": [lead] }))
                        .send()
                        .await
                        .map(|r| r.status().as_u16());
                    match status {
                        Ok(201) => ok += 1,
                        Ok(402 | 409) => refused += 1,
                        _ => failed += 1,
                    }
                }
                (ok, refused, failed)
            }));
        }
        let (mut ok, mut refused, mut failed) = (0, 0, 0);
        for task in tasks {
            let (o, r, f) = task.await?;
            (ok, refused, failed) = (ok + o, refused + r, failed + f);
        }
        let seconds = t.elapsed().as_secs_f64();
        stop.stop(true).await;
        anyhow::ensure!(failed == 0, "{failed} purchase requests failed");
        Ok((ok, refused, seconds))
    })
}

/// A migrated pool on the fresh database, with the agency whose leads are measured.
fn prepare(
    url: &DatabaseUrl,
    pool_size: u32,
) -> anyhow::Result<(db::Pool, crate::store::organisations::OrganisationRow)> {
    let pool = db::connect_pool(url, pool_size)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let agency = accounts::create_organisation(
        &mut conn,
        OrgKind::Agency,
        "Bench Agency",
        Some("bench-agency"),
    )?;
    Ok((pool, agency))
}

/// A fresh database beside `base`: a temp SQLite file, or a new PostgreSQL database.
fn fresh_database(
    base: &DatabaseUrl,
    dir: &std::path::Path,
) -> anyhow::Result<(DatabaseUrl, Option<(String, String)>)> {
    Ok(match base {
        DatabaseUrl::Sqlite(_) => (DatabaseUrl::Sqlite(dir.join("bench.db")), None),
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
    })
}

fn drop_database(cleanup: Option<(String, String)>) {
    if let Some((server, name)) = cleanup
        && let Ok(mut admin) = diesel::PgConnection::establish(&server)
    {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}
