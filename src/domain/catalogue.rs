//! Catalogue filters as buyers send them (query string), parsed once with every problem
//! listed; sort orders; opaque keyset cursors; and the coarse views shown before sale.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::domain::problem::FieldProblem;
use crate::domain::reference::SegmentTree;

/// The query string of `GET /catalogue` (and the page), as received.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RawFilter {
    pub segment: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_prefix: Option<String>,
    pub age_min: Option<String>,
    pub age_max: Option<String>,
    pub income_min_cents: Option<String>,
    pub income_max_cents: Option<String>,
    /// Repeatable, or comma-separated.
    pub warmth: Option<String>,
    pub contact_type: Option<String>,
    pub verified: Option<String>,
    pub min_score: Option<String>,
    pub max_price_cents: Option<String>,
    pub max_age_days: Option<String>,
    pub exclusive: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

impl RawFilter {
    /// From a query string, where `warmth` may repeat. Unknown parameters are problems:
    /// a misspelt filter must not silently widen a purchase.
    pub fn from_query(query: &str) -> Result<Self, Vec<FieldProblem>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| vec![FieldProblem::new("query", "is not a valid query string")])?;
        let mut raw = RawFilter::default();
        let mut warmth: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        for (k, v) in pairs {
            // Filters also come from saved forms and purchase bodies, not only URLs.
            if let Some(c) =
                crate::domain::text::refused_character(&v, crate::domain::text::TextKind::Line)
            {
                problems.push(FieldProblem::new(
                    k.clone(),
                    crate::domain::text::problem(c),
                ));
                continue;
            }
            let slot = match k.as_str() {
                "warmth" => {
                    warmth.push(v);
                    continue;
                }
                "segment" => &mut raw.segment,
                "country" => &mut raw.country,
                "region" => &mut raw.region,
                "city" => &mut raw.city,
                "postal_prefix" => &mut raw.postal_prefix,
                "age_min" => &mut raw.age_min,
                "age_max" => &mut raw.age_max,
                "income_min_cents" => &mut raw.income_min_cents,
                "income_max_cents" => &mut raw.income_max_cents,
                "contact_type" => &mut raw.contact_type,
                "verified" => &mut raw.verified,
                "min_score" => &mut raw.min_score,
                "max_age_days" => &mut raw.max_age_days,
                "exclusive" => &mut raw.exclusive,
                "sort" => &mut raw.sort,
                "limit" => &mut raw.limit,
                "cursor" => &mut raw.cursor,
                "max_price_cents" => &mut raw.max_price_cents,
                other => {
                    problems.push(FieldProblem::new(
                        other.to_string(),
                        "is not a catalogue filter",
                    ));
                    continue;
                }
            };
            *slot = Some(v);
        }
        if !warmth.is_empty() {
            raw.warmth = Some(warmth.join(","));
        }
        if problems.is_empty() {
            Ok(raw)
        } else {
            Err(problems)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest capture first (the default).
    #[default]
    Fresh,
    Score,
    ScoreDesc,
    /// Cheapest first, by today's list price.
    Price,
    PriceDesc,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub segment: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub postal_prefix: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub income_min_cents: Option<i64>,
    pub income_max_cents: Option<i64>,
    pub warmth: Vec<String>,
    pub contact_type: Option<String>,
    pub verified: Option<bool>,
    pub min_score: Option<i32>,
    /// Today's unit price (list price) at most this.
    pub max_price_cents: Option<i64>,
    pub max_age_days: Option<i64>,
    pub exclusive: Option<bool>,
}

/// Where a page starts: the sort value and id of the last item seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Fresh(NaiveDateTime, String),
    Score(i32, String),
    Price(i64, String),
}

pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 50;

