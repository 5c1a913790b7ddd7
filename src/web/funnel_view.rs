//! What the funnel's page and its API share: the query as typed and checked, how groups
//! are named, and the CSV rows (pages and the API never import from each other).

use serde::Deserialize;

use crate::domain::funnel::{GroupBy, Range, Step};
use crate::error::FieldProblem;
use crate::services::funnel::FunnelReport;
use crate::store;

#[derive(Debug, Default, Deserialize)]
pub struct FunnelQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub group_by: Option<String>,
    /// Staff only: one agency's funnel.
    pub agency: Option<String>,
}

/// The funnel's query as checked: the range, the grouping and (staff) the agency.
pub struct Asked {
    pub range: Range,
    pub group_by: GroupBy,
    pub agency: Option<String>,
}

impl FunnelQuery {
    pub fn check(&self) -> Result<Asked, Vec<FieldProblem>> {
        let today = store::now().date();
        let mut problems: Vec<FieldProblem> = Vec::new();
        let range = Range::parse(self.from.as_deref(), self.to.as_deref(), today)
            .map_err(|p| problems.extend(p.into_iter().map(|(f, m)| FieldProblem::new(f, m))))
            .ok();
        let group_by = match self.group_by.as_deref().map(str::trim) {
            None | Some("") => Some(GroupBy::Day),
            Some(g) => g.parse().ok().or_else(|| {
                problems.push(FieldProblem::new(
                    "group_by",
                    "must be day, batch, segment, channel or warmth",
                ));
                None
            }),
        };
        let agency = self
            .agency
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        match (range, group_by) {
            (Some(range), Some(group_by)) if problems.is_empty() => Ok(Asked {
                range,
                group_by,
                agency,
            }),
            _ => Err(problems),
        }
    }
}

/// A group's name as people read it.
pub fn group_label(
    group_by: GroupBy,
    key: &str,
    report: &FunnelReport,
    names: &store::reference::Names,
) -> String {
    match group_by {
        GroupBy::Day => key.to_string(),
        GroupBy::Segment => names.segment(key),
        GroupBy::Channel => names.channel(key),
        GroupBy::Warmth => {
            let mut c = key.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
        GroupBy::Batch => report
            .batches
            .iter()
            .find(|b| b.id == key)
            .map(|b| {
                let day = b.created_at.format("%Y-%m-%d");
                match &b.filename {
                    Some(f) => format!("{f} ({day})"),
                    None if b.source == "api-realtime" => format!("API leads of {day}"),
                    None => format!("Batch of {day}"),
                }
            })
            .unwrap_or_else(|| key.to_string()),
    }
}

/// The funnel's groups as CSV rows, then a `total` row of the steps.
pub fn csv_rows(
    report: &FunnelReport,
    group_by: GroupBy,
    names: &store::reference::Names,
) -> Vec<Vec<String>> {
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut rows: Vec<Vec<String>> = report
        .funnel
        .groups
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                group_label(group_by, &g.key, report, names),
                n(g.counts.traffic),
                n(g.counts.leads),
                g.counts.qualified.to_string(),
                g.counts.sold.to_string(),
                g.counts.converted.to_string(),
            ]
        })
        .collect();
    let f = &report.funnel;
    rows.push(vec![
        "total".into(),
        "Total".into(),
        n(f.count(Step::Traffic)),
        n(f.count(Step::Leads)),
        n(f.count(Step::Qualified)),
        n(f.count(Step::Sold)),
        n(f.count(Step::Converted)),
    ]);
    rows
}

pub const CSV_HEADER: [&str; 7] = [
    "key",
    "label",
    "traffic",
    "leads",
    "qualified",
    "sold",
    "converted",
];
