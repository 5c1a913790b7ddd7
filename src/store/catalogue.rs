//! The catalogue query. Contact fields never leave here in a catalogue row.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{batches, leads, organisations, purchases};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::{OrgKind, OrgStatus};

/// What a catalogue row may hold: filterable facts only, never contact fields.
#[derive(Debug, Clone, Queryable)]
pub struct CatalogueRow {
    pub id: String,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    pub flags: String,
    pub captured_at: NaiveDateTime,
    /// Today's unit price as last computed (for filtering and sorting).
    pub list_price_cents: i64,
    pub max_sales: i32,
    pub sales_count: i32,
    pub agency_id: String,
    pub batch_id: String,
}

/// A catalogue page: rows, their agencies' names by id, and the total that matches.
pub struct CataloguePage {
    pub rows: Vec<CatalogueRow>,
    pub agency_names: std::collections::HashMap<String, String>,
    /// Base price of each row's batch, by batch id.
    pub base_prices: std::collections::HashMap<String, i64>,
    /// Each row's batch's billing model (`per_lead`/`per_action`) and action price.
    pub billing: std::collections::HashMap<String, (String, Option<i64>)>,
    /// Exact up to the count's cap ([`COUNT_CAP`]); beyond it, the cap + 1 with
    /// `total_exact` false.
    pub total: i64,
    pub total_exact: bool,
    /// Past the cap, PostgreSQL's planner estimate of the matches, when it says more than
    /// the cap (an estimate below what was counted is stale statistics, not an answer).
    /// Always `None` on SQLite, which keeps no estimate.
    pub total_estimate: Option<i64>,
}

/// Counting stops here. One purchase takes at most a thousand leads, so past that the
/// exact figure changes nothing a buyer can do, and counting it would read every match
/// on each page view (at 1M leads a capped count of 10,000 made most of the catalogue's
/// latency: p50 27 ms against 6.5 ms with this cap, on PostgreSQL).
pub const COUNT_CAP: i64 = 1_000;

type Boxed<'a> = leads::BoxedQuery<'a, crate::db::MultiBackend>;

/// The open catalogue for one buyer with filters applied (no sort, no cursor).
/// Which leads a catalogue query leaves out for this buyer.
/// What a catalogue query is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A page or a count of it.
    Page,
    /// Only PostgreSQL's planner estimate of the matches (never run).
    Estimate,
    /// A filter purchase's claim of the first leads in the page's order.
    Claim,
}

#[derive(Clone, Copy)]
enum Mine {
    /// Leave out what the buyer bought (a page: a few index probes).
    Exclude,
    /// Keep only what the buyer bought (to subtract from a count).
    Only,
    /// Ignore purchases.
    Ignore,
}