impl Cursor {
    pub fn encode(&self) -> String {
        let raw = match self {
            Cursor::Fresh(t, id) => format!("f|{}|{id}", t.format("%Y-%m-%dT%H:%M:%S%.6f")),
            Cursor::Score(s, id) => format!("s|{s}|{id}"),
            Cursor::Price(p, id) => format!("p|{p}|{id}"),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The cursor after an item with these sort values, for `sort`.
    pub fn after(
        sort: Sort,
        captured_at: NaiveDateTime,
        score: i32,
        list_price_cents: i64,
        id: &str,
    ) -> Cursor {
        let id = id.to_string();
        match sort {
            Sort::Fresh => Cursor::Fresh(captured_at, id),
            Sort::Score | Sort::ScoreDesc => Cursor::Score(score, id),
            Sort::Price | Sort::PriceDesc => Cursor::Price(list_price_cents, id),
        }
    }

    pub fn decode(raw: &str, sort: Sort) -> Option<Cursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw.trim()).ok()?).ok()?;
        let mut parts = text.splitn(3, '|');
        let (kind, value, id) = (parts.next()?, parts.next()?, parts.next()?.to_string());
        match (kind, sort) {
            ("f", Sort::Fresh) => NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| Cursor::Fresh(t, id)),
            ("s", Sort::Score | Sort::ScoreDesc) => {
                value.parse().ok().map(|s| Cursor::Score(s, id))
            }
            ("p", Sort::Price | Sort::PriceDesc) => {
                value.parse().ok().map(|p| Cursor::Price(p, id))
            }
            _ => None,
        }
    }
}

