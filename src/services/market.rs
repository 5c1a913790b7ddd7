//! Buying leads: the catalogue a buyer browses (priced, with agency quality), quoting,
//! and the atomic purchase (sales counts, the unique lead/buyer rule, targeted leads to
//! their order's buyer only, the credit check and the ledger, all in one transaction or
//! not at all).

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::config::DisputeConfig;
use crate::db::{AnyConnection, Held, write_transaction};
use crate::domain::OrgKind;
use crate::domain::catalogue::{self, Cursor};
use crate::domain::lead::{LeadKind, LeadStatus};
use crate::domain::market::PriceRuleKind;
use crate::domain::money::{self, commission};
use crate::domain::pricing::{self, PriceFacts, PriceRules, Quote};
use crate::error::{AppError, FieldProblem};
use crate::store;
use crate::store::catalogue::CatalogueRow;
use crate::store::purchases::{PurchaseFacts, PurchaseRow, SaleFacts};

pub fn rules(conn: &mut AnyConnection) -> Result<PriceRules, AppError> {
    Ok(PriceRules::from_rows(store::pricing::price_rules(conn)?))
}

pub fn quote_for(
    facts: &SaleFacts,
    rules: &PriceRules,
    quantity: i64,
    now: NaiveDateTime,
) -> Quote {
    pricing::quote(
        &PriceFacts {
            base_cents: facts.base_cents,
            warmth: &facts.warmth,
            max_sales: facts.max_sales,
            segment: &facts.segment,
            country: &facts.country,
            captured_at: facts.captured_at,
        },
        rules,
        quantity,
        now,
    )
}

/// A new lead's unit price today (its stored list price), from its batch's base price.
pub fn list_price(
    lead: &store::leads::NewLeadRow,
    base_cents: i64,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> i64 {
    pricing::quote(
        &PriceFacts {
            base_cents,
            warmth: lead.warmth.as_str(),
            max_sales: lead.max_sales,
            segment: &lead.segment,
            country: &lead.country,
            captured_at: lead.captured_at,
        },
        rules,
        1,
        now,
    )
    .unit_cents
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PurchaseLine {
    pub id: String,
    pub lead_id: String,
    pub price_cents: i64,
}

fn unsellable(details: Vec<FieldProblem>) -> AppError {
    let ids: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
    AppError::Unsellable {
        message: format!("these leads cannot be sold to you: {}", ids.join(", ")),
        details,
    }
}

/// Buys all of `lead_ids` or none. `expected_total_cents`, when given, must equal the
/// total now (the buyer pays exactly what it was shown).
pub fn buy(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    lead_ids: &[String],
    expected_total_cents: Option<i64>,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    let mut ids: Vec<String> = lead_ids.iter().map(|s| s.trim().to_string()).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid("lead_ids", "name at least one lead"));
    }
    if ids.len() > 1000 {
        return Err(AppError::invalid(
            "lead_ids",
            "buy at most 1000 leads at once",
        ));
    }
    write_transaction(conn, |conn| {
        let now = store::now();
        let checked = store::purchases::purchase_facts(conn, buyer_id, &ids)?;
        let by_id: HashMap<&str, &PurchaseFacts> =
            checked.iter().map(|c| (c.sale.id.as_str(), c)).collect();
        let batch_ids: Vec<String> = checked
            .iter()
            .filter(|c| c.sale.kind == LeadKind::Targeted)
            .map(|c| c.sale.batch_id.clone())
            .collect();
        // Most purchases are of consumer leads: no orders to look up.
        let targeted = if batch_ids.is_empty() {
            HashMap::new()
        } else {
            store::purchases::targeted_buyers(conn, &batch_ids)?
        };
        let mut problems = Vec::new();
        for id in &ids {
            let reason = match by_id.get(id.as_str()) {
                None => Some("no such lead"),
                Some(c) if c.bought => Some("you bought this lead already"),
                Some(c)
                    if c.sale.kind == LeadKind::Targeted
                        && targeted.get(&c.sale.batch_id).map(String::as_str) != Some(buyer_id) =>
                {
                    Some("no such lead")
                }
                Some(c) if c.suppressed => {
                    Some("no longer on sale: the person asked not to be contacted")
                }
                Some(c) if c.agency_suspended() => Some("its agency's listings are suspended"),
                Some(c)
                    if c.sale.status != LeadStatus::Available
                        || c.sale.sales_count >= c.sale.max_sales =>
                {
                    Some("sold out")
                }
                _ => None,
            };
            if let Some(r) = reason {
                problems.push(FieldProblem::new(id.clone(), r));
            }
        }
        if !problems.is_empty() {
            return Err(unsellable(problems));
        }
        let rules = rules(conn)?;
        let quantity = ids.len() as i64;
        let priced: Vec<(&SaleFacts, i64)> = ids
            .iter()
            .map(|id| {
                let f = &by_id[id.as_str()].sale;
                (f, quote_for(f, &rules, quantity, now).unit_cents)
            })
            .collect();
        let total: i64 = priced.iter().map(|(_, p)| p).sum();
        if let Some(expected) = expected_total_cents
            && expected != total
        {
            return Err(AppError::Conflict {
                code: "price_changed",
                message: format!(
                    "the total is now {total} minor units, not {expected}; check the prices and buy again"
                ),
            });
        }
        // Sorted ids: every purchase locks leads in the same order, so none deadlock.
        for (f, _) in &priced {
            if !store::purchases::take_sale(conn, &f.id)? {
                return Err(unsellable(vec![FieldProblem::new(
                    f.id.clone(),
                    "sold out",
                )]));
            }
        }
        settle(conn, commission_bp, buyer_id, &priced, now)
    })
}

