//! Demo data: a believable marketplace seeded deterministically (fixed RNG seed) into an
//! empty database: agencies, buyers, platform staff, the segment tree (from the first
//! migration) and tens of thousands of leads across countries, segments and channels.

pub mod geo;
pub mod inbox;
mod orders;

pub use orders::seed_standing_orders;

use std::fmt::Write as _;
use std::io::Write;

use chrono::{NaiveDateTime, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::db::{AnyConnection, write_transaction};
use crate::domain::audit::Who;
use crate::domain::intake::BatchStatus;
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::password::NewPassword;
use crate::domain::scoring::{self, ContactType, ScoreInput, Warmth};
use crate::domain::{OrgKind, Role, dedup};
use crate::services::accounts;
use crate::services::market::list_price;
use crate::store::{self, batches::BatchRow, leads::NewLeadRow};

pub const SEED: u64 = 20_261_124;
pub const PASSWORD: &str = "demo-password-2026";
pub const LEADS: usize = 20_000;

struct DemoOrg {
    kind: OrgKind,
    name: &'static str,
    slug: &'static str,
    /// Users: (role, first name, email local part).
    users: &'static [(Role, &'static str, &'static str)],
    /// Agencies: home countries (weighted by repetition).
    countries: &'static [&'static str],
}

const ORGS: &[DemoOrg] = &[
    DemoOrg {
        kind: OrgKind::Platform,
        name: "Leadmarket Platform",
        slug: "leadmarket",
        users: &[
            (Role::Admin, "Alex Admin", "admin"),
            (Role::Finance, "Fiona Finance", "finance"),
        ],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Agency,
        name: "Northwind Leads",
        slug: "northwind-leads",
        users: &[(Role::Agency, "Nora Hughes", "nora")],
        countries: &["GB", "GB", "GB", "NL"],
    },
    DemoOrg {
        kind: OrgKind::Agency,
        name: "Blue Harbor Media",
        slug: "blue-harbor-media",
        users: &[
            (Role::Agency, "Ben Carter", "ben"),
            (Role::Agency, "Maya Lopez", "maya"),
        ],
        countries: &["US"],
    },
    DemoOrg {
        kind: OrgKind::Agency,
        name: "Rheinland Kontakt",
        slug: "rheinland-kontakt",
        users: &[(Role::Agency, "Jonas Weber", "jonas")],
        countries: &["DE", "DE", "DE", "PL"],
    },
    DemoOrg {
        kind: OrgKind::Agency,
        name: "Soleil Acquisition",
        slug: "soleil-acquisition",
        users: &[(Role::Agency, "Claire Martin", "claire")],
        countries: &["FR", "FR", "IT"],
    },
    DemoOrg {
        kind: OrgKind::Agency,
        name: "Iberia Growth Partners",
        slug: "iberia-growth",
        users: &[(Role::Agency, "Lucía Gómez", "lucia")],
        countries: &["ES", "ES", "IT"],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "SureCover Insurance",
        slug: "surecover",
        users: &[(Role::Buyer, "Sam Reid", "sam")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Keystone Lending",
        slug: "keystone-lending",
        users: &[(Role::Buyer, "Kate Moore", "kate")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Habitat Realty",
        slug: "habitat-realty",
        users: &[(Role::Buyer, "Hugo Laurent", "hugo")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Brightpath Academy",
        slug: "brightpath-academy",
        users: &[(Role::Buyer, "Priya Patel", "priya")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Wanderlust Tours",
        slug: "wanderlust-tours",
        users: &[(Role::Buyer, "Marco Rossi", "marco")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Motorline Dealers",
        slug: "motorline",
        users: &[(Role::Buyer, "Dana Fischer", "dana")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "Connectel Telecom",
        slug: "connectel",
        users: &[(Role::Buyer, "Tom Jansen", "tom")],
        countries: &[],
    },
    DemoOrg {
        kind: OrgKind::Buyer,
        name: "CareFirst Clinics",
        slug: "carefirst-clinics",
        users: &[(Role::Buyer, "Elena Nowak", "elena")],
        countries: &[],
    },
];

/// (segment, base price in cents range, typical channels).
const SEGMENTS: &[(&str, (i64, i64), &[&str])] = &[
    (
        "insurance.car",
        (1200, 3500),
        &["landing_page", "search_ads", "web_form"],
    ),
    (
        "insurance.health",
        (1500, 4500),
        &["landing_page", "online_consultation", "web_form"],
    ),
    (
        "insurance.travel",
        (600, 1800),
        &["popup", "email", "search_ads"],
    ),
    (
        "finance.loans",
        (2000, 6000),
        &["search_ads", "landing_page", "sms"],
    ),
    (
        "finance.deposits",
        (1500, 4000),
        &["webinar", "email", "landing_page"],
    ),
    (
        "real_estate",
        (2500, 8000),
        &["web_form", "event", "referral"],
    ),
    ("education", (800, 2500), &["webinar", "ebook", "social"]),
    ("travel", (500, 1500), &["social", "email", "popup"]),
    (
        "car_dealers",
        (1500, 5000),
        &["landing_page", "event", "cold_call"],
    ),
    ("telecom", (400, 1200), &["cold_call", "flyer", "sms"]),
    (
        "delivery_taxi",
        (200, 800),
        &["social", "popup", "word_of_mouth"],
    ),
    ("ecommerce", (200, 900), &["popup", "email", "social"]),
    (
        "mobile_apps",
        (150, 600),
        &["social", "search_ads", "popup"],
    ),
    (
        "medical",
        (1800, 5500),
        &["online_consultation", "web_form", "referral"],
    ),
];

/// The demo's operator on its invoices, where the environment names none: a seller with
/// an address and VAT id, and a bank account to pay to (an example IBAN that passes the
/// checksum and belongs to nobody).
pub fn set_demo_seller(billing: &mut crate::config::BillingConfig) {
    if billing.seller_address.is_empty() {
        billing.seller_address =
            "Leadmarket Demo GmbH\nFriedrichstrasse 123\n10117 Berlin\nGermany".into();
    }
    if billing.seller_vat_id.is_empty() {
        billing.seller_vat_id = "DE123456789".into();
    }
    if billing.bank.is_none() {
        billing.bank = Some(crate::config::BankAccount {
            holder: "Leadmarket Demo GmbH".into(),
            iban: "DE89 3704 0044 0532 0130 00".into(),
            bic: "COBADEFFXXX".into(),
        });
    }
}

/// The login lines `demo` prints: email, password, role and organisation of every user.
pub fn logins_text() -> String {
    let mut out = String::from("Demo logins (password for all: ");
    let _ = writeln!(out, "{PASSWORD}):");
    for org in ORGS {
        for (role, _, local) in org.users {
            let _ = writeln!(
                out,
                "  {:<8} {:<40} {}",
                role.as_str(),
                email_for(local, org.slug),
                org.name
            );
        }
    }
    out
}

fn email_for(local: &str, slug: &str) -> String {
    format!("{local}@{slug}.example.com")
}

/// Seeds when the database has no organisation yet; either way returns the login lines.
pub fn seed_if_empty(
    conn: &mut AnyConnection,
    config: &crate::config::Config,
    progress: &mut impl Write,
) -> anyhow::Result<String> {
    if store::organisations::count_customers(conn)? > 0 {
        let _ = writeln!(
            progress,
            "The database already has data; not seeding again."
        );
        return Ok(logins_text());
    }
    let started = std::time::Instant::now();
    let now = store::now();
    let leads = seed(conn, now, LEADS, config.commission_bp)?;
    seed_billing(conn, &crate::services::billing::Ctx::from(config), now)?;
    seed_disputes(
        conn,
        &crate::services::disputes::Settings::from(config),
        now,
    )?;
    seed_standing_orders(conn, &config.public_url, now)?;
    let _ = writeln!(
        progress,
        "Seeded {} organisations and {leads} leads in {:.1} s.",
        ORGS.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(logins_text())
}

/// Seeds everything relative to `now`; returns the number of leads written.
pub fn seed(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lead_count: usize,
    commission_bp: i64,
) -> anyhow::Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let password = NewPassword::parse(PASSWORD).map_err(anyhow::Error::msg)?;
    let mut agencies = Vec::new();
    for org in ORGS {
        // Staff join the platform organisation every install has; their demo emails keep
        // the organisation's own slug.
        let (row, slug) = if org.kind == OrgKind::Platform {
            let slug = store::organisations::PLATFORM_SLUG;
            (store::organisations::find_by_slug(conn, slug)?, slug)
        } else {
            let row = accounts::create_organisation(conn, org.kind, org.name, Some(org.slug))?;
            (row, org.slug)
        };
        for (role, name, local) in org.users {
            accounts::create_user(
                conn,
                slug,
                &email_for(local, org.slug),
                Some(name),
                *role,
                &password,
            )?;
        }
        if org.kind == OrgKind::Agency {
            agencies.push((row.id, org));
        }
    }
    let batches_per_agency = 8;
    let per_batch = lead_count.div_ceil(agencies.len() * batches_per_agency);
    let mut written = 0;
    let rules = crate::services::market::rules(conn)?;
    write_transaction(conn, |conn| -> anyhow::Result<()> {
        for (agency_id, org) in &agencies {
            for _ in 0..batches_per_agency {
                let n = per_batch.min(lead_count - written);
                if n == 0 {
                    break;
                }
                let (batch, mut leads) = make_batch(&mut rng, agency_id, org.countries, n, now);
                for l in &mut leads {
                    l.list_price_cents = list_price(l, batch.price_cents, &rules, now);
                }
                store::batches::insert(conn, &batch)?;
                store::leads::insert_many(conn, &leads)?;
                written += n;
            }
        }
        Ok(())
    })?;
    seed_purchases(conn, commission_bp, now)?;
    Ok(written)
}

/// Buyers, what they buy, their credit limit (minor units) and how many leads they took.
const BUYER_HABITS: &[(&str, &str, i64, i64)] = &[
    ("surecover", "insurance", 2_000_000, 120),
    ("keystone-lending", "finance", 1_500_000, 90),
    ("habitat-realty", "real_estate", 1_000_000, 40),
    ("brightpath-academy", "education", 500_000, 60),
    ("wanderlust-tours", "travel", 300_000, 50),
    ("motorline", "car_dealers", 800_000, 30),
    ("connectel", "telecom", 200_000, 80),
    ("carefirst-clinics", "medical", 1_200_000, 25),
];

/// Bills what the demo buyers bought as a site running for a while would have: purchases
/// spread over the last two months, each month billed the day after it ended and issued
/// then (so dates follow from the period), invoices issued, paid, partly paid and overdue,
/// some drafts of last month left for finance to review, and one agency statement paid out.
pub fn seed_billing(
    conn: &mut AnyConnection,
    ctx: &crate::services::billing::Ctx<'_>,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    use crate::domain::billing::Period;
    use crate::services::billing::{self, NewPayment};
    let last = Period::previous(now);
    let before_last = Period::previous(last.start);
    spread_purchases(conn, now, &[before_last, last])?;
    let pay = |conn: &mut AnyConnection, id: &str, amount: i64, on: NaiveDateTime, n: usize| {
        billing::record_payment(
            conn,
            ctx,
            &NewPayment {
                invoice_id: id,
                method: "bank_transfer",
                amount_cents: amount,
                received_on: on,
                reference: &format!("DEMO-TRF-{n:04}"),
                by: &Who::system(),
            },
        )
    };
    let mut n = 0;
    // The month before last: issued the day after it ended, due long ago; some paid.
    billing::run(conn, ctx, before_last)?;
    let issued_at = (before_last.end + TimeDelta::hours(10)).min(now);
    for (i, draft) in sorted_drafts(conn)?.iter().enumerate() {
        let invoice = billing::issue_at(conn, ctx, &draft.id, &Who::system(), issued_at)?;
        if i % 3 == 0 {
            n += 1;
            let on = (issued_at + TimeDelta::days(9)).min(now);
            pay(conn, &invoice.id, invoice.total_cents, on, n)?;
        }
    }
    // Last month: billed on the first of this month, issued within the last few days.
    billing::run(conn, ctx, last)?;
    let issued_at = (last.end + TimeDelta::hours(10))
        .max(now - TimeDelta::days(3))
        .min(now);
    let drafts = sorted_drafts(conn)?;
    for (i, draft) in drafts.iter().enumerate() {
        if i + 1 == drafts.len() && i > 0 {
            continue; // left as a draft for finance to review
        }
        let paid_share = match i % 3 {
            0 => 0,
            1 => 5,
            _ => 2,
        };
        let invoice = billing::issue_at(conn, ctx, &draft.id, &Who::system(), issued_at)?;
        if paid_share > 0 {
            n += 1;
            let amount = invoice.total_cents * paid_share / 5;
            pay(conn, &invoice.id, amount, now - TimeDelta::hours(2), n)?;
        }
    }
    if let Some(statement) = store::statements::list(conn, None, true)?
        .into_iter()
        .filter(|s| s.net_cents > 0)
        .min_by(|a, b| a.agency_id.cmp(&b.agency_id))
    {
        billing::mark_payout(conn, &Who::system(), &statement.id, now, "DEMO-PAYOUT-0001")?;
    }
    Ok(())
}

fn sorted_drafts(conn: &mut AnyConnection) -> anyhow::Result<Vec<store::invoices::InvoiceRow>> {
    let mut drafts: Vec<_> = store::invoices::list(conn, None, false)?
        .into_iter()
        .filter(|i| i.status == crate::domain::billing::InvoiceStatus::Draft)
        .collect();
    drafts.sort_by(|a, b| a.buyer_id.cmp(&b.buyer_id));
    Ok(drafts)
}

/// Moves two of every three purchase transactions of each buyer into `months` (the
/// month before last and last month; never before the lead's batch came in); each
/// buyer's first purchase stays today's, so the disputes seeded on it fall within the
/// return window.
fn spread_purchases(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    months: &[crate::domain::billing::Period],
) -> anyhow::Result<()> {
    let mut transactions: Vec<(String, String, NaiveDateTime)> = Vec::new();
    for (tx, buyer, batch_at) in store::purchases::with_batch_times(conn)? {
        match transactions.iter_mut().find(|(t, ..)| *t == tx) {
            Some(seen) => seen.2 = seen.2.max(batch_at),
            None => transactions.push((tx, buyer, batch_at)),
        }
    }
    let mut per_buyer: std::collections::HashMap<String, usize> = Default::default();
    write_transaction(conn, |conn| -> anyhow::Result<()> {
        for (tx, buyer, batch_at) in &transactions {
            let k = per_buyer.entry(buyer.clone()).or_default();
            *k += 1;
            // The first stays today's; then last month, the month before, today's, ...
            let month = match *k % 3 {
                _ if *k == 1 => continue,
                2 => months[months.len() - 1],
                0 => months[0],
                _ => continue,
            };
            let at = (month.start + TimeDelta::days(11) + TimeDelta::minutes(*k as i64 * 7))
                .max(*batch_at + TimeDelta::hours(1));
            if at < month.end && at < now {
                store::purchases::backdate(conn, tx, at)?;
            }
        }
        Ok(())
    })
}

/// Disputes in every state: approved by the platform and by an agency, waiting for the
/// agency, contested, escalated past the deadline, and rejected by finance.
pub fn seed_disputes(
    conn: &mut AnyConnection,
    s: &crate::services::disputes::Settings<'_>,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    use crate::services::disputes::{self, Actor};
    let buyer = Actor {
        kind: crate::domain::disputes::DisputeActor::Buyer,
        user_id: None,
    };
    let mut first_leads = Vec::new();
    for (slug, ..) in BUYER_HABITS.iter().take(6) {
        let org = store::organisations::find_by_slug(conn, slug)?;
        if let Some(lead) = store::purchases::bought_leads(conn, &org.id, None, 1)?.pop() {
            first_leads.push((org.id, lead.lead_id));
        }
    }
    let plan = [
        (
            "out_of_criteria",
            "The lead asked about travel insurance, not car insurance.",
        ),
        ("out_of_criteria", "Outside the postcode area we asked for."),
        ("competitor", "The caller works for a competing broker."),
        (
            "bot",
            "Nobody by that name at this number; the form was filled in 3 seconds.",
        ),
        ("prank", "The person laughed and hung up."),
        (
            "no_consent",
            "The person says they never agreed to be contacted.",
        ),
    ];
    for (i, ((buyer_id, lead_id), (reason, comment))) in first_leads.iter().zip(plan).enumerate() {
        if i == 0 {
            // The agency itself flagged this lead after sale: the platform approves at once.
            store::leads::add_flag(conn, lead_id, "agency_flagged")?;
        }
        let opened_at = if i == 4 {
            now - TimeDelta::days(10)
        } else {
            now
        };
        let d = disputes::open(
            conn,
            s,
            buyer_id,
            Some(lead_id),
            None,
            reason,
            comment,
            buyer,
            opened_at,
        )?;
        let agency_answer = |conn: &mut AnyConnection, accept: bool, comment: &str| {
            let answer = if accept {
                disputes::Answer::Accept
            } else {
                disputes::Answer::Contest
            };
            disputes::agency_answer(
                conn,
                s,
                &d.agency_id,
                &d.id,
                answer,
                comment,
                &Who::system(),
                now,
            )
        };
        match i {
            1 => {
                agency_answer(conn, true, "Agreed, our targeting slipped.")?;
            }
            3 => {
                agency_answer(
                    conn,
                    false,
                    "The form passed our bot checks and the phone answered.",
                )?;
            }
            5 => {
                agency_answer(conn, false, "We hold the consent record with time and IP.")?;
                disputes::finance_decide(
                    conn,
                    s,
                    &d.id,
                    false,
                    "The consent record is complete and matches the lead.",
                    &Who::system(),
                    now,
                )?;
            }
            _ => {}
        }
    }
    disputes::escalate_overdue(conn, s, now)?;
    Ok(())
}

/// Gives every demo buyer credit and lets it buy leads of its segment through the real
/// purchase path, so the ledger, sales counts and balances are what buying makes them.
/// Cheapest first: older leads too, so the purchases can be spread over past months.
fn seed_purchases(
    conn: &mut AnyConnection,
    commission_bp: i64,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    use crate::domain::catalogue::{Filter, Parsed, Sort};
    for (slug, segment, limit, wanted) in BUYER_HABITS {
        crate::services::market::set_credit_limit(conn, slug, *limit)?;
        let buyer = store::organisations::find_by_slug(conn, slug)?;
        let parsed = Parsed {
            filter: Filter {
                segment: Some(segment.to_string()),
                ..Default::default()
            },
            sort: Sort::Price,
            limit: *wanted,
            cursor: None,
        };
        let rules = crate::services::market::rules(conn)?;
        let page = store::catalogue::page(conn, &buyer.id, &parsed, &rules.tree, now)?;
        let ids: Vec<String> = page.rows.into_iter().map(|r| r.id).collect();
        for chunk in ids.chunks(10) {
            if crate::services::market::buy(conn, commission_bp, &buyer.id, chunk, None).is_err() {
                break;
            }
        }
    }
    Ok(())
}

fn uuid(rng: &mut impl Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

pub(crate) fn make_batch(
    rng: &mut ChaCha8Rng,
    agency_id: &str,
    countries: &[&str],
    n: usize,
    now: NaiveDateTime,
) -> (BatchRow, Vec<NewLeadRow>) {
    let (segment, (lo, hi), channels) = *geo::pick(SEGMENTS, rng);
    let channel = *geo::pick(channels, rng);
    let max_sales = *geo::pick(&[1, 1, 3, 3, 5], rng);
    let price_cents = rng.random_range(lo..=hi) / 10 * 10;
    let created_at = now - TimeDelta::minutes(rng.random_range(60..60 * 24 * 80));
    let consent_text = "I agree that my details may be shared with selected partners who will contact me about offers.".to_string();
    let batch_id = uuid(rng);
    let mut leads = Vec::with_capacity(n);
    for _ in 0..n {
        let country_code = *geo::pick(countries, rng);
        let country = geo::COUNTRIES
            .iter()
            .find(|c| c.code == country_code)
            .expect("demo country exists");
        leads.push(make_lead(
            rng,
            country,
            &batch_id,
            agency_id,
            segment,
            channel,
            price_cents,
            max_sales,
            &consent_text,
            created_at,
        ));
    }
    let batch = BatchRow {
        id: batch_id,
        agency_id: agency_id.to_string(),
        kind: LeadKind::Consumer,
        order_id: None,
        segment: Some(segment.into()),
        channel: Some(channel.into()),
        price_cents,
        max_sales,
        billing: "per_lead".into(),
        action_price_cents: None,
        consent_text,
        source: "demo".into(),
        filename: Some(format!(
            "{}-{}.csv",
            segment.replace('.', "-"),
            created_at.format("%Y%m%d")
        )),
        status: BatchStatus::Done,
        error: None,
        rows_total: n as i32,
        rows_done: n as i32,
        accepted: n as i32,
        rejected: 0,
        duplicates: 0,
        suppressed: 0,
        created_by: None,
        created_at,
        finished_at: Some(created_at + TimeDelta::seconds(3)),
        headers: String::new(),
        unknown_columns: String::new(),
        file_size: 0,
        // Demo agencies report their visitors: a few per lead, for the funnel.
        traffic: Some(n as i64 * 4 + (n as i64 * 7) % 11),
    };
    (batch, leads)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, named arguments read better than a struct here"
)]
fn make_lead(
    rng: &mut ChaCha8Rng,
    country: &geo::Country,
    batch_id: &str,
    agency_id: &str,
    segment: &str,
    channel: &str,
    price_cents: i64,
    max_sales: i32,
    consent_text: &str,
    batch_created: NaiveDateTime,
) -> NewLeadRow {
    let first = *geo::pick(country.first_names, rng);
    let last = *geo::pick(country.last_names, rng);
    let region = geo::pick(country.regions, rng);
    let city = geo::pick(region.cities, rng);
    let mobile_plan: &&str = geo::pick(country.mobiles, rng);
    let phone = geo::fill(mobile_plan, rng);
    let email = format!(
        "{}.{}{}@{}",
        geo::ascii_fold(first),
        geo::ascii_fold(last),
        rng.random_range(1..10_000),
        geo::pick(geo::EMAIL_DOMAINS, rng)
    );
    let warmth = *geo::pick(
        &[
            Warmth::Cold,
            Warmth::Cold,
            Warmth::Cold,
            Warmth::Warm,
            Warmth::Warm,
            Warmth::Hot,
        ],
        rng,
    );
    let contact_type = *geo::pick(
        &[
            ContactType::Quick,
            ContactType::Quick,
            ContactType::Registration,
            ContactType::Promotional,
            ContactType::Interested,
        ],
        rng,
    );
    // Quick contacts leave a name and phone only; registrations may lack a phone.
    let has_email = contact_type != ContactType::Quick;
    let has_phone = contact_type != ContactType::Registration || rng.random_bool(0.5);
    let has_street = contact_type == ContactType::Interested || rng.random_bool(0.3);
    let verified = rng.random_bool(0.4);
    let captured_at = batch_created - TimeDelta::minutes(rng.random_range(5..60 * 24 * 3));
    let age_days = (batch_created.date() - captured_at.date()).num_days();
    // Ages cluster in the working years; incomes follow the country's spread.
    let age = (rng.random_range(18..=45) + rng.random_range(0..=35)).min(120);
    let (lo, hi) = country.income;
    let income = (rng.random_range(lo..=hi) + rng.random_range(lo..=hi)) / 2 / 100 * 100;
    let score = scoring::score(&ScoreInput {
        has_name: true,
        has_phone,
        has_email,
        has_address: has_street,
        warmth,
        contact_type,
        verified,
        age_days,
        soft_flags: 0,
        engagement: Default::default(),
    });
    let phone = has_phone.then_some(phone);
    let email = has_email.then_some(email);
    let postal_code = geo::fill(city.postal, rng);
    NewLeadRow {
        postal_key: crate::domain::catalogue::postal_key(country.code, Some(&postal_code)),
        id: uuid(rng),
        batch_id: batch_id.into(),
        agency_id: agency_id.into(),
        kind: LeadKind::Consumer,
        segment: segment.into(),
        channel: channel.into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email_key: email.as_deref().map(dedup::email_key),
        phone_key: phone.as_deref().map(dedup::phone_key),
        email,
        phone,
        age,
        income_cents: rng.random_bool(0.85).then_some(income * 100),
        country: country.code.into(),
        region: Some(region.name.into()),
        city: Some(city.name.into()),
        postal_code: Some(postal_code),
        street: has_street.then(|| {
            format!(
                "{} {}",
                rng.random_range(1..200),
                geo::pick(country.streets, rng)
            )
        }),
        warmth,
        contact_type,
        verified,
        consent_at: captured_at,
        consent_text: consent_text.into(),
        captured_at,
        score,
        flags: String::new(),
        // Priced with today's rules by the caller, who has them.
        list_price_cents: price_cents,
        max_sales,
        sales_count: 0,
        status: LeadStatus::Available,
        created_at: batch_created,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_logins_name_every_user_with_the_password() {
        let text = logins_text();
        assert!(text.contains(PASSWORD));
        assert!(text.contains("admin@leadmarket.example.com"));
        assert!(text.contains("finance@leadmarket.example.com"));
        let users: usize = ORGS.iter().map(|o| o.users.len()).sum();
        assert_eq!(text.lines().count(), users + 1);
        assert!(ORGS.iter().filter(|o| o.kind == OrgKind::Agency).count() >= 5);
        assert!(ORGS.iter().filter(|o| o.kind == OrgKind::Buyer).count() >= 8);
    }

    #[test]
    fn batches_are_deterministic_and_leads_believable() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let make = || {
            let mut rng = ChaCha8Rng::seed_from_u64(SEED);
            make_batch(&mut rng, "agency", &["GB", "DE"], 200, now)
        };
        let (a, leads_a) = make();
        let (b, leads_b) = make();
        assert_eq!(a.id, b.id);
        assert_eq!(
            leads_a.iter().map(|l| &l.id).collect::<Vec<_>>(),
            leads_b.iter().map(|l| &l.id).collect::<Vec<_>>()
        );
        for l in &leads_a {
            assert!((18..=120).contains(&l.age));
            assert!(
                l.email.is_some() || l.phone.is_some(),
                "without a contact there is no lead"
            );
            if let Some(e) = &l.email {
                assert!(
                    e.ends_with("@example.com")
                        || e.ends_with("@example.org")
                        || e.ends_with("@example.net"),
                    "{e}"
                );
                assert!(e.parse::<crate::domain::Email>().is_ok(), "{e}");
            }
            if let Some(p) = &l.phone {
                assert!(p.starts_with("+44") || p.starts_with("+49"), "{p}");
            }
            assert!(l.captured_at <= now && l.consent_at <= l.captured_at);
            assert!((0..=100).contains(&l.score));
        }
    }
}
