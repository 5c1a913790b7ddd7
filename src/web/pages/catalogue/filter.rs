//! The catalogue page's query string. People type money in major units (`income_min`,
//! `income_max`, `max_price`); the filter underneath, shared with the API, takes cents.
//! The page's older names (`income_min_cents`, ...) still mean cents, so a bookmarked
//! URL filters as it always did rather than a hundred times off.

use crate::domain::catalogue::{self, Parsed, RawFilter};
use crate::domain::money;
use crate::error::FieldProblem;

/// Page field (major units) and the filter parameter (cents) it stands for.
const MONEY_FIELDS: [(&str, &str); 3] = [
    ("income_min", "income_min_cents"),
    ("income_max", "income_max_cents"),
    ("max_price", "max_price_cents"),
];

/// The money fields as typed (or, from an older URL in cents, as major units).
#[derive(Default)]
pub(crate) struct Typed {
    pub income_min: String,
    pub income_max: String,
    pub max_price: String,
}

impl Typed {
    fn slot(&mut self, page_name: &str) -> &mut String {
        match page_name {
            "income_min" => &mut self.income_min,
            "income_max" => &mut self.income_max,
            _ => &mut self.max_price,
        }
    }
}

/// The page's filter, read once: what to show again, and the parsed filter when every
/// field was fine.
pub(crate) struct PageFilter {
    pub raw: RawFilter,
    pub typed: Typed,
    pub parsed: Option<Parsed>,
    /// Named by the page's fields.
    pub problems: Vec<FieldProblem>,
}

impl PageFilter {
    pub fn read(query: &str) -> Self {
        let mut problems = Vec::new();
        let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(query) {
            Ok(p) => p,
            Err(_) => {
                problems.push(FieldProblem::new("query", "is not a valid query string"));
                Vec::new()
            }
        };
        let mut typed = Typed::default();
        let mut filter_pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            if let Some((page_name, cents_name)) = MONEY_FIELDS.iter().find(|(p, _)| *p == k) {
                *typed.slot(page_name) = v.clone();
                if v.trim().is_empty() {
                    continue;
                }
                match money::parse_major(&v) {
                    Ok(cents) => filter_pairs.push((cents_name.to_string(), cents.to_string())),
                    Err(problem) => problems.push(FieldProblem::new(*page_name, problem)),
                }
            } else if let Some((page_name, _)) = MONEY_FIELDS.iter().find(|(_, c)| *c == k) {
                // An older URL in cents: shown in major units, so the next search uses
                // the new field.
                *typed.slot(page_name) = v
                    .trim()
                    .parse::<i64>()
                    .map(money::major_plain)
                    .unwrap_or_else(|_| v.clone());
                filter_pairs.push((k, v));
            } else {
                filter_pairs.push((k, v));
            }
        }
        let filter_query = serde_urlencoded::to_string(&filter_pairs).unwrap_or_default();
        let raw = match RawFilter::from_query(&filter_query) {
            Ok(raw) => raw,
            Err(p) => {
                problems.extend(p);
                RawFilter::default()
            }
        };
        let parsed = if problems.is_empty() {
            match catalogue::parse(&raw) {
                Ok(parsed) => Some(parsed),
                Err(p) => {
                    problems.extend(p);
                    None
                }
            }
        } else {
            None
        };
        Self {
            raw,
            typed,
            parsed,
            problems: problems.into_iter().map(page_names).collect(),
        }
    }
}

/// A filter problem in the page's words: its fields, not the API's `_cents` names.
fn page_names(p: FieldProblem) -> FieldProblem {
    let mut field = p.field;
    let mut problem = p.problem;
    for (page_name, cents_name) in MONEY_FIELDS {
        if field == cents_name {
            field = page_name.to_string();
        }
        problem = problem.replace(cents_name, page_name);
    }
    FieldProblem { field, problem }
}

/// The query string without the cursor, to build links from.
pub(crate) fn base_query(query: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| k != "cursor" && !v.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_filters_are_typed_in_major_units() {
        let f = PageFilter::read("income_min=40%2C000&max_price=12.5&sort=-score");
        let parsed = f.parsed.expect("parses");
        assert_eq!(parsed.filter.income_min_cents, Some(4_000_000));
        assert_eq!(parsed.filter.max_price_cents, Some(1250));
        assert_eq!(f.typed.income_min, "40,000");
    }

    #[test]
    fn a_bookmarked_url_in_cents_filters_as_before_and_shows_major_units() {
        let f = PageFilter::read("income_min_cents=4000000");
        assert_eq!(f.parsed.unwrap().filter.income_min_cents, Some(4_000_000));
        assert_eq!(f.typed.income_min, "40000.00");
    }

    #[test]
    fn a_bad_amount_is_named_by_the_page_field_and_kept_as_typed() {
        let f = PageFilter::read("max_price=12.505&segment=travel");
        assert!(f.parsed.is_none());
        assert_eq!(f.problems[0].field, "max_price");
        assert_eq!(f.typed.max_price, "12.505");
        assert_eq!(f.raw.segment.as_deref(), Some("travel"));
        let f = PageFilter::read("income_min=500&income_max=100");
        assert_eq!(f.problems[0].field, "income_max");
        assert!(f.problems[0].problem.contains("income"), "{:?}", f.problems);
    }
}