pub struct Parsed {
    pub filter: Filter,
    pub sort: Sort,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parses every filter, listing each problem.
pub fn parse(raw: &RawFilter) -> Result<Parsed, Vec<FieldProblem>> {
    let mut p = Vec::new();
    // `$what` names the filter in plain words: the message is read beside the field.
    macro_rules! num {
        ($field:ident, $ty:ty, $range:expr, $what:literal) => {
            match clean(&raw.$field) {
                None => None,
                Some(v) => match v.parse::<$ty>() {
                    Ok(n) if $range.contains(&n) => Some(n),
                    _ => {
                        let (lo, hi) = ($range.start(), $range.end());
                        p.push(FieldProblem::new(
                            stringify!($field),
                            if *hi == <$ty>::MAX {
                                format!("{} must be a whole number, {lo} or more", $what)
                            } else {
                                format!("{} must be a whole number between {lo} and {hi}", $what)
                            },
                        ));
                        None
                    }
                },
            }
        };
    }
    let age_min = num!(age_min, i32, 18..=120, "age");
    let age_max = num!(age_max, i32, 18..=120, "age");
    let income_min_cents = num!(income_min_cents, i64, 0..=i64::MAX, "income");
    let income_max_cents = num!(income_max_cents, i64, 0..=i64::MAX, "income");
    let min_score = num!(min_score, i32, 0..=100, "the score");
    let max_price_cents = num!(max_price_cents, i64, 0..=i64::MAX, "the price");
    let max_age_days = num!(max_age_days, i64, 0..=3650, "the age in days");
    let limit = num!(limit, i64, 1..=MAX_LIMIT, "the page size").unwrap_or(DEFAULT_LIMIT);
    if let (Some(a), Some(b)) = (age_min, age_max)
        && a > b
    {
        p.push(FieldProblem::new(
            "age_max",
            "the highest age must not be below the lowest",
        ));
    }
    if let (Some(a), Some(b)) = (income_min_cents, income_max_cents)
        && a > b
    {
        p.push(FieldProblem::new(
            "income_max_cents",
            "the highest income must not be below the lowest",
        ));
    }
    let boolean = |name: &'static str, v: &Option<String>, p: &mut Vec<FieldProblem>| match clean(v)
        .as_deref()
    {
        None => None,
        Some("true" | "1" | "yes") => Some(true),
        Some("false" | "0" | "no") => Some(false),
        Some(_) => {
            p.push(FieldProblem::new(name, "must be true or false"));
            None
        }
    };
    let verified = boolean("verified", &raw.verified, &mut p);
    let exclusive = boolean("exclusive", &raw.exclusive, &mut p);
    let warmth: Vec<String> = clean(&raw.warmth)
        .map(|w| {
            w.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for w in &warmth {
        if !matches!(w.as_str(), "cold" | "warm" | "hot") {
            p.push(FieldProblem::new(
                "warmth",
                format!("`{w}` is not cold, warm or hot"),
            ));
        }
    }
    let postal_prefix = clean(&raw.postal_prefix).and_then(|raw| {
        let key = postal_normal(&raw);
        if key.is_empty() {
            p.push(FieldProblem::new(
                "postal_prefix",
                "must hold letters or digits of a postal code",
            ));
            return None;
        }
        Some(key)
    });
    let contact_type = clean(&raw.contact_type).map(|c| c.to_ascii_lowercase());
    if let Some(c) = &contact_type
        && !matches!(
            c.as_str(),
            "quick" | "registration" | "promotional" | "interested"
        )
    {
        p.push(FieldProblem::new(
            "contact_type",
            "must be quick, registration, promotional or interested",
        ));
    }
    let sort = match clean(&raw.sort).as_deref() {
        None | Some("fresh") => Sort::Fresh,
        Some("score") => Sort::Score,
        Some("-score") => Sort::ScoreDesc,
        Some("price") => Sort::Price,
        Some("-price") => Sort::PriceDesc,
        Some(other) => {
            p.push(FieldProblem::new(
                "sort",
                format!("`{other}` is not fresh, score, -score, price or -price"),
            ));
            Sort::Fresh
        }
    };
    let cursor = match clean(&raw.cursor) {
        None => None,
        Some(c) => {
            let decoded = Cursor::decode(&c, sort);
            if decoded.is_none() {
                p.push(FieldProblem::new(
                    "cursor",
                    "is not a cursor of this listing",
                ));
            }
            decoded
        }
    };
    if !p.is_empty() {
        return Err(p);
    }
    Ok(Parsed {
        filter: Filter {
            segment: clean(&raw.segment),
            country: clean(&raw.country).map(|c| c.to_ascii_uppercase()),
            region: clean(&raw.region),
            city: clean(&raw.city),
            postal_prefix,
            age_min,
            age_max,
            income_min_cents,
            income_max_cents,
            warmth,
            contact_type,
            verified,
            min_score,
            max_price_cents,
            max_age_days,
            exclusive,
        },
        sort,
        limit,
        cursor,
    })
}

/// What a catalogue filter reads of one lead: the columns `store::catalogue` filters on.
/// A standing order matches a new lead with [`Filter::matches`] rather than a query, so
/// the two must agree (`tests/it/allocation.rs` checks them against each other).
#[derive(Debug, Clone)]
pub struct LeadFacts<'a> {
    pub segment: &'a str,
    pub country: &'a str,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
    /// The stored `postal_key` ([`postal_key`]).
    pub postal_key: Option<&'a str>,
    pub age: i32,
    pub income_cents: Option<i64>,
    pub warmth: &'a str,
    pub contact_type: &'a str,
    pub verified: bool,
    pub score: i32,
    pub list_price_cents: i64,
    pub captured_at: NaiveDateTime,
    pub max_sales: i32,
}

impl Filter {
    /// Whether the catalogue query under this filter would list `lead` at `now` (its
    /// filters only: status, sales left, purchases and suspensions are the caller's), with
    /// sub-segments found through `tree`.
    pub fn matches(&self, lead: &LeadFacts<'_>, tree: &SegmentTree, now: NaiveDateTime) -> bool {
        let opt_eq = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        self.segment
            .as_deref()
            .is_none_or(|s| tree.within(lead.segment, s))
            && self.country.as_deref().is_none_or(|c| lead.country == c)
            // The key starts with the lead's own country, so after the country check
            // "the code after the country starts with the prefix" is what both SQL forms
            // (a key range with a country, a LIKE without) ask.
            && self.postal_prefix.as_deref().is_none_or(|p| {
                lead.postal_key
                    .and_then(|k| k.get(2..))
                    .is_some_and(|code| code.starts_with(p))
            })
            && opt_eq(&self.region, lead.region)
            && opt_eq(&self.city, lead.city)
            && self.age_min.is_none_or(|a| lead.age >= a)
            && self.age_max.is_none_or(|a| lead.age <= a)
            && self
                .income_min_cents
                .is_none_or(|i| lead.income_cents.is_some_and(|l| l >= i))
            && self
                .income_max_cents
                .is_none_or(|i| lead.income_cents.is_some_and(|l| l <= i))
            && (self.warmth.is_empty() || self.warmth.iter().any(|w| w == lead.warmth))
            && opt_eq(&self.contact_type, Some(lead.contact_type))
            && self.verified.is_none_or(|v| lead.verified == v)
            && self.min_score.is_none_or(|s| lead.score >= s)
            && self
                .max_price_cents
                .is_none_or(|p| lead.list_price_cents <= p)
            && self
                .max_age_days
                .is_none_or(|d| lead.captured_at >= now - chrono::TimeDelta::days(d))
            && self.exclusive.is_none_or(|e| (lead.max_sales == 1) == e)
    }
}

/// Income shown before sale: a band, never the figure.
pub fn income_band(income_cents: Option<i64>) -> Option<String> {
    let major = income_cents? / 100;
    let (lo, hi) = match major {
        i64::MIN..=19_999 => return Some("under 20k".into()),
        20_000..=34_999 => (20, 35),
        35_000..=49_999 => (35, 50),
        50_000..=74_999 => (50, 75),
        75_000..=99_999 => (75, 100),
        100_000..=149_999 => (100, 150),
        _ => return Some("150k and more".into()),
    };
    Some(format!("{lo}k-{hi}k"))
}

/// The first characters of a postal code: enough to target an area, not an address.
pub fn postal_prefix(postal_code: Option<&str>) -> Option<String> {
    let code = postal_code?.trim();
    let prefix: String = code
        .chars()
        .filter(|c| c.is_alphanumeric())
        .take(3)
        .collect();
    (!prefix.is_empty()).then_some(prefix.to_ascii_uppercase())
}

/// A postal code as compared: ASCII letters and digits only, upper-case (`sw1a 1aa`,
/// `SW1A-1AA` and `SW1A1AA` are one code).
fn postal_normal(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The stored key the postal prefix filter searches: the country, then the normalised
/// postal code (`FR75008`). The country in front keeps each country's codes together, so a
/// prefix of one country is one range of the index and the planner estimates it well.
pub fn postal_key(country: &str, postal_code: Option<&str>) -> Option<String> {
    let code = postal_normal(postal_code?);
    (!code.is_empty()).then(|| format!("{}{code}", country.to_ascii_uppercase()))
}

/// The half-open range `[from, to)` of postal keys that start with `prefix` in `country`,
/// in byte order. Keys and prefixes are ASCII letters and digits, so raising the last byte
/// by one never overflows. `None` unless `country` is two letters, as every key's country
/// is: `country=F&postal_prefix=R75` must not read as `FR75`.
pub fn postal_key_range(country: &str, prefix: &str) -> Option<(String, String)> {
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let from = format!("{}{}", country.to_ascii_uppercase(), postal_normal(prefix));
    let mut to = from.clone().into_bytes();
    if let Some(last) = to.last_mut() {
        *last += 1;
    }
    let to = String::from_utf8(to).expect("ASCII stays UTF-8");
    Some((from, to))
}

/// A LIKE pattern for keys of any country that start with `prefix`: the two characters of
/// the country, then the prefix (letters and digits only, so no LIKE wildcards).
pub fn postal_key_pattern(prefix: &str) -> String {
    format!("__{}%", postal_normal(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_every_problem_is_listed() {
        let raw = RawFilter {
            age_min: Some("40".into()),
            age_max: Some("30".into()),
            warmth: Some("hot, boiling".into()),
            verified: Some("maybe".into()),
            sort: Some("cheap".into()),
            limit: Some("501".into()),
            ..Default::default()
        };
        let problems = parse(&raw).err().unwrap();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in ["age_max", "warmth", "verified", "sort", "limit"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let ok = parse(&RawFilter {
            warmth: Some("hot,warm".into()),
            country: Some("gb".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.filter.warmth, vec!["hot", "warm"]);
        assert_eq!(ok.filter.country.as_deref(), Some("GB"));
        assert_eq!(ok.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn query_strings_repeat_warmth_and_refuse_unknown_filters() {
        let raw =
            RawFilter::from_query("warmth=hot&warmth=warm&segment=insurance&limit=5").unwrap();
        assert_eq!(raw.warmth.as_deref(), Some("hot,warm"));
        assert_eq!(raw.segment.as_deref(), Some("insurance"));
        let problems = RawFilter::from_query("segmnet=x&max_prize_cents=100").unwrap_err();
        assert_eq!(problems.len(), 2);
        let problems = RawFilter::from_query("city=Ber%00lin").unwrap_err();
        assert_eq!(problems[0].field, "city");
        let raw = RawFilter::from_query("max_price_cents=250&sort=-price").unwrap();
        let parsed = parse(&raw).unwrap();
        assert_eq!(parsed.filter.max_price_cents, Some(250));
        assert_eq!(parsed.sort, Sort::PriceDesc);
        let bad = RawFilter::from_query("max_price_cents=-1").unwrap();
        assert_eq!(parse(&bad).err().unwrap()[0].field, "max_price_cents");
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_micro_opt(10, 0, 0, 123_456)
            .unwrap();
        let c = Cursor::Fresh(t, "abc".into());
        assert_eq!(Cursor::decode(&c.encode(), Sort::Fresh), Some(c.clone()));
        assert_eq!(Cursor::decode(&c.encode(), Sort::Score), None);
        assert_eq!(Cursor::decode("garbage!", Sort::Fresh), None);
        let s = Cursor::Score(77, "x".into());
        assert_eq!(Cursor::decode(&s.encode(), Sort::ScoreDesc), Some(s));
        let p = Cursor::Price(1250, "y".into());
        assert_eq!(Cursor::decode(&p.encode(), Sort::Price), Some(p.clone()));
        assert_eq!(Cursor::decode(&p.encode(), Sort::Score), None);
    }

    #[test]
    fn income_and_postal_codes_are_coarsened() {
        assert_eq!(income_band(Some(5_200_000)).as_deref(), Some("50k-75k"));
        assert_eq!(income_band(Some(100)).as_deref(), Some("under 20k"));
        assert_eq!(income_band(None), None);
        assert_eq!(postal_prefix(Some("sw1a 1aa")).as_deref(), Some("SW1"));
        assert_eq!(postal_prefix(Some("75008")).as_deref(), Some("750"));
    }

    #[test]
    fn postal_keys_ignore_case_and_separators_and_ranges_cover_exactly_the_prefix() {
        assert_eq!(
            postal_key("gb", Some("sw1a 1aa")).as_deref(),
            Some("GBSW1A1AA")
        );
        assert_eq!(
            postal_key("GB", Some("SW1A-1AA")),
            postal_key("GB", Some("sw1a1aa"))
        );
        assert_eq!(postal_key("FR", Some(" - ")), None);
        assert_eq!(postal_key("FR", None), None);
        let (from, to) = postal_key_range("FR", "75").unwrap();
        assert_eq!((from.as_str(), to.as_str()), ("FR75", "FR76"));
        assert_eq!(postal_key_range("F", "R75"), None);
        assert_eq!(postal_key_pattern("sw1"), "__SW1%");
        let (from, to) = postal_key_range("GB", "sw1z").unwrap();
        assert_eq!((from.as_str(), to.as_str()), ("GBSW1Z", "GBSW1["));
        let inside = |k: &str| from.as_str() <= k && k < to.as_str();
        assert!(inside("GBSW1Z"));
        assert!(inside("GBSW1Z9ZZ"));
        assert!(!inside("GBSW1Y9ZZ"));
        assert!(!inside("GBSW2"));
    }

    #[test]
    fn a_postal_prefix_filter_is_normalised_and_needs_a_letter_or_digit() {
        let parsed = parse(&RawFilter {
            postal_prefix: Some(" sw1a ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(parsed.filter.postal_prefix.as_deref(), Some("SW1A"));
        let Err(problems) = parse(&RawFilter {
            postal_prefix: Some("--".into()),
            ..Default::default()
        }) else {
            panic!("`--` holds no postal code");
        };
        assert_eq!(problems[0].field, "postal_prefix");
    }

    fn lead(now: NaiveDateTime) -> LeadFacts<'static> {
        LeadFacts {
            segment: "insurance.car",
            country: "FR",
            region: Some("IDF"),
            city: Some("Paris"),
            postal_key: Some("FR75008"),
            age: 40,
            income_cents: Some(5_000_000),
            warmth: "hot",
            contact_type: "quick",
            verified: true,
            score: 70,
            list_price_cents: 1200,
            captured_at: now - chrono::TimeDelta::days(2),
            max_sales: 1,
        }
    }

    fn filter(query: &str) -> Filter {
        parse(&RawFilter::from_query(query).unwrap())
            .unwrap()
            .filter
    }

    #[test]
    fn a_filter_matches_a_lead_on_every_field_it_names() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let l = lead(now);
        for q in [
            "",
            "segment=insurance",
            "segment=insurance.car&country=fr",
            "postal_prefix=75",
            "country=FR&postal_prefix=750",
            "region=IDF&city=Paris",
            "age_min=40&age_max=40",
            "income_min_cents=5000000&income_max_cents=5000000",
            "warmth=warm&warmth=hot",
            "contact_type=quick&verified=true&min_score=70",
            "max_price_cents=1200&max_age_days=2&exclusive=true",
        ] {
            assert!(
                filter(q).matches(&l, &SegmentTree::default(), now),
                "{q:?} matches"
            );
        }
        for q in [
            "segment=insurance.health",
            "segment=finance",
            "country=DE",
            "postal_prefix=76",
            "country=DE&postal_prefix=75",
            "region=Other",
            "city=Lyon",
            "age_min=41",
            "age_max=39",
            "income_min_cents=5000001",
            "income_max_cents=4999999",
            "warmth=cold",
            "contact_type=registration",
            "verified=false",
            "min_score=71",
            "max_price_cents=1199",
            "max_age_days=1",
            "exclusive=false",
        ] {
            assert!(
                !filter(q).matches(&l, &SegmentTree::default(), now),
                "{q:?} does not match"
            );
        }
        let no_income = LeadFacts {
            income_cents: None,
            postal_key: None,
            ..l
        };
        assert!(!filter("income_min_cents=0").matches(&no_income, &SegmentTree::default(), now));
        assert!(!filter("postal_prefix=7").matches(&no_income, &SegmentTree::default(), now));
        // Moved under `motor`, the lead's segment keeps its slug and leaves `insurance`.
        let moved = SegmentTree::new([
            ("insurance".to_string(), None),
            ("motor".to_string(), None),
            ("insurance.car".to_string(), Some("motor".to_string())),
        ]);
        assert!(filter("segment=motor").matches(&l, &moved, now));
        assert!(filter("segment=insurance.car").matches(&l, &moved, now));
        assert!(!filter("segment=insurance").matches(&l, &moved, now));
    }
}