/// The rest of a purchase once its sales are taken, in the caller's transaction: the
/// ledger, the purchase rows (the unique lead/buyer rule) and the credit check.
fn settle(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    priced: &[(&SaleFacts, i64)],
    now: NaiveDateTime,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    let total: i64 = priced.iter().map(|(_, p)| p).sum();
    let lines: Vec<(String, i64, i64)> = priced
        .iter()
        .map(|(f, price)| {
            (
                f.agency_id.clone(),
                *price,
                commission(*price, commission_bp),
            )
        })
        .collect();
    let postings = money::sale_postings(buyer_id, &lines)
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let tx_id = store::ledger::post(
        conn,
        crate::domain::ledger::TransactionKind::Purchase,
        &format!("{} lead(s) bought", priced.len()),
        &postings,
    )?;
    let rows: Vec<PurchaseRow> = priced
        .iter()
        .zip(&lines)
        .map(|((f, price), (_, _, commission))| PurchaseRow {
            id: store::new_id(),
            lead_id: f.id.clone(),
            buyer_id: buyer_id.to_string(),
            agency_id: f.agency_id.clone(),
            price_cents: *price,
            commission_cents: *commission,
            transaction_id: tx_id.clone(),
            created_at: now,
        })
        .collect();
    match store::purchases::insert(conn, &rows) {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            return Err(unsellable(
                rows.iter()
                    .map(|r| FieldProblem::new(r.lead_id.clone(), "you bought this lead already"))
                    .collect(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if !store::credit::charge_within_limit(conn, buyer_id, total)? {
        let (limit, owed) = store::credit::buyer_account(conn, buyer_id)?;
        return Err(AppError::InsufficientCredit {
            available_cents: (limit - owed).max(0),
            needed_cents: total,
        });
    }
    let out = rows
        .into_iter()
        .map(|r| PurchaseLine {
            id: r.id,
            lead_id: r.lead_id,
            price_cents: r.price_cents,
        })
        .collect();
    Ok((out, total))
}

/// What a buyer owes and may still spend.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub credit_limit_cents: i64,
    pub owed_cents: i64,
    pub available_cents: i64,
    /// Owed and not yet on an issued invoice.
    pub uninvoiced_cents: i64,
    pub open_invoices_cents: i64,
}

pub fn account(conn: &mut AnyConnection, buyer_id: &str) -> Result<AccountView, AppError> {
    let (limit, owed) = store::credit::buyer_account(conn, buyer_id)?;
    let open = store::invoices::open_total(conn, buyer_id)?;
    Ok(AccountView {
        credit_limit_cents: limit,
        owed_cents: owed,
        available_cents: (limit - owed).max(0),
        // What is owed is either on an open invoice or not invoiced yet.
        uninvoiced_cents: owed - open,
        open_invoices_cents: open,
    })
}

/// Sets a buyer's credit limit (finance desk and `leadmarket credit set`).
pub fn set_credit_limit(
    conn: &mut AnyConnection,
    org_slug: &str,
    limit_cents: i64,
) -> Result<(), AppError> {
    if limit_cents < 0 {
        return Err(AppError::invalid("limit_cents", "must be 0 or more"));
    }
    write_transaction(conn, |conn| {
        let org = store::organisations::find_by_slug(conn, org_slug).map_err(|_| {
            AppError::invalid("org", format!("no organisation with slug `{org_slug}`"))
        })?;
        if org.kind != OrgKind::Buyer {
            return Err(AppError::invalid(
                "org",
                format!("`{org_slug}` is not a buyer"),
            ));
        }
        store::credit::set_credit_limit(conn, &org.id, limit_cents)?;
        Ok(())
    })
}

/// Buys up to `quantity` leads matching a catalogue filter at `max_price_cents` or less
/// each, newest first, and returns what was bought (possibly fewer than asked; 409
/// `nothing_available` when none). The leads are chosen and claimed inside the purchase's
/// transaction (`store::catalogue::claim_freshest`), so a lead another buyer holds is
/// passed over, never a reason to fail.
pub fn buy_matching(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    quantity: i64,
    max_price_cents: i64,
) -> Result<(Vec<PurchaseLine>, i64), AppError> {
    if !(1..=1000).contains(&quantity) {
        return Err(AppError::invalid("quantity", "must be from 1 to 1000"));
    }
    if max_price_cents < 0 {
        return Err(AppError::invalid("max_price_cents", "must be 0 or more"));
    }
    // Claimed leads that could not be sold after all (on PostgreSQL, a suppression or
    // this buyer's own concurrent purchase committed in between): left out next time.
    let mut refused: Vec<String> = Vec::new();
    for _attempt in 0..3 {
        let result = write_transaction(conn, |conn| {
            buy_matching_once(
                conn,
                commission_bp,
                buyer_id,
                filter,
                quantity,
                max_price_cents,
                &refused,
            )
        });
        match result {
            Ok(bought) => return Ok(bought),
            Err(Attempt::Refused(ids)) => refused.extend(ids),
            Err(Attempt::Failed(e)) => return Err(e),
        }
    }
    Err(AppError::Conflict {
        code: "nothing_available",
        message: "other buyers took the matching leads first; try again".into(),
    })
}

/// How one filter purchase's transaction ended when it did not commit.
enum Attempt {
    /// These claimed leads could not be sold: roll back and choose again without them.
    Refused(Vec<String>),
    Failed(AppError),
}

impl From<diesel::result::Error> for Attempt {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl From<AppError> for Attempt {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

fn buy_matching_once(
    conn: &mut AnyConnection,
    commission_bp: i64,
    buyer_id: &str,
    filter: &crate::domain::catalogue::Filter,
    quantity: i64,
    max_price_cents: i64,
    refused: &[String],
) -> Result<(Vec<PurchaseLine>, i64), Attempt> {
    let now = store::now();
    let rules = rules(conn)?;
    // The stored list price (one lead) narrows the search, widened by this quantity's
    // discount tier; the exact quote below decides.
    let list_cap = max_price_cents.saturating_mul(10_000) / tier_bp(&rules, quantity) + 1;
    let mut filter = filter.clone();
    filter.max_price_cents = Some(filter.max_price_cents.map_or(list_cap, |p| p.min(list_cap)));
    let scope = store::catalogue::scope(conn, &filter)?;
    // Claim only as many as are still wanted, so other buyers are not kept from leads
    // this one would not buy; a claimed lead over the price is passed and the next tried.
    let mut passed: Vec<String> = refused.to_vec();
    let mut candidates: Vec<SaleFacts> = Vec::new();
    let mut held = Held::Skip;
    loop {
        let wanted = quantity - candidates.len() as i64;
        let ids = store::catalogue::claim_freshest(
            conn, buyer_id, &filter, &scope, &passed, wanted, held, now,
        )?;
        let claimed_before = passed.len() > refused.len();
        let mut facts = store::purchases::sale_facts(conn, &ids)?;
        facts.sort_by_key(|f| ids.iter().position(|id| *id == f.id));
        for f in facts {
            passed.push(f.id.clone());
            if quote_for(&f, &rules, quantity, now).unit_cents <= max_price_cents {
                candidates.push(f);
            }
        }
        if candidates.len() as i64 >= quantity {
            break;
        }
        if (ids.len() as i64) < wanted {
            // Leads other purchases hold were passed over, and a shared one may have a
            // sale left once they commit. With nothing claimed yet, wait for them rather
            // than refuse: holding no lead, this wait cannot close a deadlock.
            if held == Held::Skip && !claimed_before && ids.is_empty() {
                held = Held::Wait;
                continue;
            }
            break;
        }
    }
    // Fewer than asked are priced at their own (smaller) quantity's tier, which may put
    // some over the cap: drop those until every price holds.
    let mut count = candidates.len();
    let priced: Vec<(&SaleFacts, i64)> = loop {
        let priced: Vec<(&SaleFacts, i64)> = candidates
            .iter()
            .map(|f| (f, quote_for(f, &rules, count as i64, now).unit_cents))
            .filter(|(_, price)| *price <= max_price_cents)
            .take(count)
            .collect();
        if priced.len() == count {
            break priced;
        }
        count = priced.len();
    };
    if priced.is_empty() {
        return Err(AppError::Conflict {
            code: "nothing_available",
            message: "no lead matches this filter at or under that price".into(),
        }
        .into());
    }
    for (f, _) in &priced {
        // The same checked UPDATE an id purchase takes (sales left, not suppressed).
        if !store::purchases::take_sale(conn, &f.id)? {
            return Err(Attempt::Refused(vec![f.id.clone()]));
        }
    }
    match settle(conn, commission_bp, buyer_id, &priced, now) {
        // This buyer's own concurrent purchase took one of them: choose again without.
        Err(AppError::Unsellable { details, .. }) => Err(Attempt::Refused(
            details.into_iter().map(|d| d.field).collect(),
        )),
        other => Ok(other?),
    }
}

/// The quantity discount for buying `quantity` at once, in basis points (10,000 = none).
fn tier_bp(rules: &PriceRules, quantity: i64) -> i64 {
    rules
        .quantity
        .iter()
        .filter(|(min, _)| quantity >= *min)
        .max_by_key(|(min, _)| *min)
        .map_or(10_000, |(_, bp)| (*bp).clamp(1, 10_000))
}

/// Brings every open lead's stored list price up to date with `rules` as of `now`, in
/// chunks (each its own short transaction, so intake and purchases keep going).
/// Returns how many prices changed.
pub fn reprice(
    conn: &mut AnyConnection,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let mut after = String::new();
    let mut changed = 0;
    loop {
        // Small chunks: each is a short write transaction that purchases can slip between.
        let chunk = store::pricing::chunk(conn, &after, 1000)?;
        let Some((last, _)) = chunk.last() else {
            super::planner_stats::after_repricing(conn, changed);
            return Ok(changed);
        };
        after = last.id.clone();
        let mut by_price: HashMap<i64, Vec<String>> = HashMap::new();
        for (facts, stored) in chunk {
            let price = quote_for(&facts, rules, 1, now).unit_cents;
            if price != stored {
                by_price.entry(price).or_default().push(facts.id);
            }
        }
        changed += write_transaction(conn, |conn| -> Result<usize, AppError> {
            let mut n = 0;
            for (price, ids) in &by_price {
                n += store::pricing::set_list_prices(conn, *price, ids)?;
            }
            Ok(n)
        })?;
    }
}

/// Reprices once a day (freshness decays by the day): the first process to claim the
/// new day does it. `None` when another process has it, or it was done today.
pub fn reprice_if_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Option<usize>, AppError> {
    let today = now.date();
    if !store::pricing::claim_repricing(conn, today)? {
        return Ok(None);
    }
    let result = rules(conn).and_then(|rules| reprice(conn, &rules, now));
    if result.is_err() {
        // Let the next pass (here or in another process) try again.
        let _ = store::pricing::set_priced_on(conn, today.pred_opt().unwrap_or(today));
    }
    result.map(Some)
}

/// Sets or removes (`factor` empty) a price rule, as the admin tunes them. `factor` is a
/// multiplier such as `1.15`; stored in basis points.
pub fn tune_price_rule(
    conn: &mut AnyConnection,
    kind: &str,
    match_value: &str,
    factor: &str,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    // `None` (an unknown kind) is a problem; its other checks run as for a plain rule.
    let kind: Option<PriceRuleKind> = kind.parse().ok();
    if kind.is_none() {
        let kinds: Vec<&str> = PriceRuleKind::ALL
            .iter()
            .map(PriceRuleKind::as_str)
            .collect();
        problems.push(FieldProblem::new(
            "kind",
            format!("must be one of {}", kinds.join(", ")),
        ));
    }
    let match_value = match kind {
        Some(PriceRuleKind::Exclusive) => "1".to_string(),
        Some(PriceRuleKind::FreshnessPerDay | PriceRuleKind::FreshnessFloor) => String::new(),
        Some(PriceRuleKind::Country) => match_value.trim().to_ascii_uppercase(),
        _ => match_value.trim().to_string(),
    };
    match kind {
        Some(PriceRuleKind::Warmth) if !matches!(match_value.as_str(), "cold" | "warm" | "hot") => {
            problems.push(FieldProblem::new(
                "match_value",
                "a warmth rule matches cold, warm or hot",
            ))
        }
        Some(PriceRuleKind::Segment | PriceRuleKind::Country) if match_value.is_empty() => problems
            .push(FieldProblem::new(
                "match_value",
                "name the segment or country",
            )),
        Some(PriceRuleKind::Quantity) if match_value.parse::<u32>().map_or(true, |q| q < 2) => {
            problems.push(FieldProblem::new(
                "match_value",
                "a quantity tier starts at a whole number of 2 or more",
            ))
        }
        _ => {}
    }
    let factor = factor.trim();
    let factor_bp = if factor.is_empty() {
        None
    } else {
        // Freshness per day is a loss per day (0.02 = 2%); the others are multipliers.
        match factor.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 && f <= 10.0 => Some((f * 10_000.0).round() as i32),
            _ => {
                problems.push(FieldProblem::new(
                    "factor",
                    "must be a number above 0 and at most 10, such as 1.15",
                ));
                None
            }
        }
    };
    let (Some(kind), true) = (kind, problems.is_empty()) else {
        return Err(AppError::Validation(problems));
    };
    write_transaction(conn, |conn| -> Result<(), AppError> {
        match factor_bp {
            Some(bp) => store::pricing::set_price_rule(conn, kind, &match_value, bp)?,
            None => store::pricing::delete_price_rule(conn, kind, &match_value)?,
        };
        Ok(())
    })?;
    // Buyers filter and sort by the new prices at once.
    let rules = rules(conn)?;
    reprice(conn, &rules, store::now())?;
    Ok(())
}

// ---- the catalogue ----------------------------------------------------------------------

/// The agency behind a catalogue item.
#[derive(Debug, Clone, PartialEq)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
    /// Approved disputes per sale over the last 30 days (0.0 is best); `None` until the
    /// agency has enough sales to be rated.
    pub quality_score: Option<f64>,
}

/// A lead as buyers may see it before they buy: only what they filter on, never name,
/// phone, email or street; priced for one unit now.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueItem {
    pub id: String,
    pub age: i32,
    pub income_band: Option<String>,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_prefix: Option<String>,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub contact_type: String,
    pub verified: bool,
    pub score: i32,
    /// Soft pseudo-lead signals, e.g. `fast_form`.
    pub flags: Vec<String>,
    pub captured_at: NaiveDateTime,
    /// The unit price for one lead, modifiers included.
    pub price_cents: i64,
    pub price_steps: Vec<pricing::Step>,
    pub remaining_sales: i32,
    pub agency: AgencyRef,
}

/// One page of the catalogue and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct CataloguePage {
    pub items: Vec<CatalogueItem>,
    /// Exact up to `store::catalogue::COUNT_CAP`; past that, one more and `total_exact` false.
    pub total: i64,
    pub total_exact: bool,
    pub next_cursor: Option<String>,
}

/// One catalogue page for a buyer (the API's and the page's): the matching leads priced
/// by today's rules, each with its agency's name and quality.
pub fn catalogue_page(
    conn: &mut AnyConnection,
    disputes: &DisputeConfig,
    buyer_id: &str,
    parsed: &catalogue::Parsed,
) -> Result<CataloguePage, AppError> {
    let now = store::now();
    let store::catalogue::CataloguePage {
        rows,
        agency_names,
        base_prices,
        total,
        total_exact,
    } = store::catalogue::page(conn, buyer_id, parsed, now)?;
    let next_cursor = (rows.len() as i64 == parsed.limit)
        .then(|| rows.last())
        .flatten()
        .map(|r| {
            Cursor::after(
                parsed.sort,
                r.captured_at,
                r.score,
                r.list_price_cents,
                &r.id,
            )
            .encode()
        });
    let rules = rules(conn)?;
    let mut quality = HashMap::new();
    for agency in agency_names.keys() {
        quality.insert(
            agency.clone(),
            super::disputes::quality(conn, disputes, agency, now)?,
        );
    }
    Ok(CataloguePage {
        items: catalogue_items(rows, &agency_names, &base_prices, &quality, &rules, now),
        total,
        total_exact,
        next_cursor,
    })
}

/// The one place catalogue rows become items a buyer may see.
fn catalogue_items(
    rows: Vec<CatalogueRow>,
    agency_names: &HashMap<String, String>,
    base_prices: &HashMap<String, i64>,
    quality: &HashMap<String, Option<f64>>,
    rules: &PriceRules,
    now: NaiveDateTime,
) -> Vec<CatalogueItem> {
    rows.into_iter()
        .map(|r| {
            let quote = pricing::quote(
                &PriceFacts {
                    base_cents: base_prices.get(&r.batch_id).copied().unwrap_or(0),
                    warmth: &r.warmth,
                    max_sales: r.max_sales,
                    segment: &r.segment,
                    country: &r.country,
                    captured_at: r.captured_at,
                },
                rules,
                1,
                now,
            );
            CatalogueItem {
                income_band: catalogue::income_band(r.income_cents),
                postal_prefix: catalogue::postal_prefix(r.postal_code.as_deref()),
                flags: r
                    .flags
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
                captured_at: r.captured_at,
                price_cents: quote.unit_cents,
                price_steps: quote.steps,
                remaining_sales: r.max_sales - r.sales_count,
                agency: AgencyRef {
                    name: agency_names.get(&r.agency_id).cloned().unwrap_or_default(),
                    quality_score: quality.get(&r.agency_id).copied().flatten(),
                    id: r.agency_id,
                },
                id: r.id,
                age: r.age,
                country: r.country,
                region: r.region,
                city: r.city,
                segment: r.segment,
                channel: r.channel,
                warmth: r.warmth,
                contact_type: r.contact_type,
                verified: r.verified,
                score: r.score,
            }
        })
        .collect()
}