/// The open catalogue with filters applied (no sort, no cursor). Suspended agencies are
/// known up front (rarely any), so no row pays for a per-row organisation lookup.
fn open_catalogue<'a>(
    buyer_id: &'a str,
    f: &'a crate::domain::catalogue::Filter,
    segments: &'a [String],
    suspended: &'a [String],
    mine: Mine,
    now: NaiveDateTime,
    purpose: Purpose,
) -> Boxed<'a> {
    use diesel::dsl::{exists, not};
    let q = leads::table
        .filter(leads::kind.eq(LeadKind::Consumer))
        .filter(leads::status.eq(LeadStatus::Available))
        .into_boxed();
    // "Sales left" as an expression PostgreSQL keeps statistics on
    // (`leads_sales_left_stats`, migration `catalogue_estimate`) when only estimating: the
    // planner reads `sales_count < max_sales` with a fixed 1/3, so the estimate of a
    // catalogue with every lead unsold came out three times too low.
    let mut q = if purpose == Purpose::Estimate {
        q.filter((leads::max_sales - leads::sales_count).gt(0))
    } else {
        q.filter(leads::sales_count.lt(leads::max_sales))
    };
    if !suspended.is_empty() {
        q = q.filter(leads::agency_id.ne_all(suspended));
    }
    let bought = purchases::table
        .filter(purchases::lead_id.eq(leads::id))
        .filter(purchases::buyer_id.eq(buyer_id));
    q = match mine {
        Mine::Exclude => q.filter(not(exists(bought))),
        // Driven from the buyer's purchases (indexed by buyer), not probed per lead.
        Mine::Only => q.filter(
            leads::id.eq_any(
                purchases::table
                    .filter(purchases::buyer_id.eq(buyer_id))
                    .select(purchases::lead_id),
            ),
        ),
        Mine::Ignore => q,
    };
    if f.segment.is_some() {
        // One value as `=`, not `= ANY(array)`: PostgreSQL (before 17) never reads an
        // index in order under `= ANY`, so `segment=finance.loans&warmth=hot` walked the
        // freshness index past 33,000 rows (50 ms at 1M leads) instead of the segment
        // index's newest entries.
        q = match segments {
            [one] => q.filter(leads::segment.eq(one)),
            many => q.filter(leads::segment.eq_any(many)),
        };
    }
    // With a country, the prefix is one range of `leads_postal_idx`. The key starts with
    // the country, so the range implies it: naming the country again would have
    // PostgreSQL AND in a bitmap of the whole country.
    let range = match (&f.country, &f.postal_prefix) {
        (Some(c), Some(p)) => crate::domain::catalogue::postal_key_range(c, p),
        _ => None,
    };
    match range {
        Some((from, to)) => {
            q = q.filter(leads::postal_key.ge(from).and(leads::postal_key.lt(to)));
        }
        None => {
            if let Some(c) = &f.country {
                q = q.filter(leads::country.eq(c.clone()));
            }
            // Any country: no index serves this one.
            if let Some(p) = &f.postal_prefix {
                q = q.filter(
                    leads::postal_key.like(crate::domain::catalogue::postal_key_pattern(p)),
                );
            }
        }
    }
    if let Some(r) = &f.region {
        q = q.filter(leads::region.eq(r.clone()));
    }
    if let Some(c) = &f.city {
        q = q.filter(leads::city.eq(c.clone()));
    }
    if let Some(a) = f.age_min {
        q = q.filter(leads::age.ge(a));
    }
    if let Some(a) = f.age_max {
        q = q.filter(leads::age.le(a));
    }
    if let Some(i) = f.income_min_cents {
        q = q.filter(leads::income_cents.ge(i));
    }
    if let Some(i) = f.income_max_cents {
        q = q.filter(leads::income_cents.le(i));
    }
    if !f.warmth.is_empty() {
        q = match f.warmth.as_slice() {
            [one] => q.filter(leads::warmth.eq(one)),
            many => q.filter(leads::warmth.eq_any(many)),
        };
    }
    if let Some(c) = &f.contact_type {
        q = q.filter(leads::contact_type.eq(c.clone()));
    }
    if let Some(v) = f.verified {
        q = q.filter(leads::verified.eq(v));
    }
    if let Some(s) = f.min_score {
        q = q.filter(leads::score.ge(s));
    }
    if let Some(p) = f.max_price_cents {
        q = if purpose == Purpose::Claim {
            // A purchase's cap is its buyer's ceiling, seldom narrow. As a bare column
            // the planners took it for a range on `leads_open_price_idx` and sorted
            // every lead under it (300 ms a claim at 160,000 leads); as an expression it
            // is only checked, and the freshest leads are read first.
            q.filter((leads::list_price_cents + 0i64).le(p))
        } else {
            q.filter(leads::list_price_cents.le(p))
        };
    }
    if let Some(d) = f.max_age_days {
        q = q.filter(leads::captured_at.ge(now - chrono::TimeDelta::days(d)));
    }
    match f.exclusive {
        Some(true) => q = q.filter(leads::max_sales.eq(1)),
        // As a literal, so the planners may use `leads_open_shared_idx` (partial on it).
        Some(false) => {
            q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "\"leads\".\"max_sales\" > 1",
            ))
        }
        None => {}
    }
    q
}

/// What a filter's catalogue query looks up first: the segment's sub-segments and the
/// suspended agencies.
pub struct Scope {
    segments: Vec<String>,
    suspended: Vec<String>,
}

pub fn scope(
    conn: &mut AnyConnection,
    filter: &crate::domain::catalogue::Filter,
    tree: &crate::domain::reference::SegmentTree,
) -> QueryResult<Scope> {
    // A segment includes its sub-segments as the tree keeps them: named in full, so an
    // index can serve them.
    let segments: Vec<String> = match &filter.segment {
        None => Vec::new(),
        Some(s) => tree.within_of(s),
    };
    let suspended: Vec<String> = organisations::table
        .filter(organisations::kind.eq(OrgKind::Agency))
        .filter(organisations::status.ne(OrgStatus::Active))
        .select(organisations::id)
        .load(conn)?;
    Ok(Scope {
        segments,
        suspended,
    })
}

