//! What the benches measure, generated from fixed seeds so runs compare: intake's CSV
//! rows (with a share of bad and repeated ones) and the market's seeded leads.

use std::io::Write as _;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::db::{self, AnyConnection};
use crate::demo::geo;
use crate::domain::time::rfc3339;
use crate::services::market;
use crate::store;

/// Writes `rows` lead rows: 10% carry an error, 5% repeat an earlier contact.
pub fn intake_csv(path: &Path, rows: usize) -> std::io::Result<()> {
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
            rfc3339(consent.naive_utc()),
            rfc3339(captured.naive_utc()),
            rng.random_bool(0.4),
            rng.random_range(0..255),
            rng.random_range(0..255),
            rng.random_range(1..255),
            rng.random_range(8..300),
        )?;
    }
    out.flush()
}

/// Stores `count` demo leads of `agency_id` priced at today's list prices, in batches
/// of 2,000, one write transaction each.
pub fn market_leads(
    conn: &mut AnyConnection,
    agency_id: &str,
    count: usize,
    now: chrono::NaiveDateTime,
) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let countries = ["GB", "DE", "FR", "ES", "IT", "NL", "PL", "US"];
    let rules = market::rules(conn)?;
    let mut written = 0;
    while written < count {
        let n = 2000.min(count - written);
        let (batch, mut leads) = crate::demo::make_batch(&mut rng, agency_id, &countries, n, now);
        for l in &mut leads {
            l.list_price_cents = market::list_price(l, batch.price_cents, &rules, now);
        }
        db::write_transaction(conn, |c| -> anyhow::Result<()> {
            store::batches::insert(c, &batch)?;
            store::leads::insert_many(c, &leads)?;
            Ok(())
        })?;
        written += n;
    }
    Ok(())
}