/// The first `limit` leads of this buyer's catalogue under `filter` in the order `sort`
/// (the page's own filter and order, so "buy the first N" buys what the page lists first),
/// leaving out `passed`, claimed for the caller's write transaction by `db::load_claimed`
/// (`held`: what to do with leads another purchase holds).
#[expect(
    clippy::too_many_arguments,
    reason = "a filter purchase's claim has this many inputs"
)]
pub fn claim_first(
    conn: &mut AnyConnection,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    sort: crate::domain::catalogue::Sort,
    scope: &Scope,
    passed: &[String],
    limit: i64,
    held: crate::db::Held,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let q = first(buyer_id, filter, sort, scope, passed, limit, now).select(leads::id);
    crate::db::load_claimed(conn, q, held)
}

/// The same leads as [`claim_first`], read without claiming them (to quote a purchase
/// before the buyer confirms it).
#[expect(
    clippy::too_many_arguments,
    reason = "the same inputs as claim_first, less the claim"
)]
pub fn first_ids(
    conn: &mut AnyConnection,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    sort: crate::domain::catalogue::Sort,
    scope: &Scope,
    passed: &[String],
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    first(buyer_id, filter, sort, scope, passed, limit, now)
        .select(leads::id)
        .load(conn)
}

fn first<'a>(
    buyer_id: &'a str,
    filter: &'a crate::domain::catalogue::Filter,
    sort: crate::domain::catalogue::Sort,
    scope: &'a Scope,
    passed: &'a [String],
    limit: i64,
    now: NaiveDateTime,
) -> Boxed<'a> {
    let mut q = open_catalogue(
        buyer_id,
        filter,
        &scope.segments,
        &scope.suspended,
        Mine::Exclude,
        now,
        Purpose::Claim,
    );
    if !passed.is_empty() {
        q = q.filter(leads::id.ne_all(passed));
    }
    ordered(q, sort).limit(limit)
}

/// Each batch's billing model text (`per_lead`/`per_action`) and action price, by id.
pub fn billing_terms(
    conn: &mut AnyConnection,
    batch_ids: &[&String],
) -> QueryResult<std::collections::HashMap<String, (String, Option<i64>)>> {
    let ids: Vec<&str> = batch_ids.iter().map(|s| s.as_str()).collect();
    Ok(batches::table
        .filter(batches::id.eq_any(ids))
        .select((batches::id, batches::billing, batches::action_price_cents))
        .load::<(String, String, Option<i64>)>(conn)?
        .into_iter()
        .map(|(id, billing, price)| (id, (billing, price)))
        .collect())
}

/// The catalogue's orders, each with the id as tie-break (as the page's cursor expects).
fn ordered(q: Boxed<'_>, sort: crate::domain::catalogue::Sort) -> Boxed<'_> {
    use crate::domain::catalogue::Sort;
    match sort {
        Sort::Fresh => q.order((leads::captured_at.desc(), leads::id.desc())),
        Sort::ScoreDesc => q.order((leads::score.desc(), leads::id.desc())),
        Sort::Score => q.order((leads::score.asc(), leads::id.asc())),
        Sort::Price => q.order((leads::list_price_cents.asc(), leads::id.asc())),
        Sort::PriceDesc => q.order((leads::list_price_cents.desc(), leads::id.desc())),
    }
}

/// One page of the catalogue (keyset, no OFFSET) and the total that matches, counted up
/// to [`COUNT_CAP`].
pub fn page(
    conn: &mut AnyConnection,
    buyer_id: &str,
    parsed: &crate::domain::catalogue::Parsed,
    tree: &crate::domain::reference::SegmentTree,
    now: NaiveDateTime,
) -> QueryResult<CataloguePage> {
    page_counted(conn, buyer_id, parsed, tree, now, COUNT_CAP)
}

/// [`page`] with the count stopping at `count_cap` (tests pass small caps).
pub fn page_counted(
    conn: &mut AnyConnection,
    buyer_id: &str,
    parsed: &crate::domain::catalogue::Parsed,
    tree: &crate::domain::reference::SegmentTree,
    now: NaiveDateTime,
    count_cap: i64,
) -> QueryResult<CataloguePage> {
    use crate::domain::catalogue::{Cursor, Sort};
    let Scope {
        segments,
        suspended,
    } = scope(conn, &parsed.filter, tree)?;
    // Counting the matches, then taking off the few this buyer bought, spares each of
    // the (many) matches its own purchase probe. The count stops past the cap.
    let own: i64 = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Only,
        now,
        Purpose::Page,
    )
    .count()
    .get_result(conn)?;
    let all = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Ignore,
        now,
        Purpose::Page,
    )
    .select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
    .limit(count_cap + 1 + own)
    .load::<i32>(conn)?
    .len() as i64;
    let total = (all - own).min(count_cap + 1);
    let total_exact = total <= count_cap;
    // Past the cap, the planner's estimate costs one plan and no rows read.
    let total_estimate = if total_exact {
        None
    } else {
        let matching = open_catalogue(
            buyer_id,
            &parsed.filter,
            &segments,
            &suspended,
            Mine::Ignore,
            now,
            Purpose::Estimate,
        )
        .select(leads::id);
        crate::db::estimate_rows(conn, matching)?
            .map(|n| n - own)
            .filter(|&n| n > count_cap)
    };
    let mut q = open_catalogue(
        buyer_id,
        &parsed.filter,
        &segments,
        &suspended,
        Mine::Exclude,
        now,
        Purpose::Page,
    );
    // After the cursor: `key <= k AND (key < k OR id < i)` rather than the plain
    // `key < k OR (key = k AND id < i)`, whose OR keeps both planners from starting the
    // index scan at the cursor (deep pages then read every row before it).
    q = match (&parsed.sort, &parsed.cursor) {
        (Sort::Fresh, Some(Cursor::Fresh(t, id))) => q
            .filter(leads::captured_at.le(*t))
            .filter(leads::captured_at.lt(*t).or(leads::id.lt(id.clone()))),
        (Sort::ScoreDesc, Some(Cursor::Score(s, id))) => q
            .filter(leads::score.le(*s))
            .filter(leads::score.lt(*s).or(leads::id.lt(id.clone()))),
        (Sort::Score, Some(Cursor::Score(s, id))) => q
            .filter(leads::score.ge(*s))
            .filter(leads::score.gt(*s).or(leads::id.gt(id.clone()))),
        (Sort::Price, Some(Cursor::Price(p, id))) => q
            .filter(leads::list_price_cents.ge(*p))
            .filter(leads::list_price_cents.gt(*p).or(leads::id.gt(id.clone()))),
        (Sort::PriceDesc, Some(Cursor::Price(p, id))) => q
            .filter(leads::list_price_cents.le(*p))
            .filter(leads::list_price_cents.lt(*p).or(leads::id.lt(id.clone()))),
        _ => q,
    };
    if matches!(parsed.sort, Sort::Score | Sort::ScoreDesc) {
        // True of every lead; as a literal it opens SQLite's `leads_segment_score_idx`
        // (partial on it) to this page query alone. See that index's migrations.
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "\"leads\".\"score\" >= 0",
        ));
    }
    q = ordered(q, parsed.sort);
    let rows: Vec<CatalogueRow> = q
        .limit(parsed.limit)
        .select((
            leads::id,
            leads::age,
            leads::income_cents,
            leads::country,
            leads::region,
            leads::city,
            leads::postal_code,
            leads::segment,
            leads::channel,
            leads::warmth,
            leads::contact_type,
            leads::verified,
            leads::score,
            leads::flags,
            leads::captured_at,
            leads::list_price_cents,
            leads::max_sales,
            leads::sales_count,
            leads::agency_id,
            leads::batch_id,
        ))
        .load(conn)?;
    let batch_ids: Vec<&String> = rows.iter().map(|r| &r.batch_id).collect();
    let base_prices = batches::table
        .filter(batches::id.eq_any(batch_ids.clone()))
        .select((batches::id, batches::price_cents))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let billing = billing_terms(conn, &batch_ids)?;
    let agency_ids: Vec<String> = rows.iter().map(|r| r.agency_id.clone()).collect();
    let agency_names = super::organisations::names(conn, &agency_ids)?;
    Ok(CataloguePage {
        rows,
        agency_names,
        base_prices,
        billing,
        total,
        total_exact,
        total_estimate,
    })
}
