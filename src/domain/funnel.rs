//! The funnel: traffic -> leads -> qualified -> sold -> converted, with each step's share
//! of the step before, in total and by batch, channel, segment, warmth or day.
//!
//! Every figure follows the batches uploaded in the range (a cohort): traffic and rows
//! received are the batch's own counts, the later steps its leads' rollup rows. Traffic
//! is reported per batch and rejected rows carry no trusted attributes, so grouped by a
//! lead attribute (segment, channel, warmth) those two steps are unknown, not zero.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::org::text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Traffic,
    Leads,
    Qualified,
    Sold,
    Converted,
}
text_enum!(Step {
    Traffic => "traffic",
    Leads => "leads",
    Qualified => "qualified",
    Sold => "sold",
    Converted => "converted",
});

impl Step {
    /// What the step counts, as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Step::Traffic => "Traffic (visitors reported)",
            Step::Leads => "Leads (rows received)",
            Step::Qualified => "Qualified (accepted)",
            Step::Sold => "Sold (at least once)",
            Step::Converted => "Converted (an action reported)",
        }
    }
}

/// What the groups of a funnel are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GroupBy {
    #[default]
    Day,
    Batch,
    Segment,
    Channel,
    Warmth,
}
text_enum!(GroupBy {
    Day => "day",
    Batch => "batch",
    Segment => "segment",
    Channel => "channel",
    Warmth => "warmth",
});

impl GroupBy {
    /// Whether a group knows its traffic and rows received (see the module's note).
    pub fn knows_intake(self) -> bool {
        matches!(self, GroupBy::Batch | GroupBy::Day)
    }
}

/// A batch in the range: what it received, as its own counts say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFacts {
    pub id: String,
    pub day: NaiveDate,
    pub traffic: Option<i64>,
    /// Rows received: accepted, rejected, duplicate and suppressed.
    pub received: i64,
}

/// One rollup row: a batch's leads of one segment, channel and warmth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub batch_id: String,
    pub segment: String,
    pub channel: String,
    pub warmth: String,
    pub qualified: i64,
    pub sold: i64,
    pub converted: i64,
}

/// One group's counts; `None` where the grouping cannot know the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub traffic: Option<i64>,
    pub leads: Option<i64>,
    pub qualified: i64,
    pub sold: i64,
    pub converted: i64,
}

impl Counts {
    pub fn get(&self, step: Step) -> Option<i64> {
        match step {
            Step::Traffic => self.traffic,
            Step::Leads => self.leads,
            Step::Qualified => Some(self.qualified),
            Step::Sold => Some(self.sold),
            Step::Converted => Some(self.converted),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepFigure {
    pub step: Step,
    /// `None`: traffic no batch in the range reported.
    pub count: Option<i64>,
    /// Percent of the step before, one decimal; `None` for the first step or when the
    /// step before is zero or unknown.
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The batch id, the slug, the warmth or the day (`YYYY-MM-DD`).
    pub key: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    pub steps: Vec<StepFigure>,
    pub groups: Vec<Group>,
}

impl Funnel {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn count(&self, step: Step) -> Option<i64> {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .and_then(|s| s.count)
    }
}

/// `part` as a percent of `whole`, one decimal.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The funnel of these batches and their rollup rows, grouped by `group_by`. Grouped by
/// day, every day from `first` to `last` has a group, so a chart's days are contiguous.
pub fn build(
    batches: &[BatchFacts],
    rows: &[CountRow],
    group_by: GroupBy,
    days: Option<(NaiveDate, NaiveDate)>,
) -> Funnel {
    let by_id: BTreeMap<&str, &BatchFacts> = batches.iter().map(|b| (b.id.as_str(), b)).collect();
    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    if let (GroupBy::Day, Some((first, last))) = (group_by, days) {
        for day in first.iter_days().take_while(|d| *d <= last) {
            groups.insert(day.to_string(), Counts::default());
        }
    }
    if group_by.knows_intake() {
        for b in batches {
            let key = match group_by {
                GroupBy::Batch => b.id.clone(),
                _ => b.day.to_string(),
            };
            let g = groups.entry(key).or_default();
            g.leads = Some(g.leads.unwrap_or(0) + b.received);
            if let Some(t) = b.traffic {
                g.traffic = Some(g.traffic.unwrap_or(0) + t);
            }
        }
    }
    for r in rows {
        let Some(batch) = by_id.get(r.batch_id.as_str()) else {
            continue;
        };
        let key = match group_by {
            GroupBy::Batch => r.batch_id.clone(),
            GroupBy::Day => batch.day.to_string(),
            GroupBy::Segment => r.segment.clone(),
            GroupBy::Channel => r.channel.clone(),
            GroupBy::Warmth => r.warmth.clone(),
        };
        let g = groups.entry(key).or_default();
        g.qualified += r.qualified;
        g.sold += r.sold;
        g.converted += r.converted;
    }
    let mut groups: Vec<Group> = groups
        .into_iter()
        .map(|(key, counts)| Group { key, counts })
        .collect();
    match group_by {
        // Days in calendar order; the rest biggest first.
        GroupBy::Day => {}
        GroupBy::Batch => groups.sort_by(|a, b| {
            let day = |g: &Group| by_id.get(g.key.as_str()).map(|f| f.day);
            day(b).cmp(&day(a)).then_with(|| a.key.cmp(&b.key))
        }),
        _ => groups.sort_by(|a, b| {
            b.counts
                .qualified
                .cmp(&a.counts.qualified)
                .then_with(|| a.key.cmp(&b.key))
        }),
    }
    Funnel {
        steps: steps(batches, rows),
        groups,
    }
}

fn steps(batches: &[BatchFacts], rows: &[CountRow]) -> Vec<StepFigure> {
    let traffic = batches
        .iter()
        .filter_map(|b| b.traffic)
        .reduce(|a, b| a + b);
    let leads: i64 = batches.iter().map(|b| b.received).sum();
    // Leads as a share of traffic counts only the batches that reported traffic.
    let leads_reported: i64 = batches
        .iter()
        .filter(|b| b.traffic.is_some())
        .map(|b| b.received)
        .sum();
    let known: std::collections::HashSet<&str> = batches.iter().map(|b| b.id.as_str()).collect();
    let (mut qualified, mut sold, mut converted) = (0, 0, 0);
    for r in rows.iter().filter(|r| known.contains(r.batch_id.as_str())) {
        qualified += r.qualified;
        sold += r.sold;
        converted += r.converted;
    }
    vec![
        StepFigure {
            step: Step::Traffic,
            count: traffic,
            percent: None,
        },
        StepFigure {
            step: Step::Leads,
            count: Some(leads),
            percent: traffic.and_then(|t| percent(leads_reported, t)),
        },
        StepFigure {
            step: Step::Qualified,
            count: Some(qualified),
            percent: percent(qualified, leads),
        },
        StepFigure {
            step: Step::Sold,
            count: Some(sold),
            percent: percent(sold, qualified),
        },
        StepFigure {
            step: Step::Converted,
            count: Some(converted),
            percent: percent(converted, sold),
        },
    ]
}

/// A date range as typed: both ends inclusive, at most [`MAX_DAYS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

pub const MAX_DAYS: i64 = 366;

impl Range {
    /// The range from `from` and `to` (`YYYY-MM-DD`, either may be empty): by default the
    /// 30 days ending `today`. Each problem names its field.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let mut day = |field: &'static str, raw: Option<&str>| match raw
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push((field, "must be a date such as 2026-11-30".to_string()));
                    None
                }
            },
        };
        let to_day = day("to", to);
        let from_day = day("from", from);
        if !problems.is_empty() {
            return Err(problems);
        }
        let to = to_day.unwrap_or(today);
        let from = from_day.unwrap_or(to - chrono::TimeDelta::days(29));
        if from > to {
            return Err(vec![("from", "must not be after `to`".to_string())]);
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(vec![(
                "from",
                format!("the range may cover at most {MAX_DAYS} days"),
            )]);
        }
        Ok(Self { from, to })
    }

    /// The first instant of `from` and the first instant after `to`.
    pub fn bounds(&self) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
        (
            self.from.and_hms_opt(0, 0, 0).expect("midnight"),
            (self.to + chrono::TimeDelta::days(1))
                .and_hms_opt(0, 0, 0)
                .expect("midnight"),
        )
    }

    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }
}

/// What a buyer's purchases of a group (an agency, a segment) came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub bought: i64,
    pub lead_spend_cents: i64,
    pub actions: i64,
    pub action_spend_cents: i64,
    pub disputes: i64,
    /// Disputes approved: the lead was returned and credited.
    pub returns: i64,
}

impl Outcome {
    pub fn add(&mut self, o: &Outcome) {
        self.bought += o.bought;
        self.lead_spend_cents += o.lead_spend_cents;
        self.actions += o.actions;
        self.action_spend_cents += o.action_spend_cents;
        self.disputes += o.disputes;
        self.returns += o.returns;
    }

    /// Everything charged for these leads: their prices and their charged actions.
    pub fn spend_cents(&self) -> i64 {
        self.lead_spend_cents + self.action_spend_cents
    }

    /// Spend per lead bought, rounded to the cent.
    pub fn cost_per_lead_cents(&self) -> Option<i64> {
        per(self.spend_cents(), self.bought)
    }

    /// Spend per action reported; `None` before the first action.
    pub fn cost_per_action_cents(&self) -> Option<i64> {
        per(self.spend_cents(), self.actions)
    }

    /// Approved returns as a percent of leads bought.
    pub fn return_rate(&self) -> Option<f64> {
        percent(self.returns, self.bought)
    }
}

fn per(total: i64, n: i64) -> Option<i64> {
    (n > 0).then(|| (total + n / 2) / n)
}

/// Outcomes summed by a key (the agency, the segment), biggest spend first.
pub fn outcomes_by<K: Ord + Clone>(
    rows: impl IntoIterator<Item = (K, Outcome)>,
) -> Vec<(K, Outcome)> {
    let mut by: BTreeMap<K, Outcome> = BTreeMap::new();
    for (k, o) in rows {
        by.entry(k).or_default().add(&o);
    }
    let mut out: Vec<(K, Outcome)> = by.into_iter().collect();
    out.sort_by(|a, b| {
        b.1.spend_cents()
            .cmp(&a.1.spend_cents())
            .then_with(|| a.0.cmp(&b.0))
    });
    out
}

/// The platform's figures of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlatformDay {
    pub sales: i64,
    pub gross_cents: i64,
    /// Commission on sales and on charged actions.
    pub revenue_cents: i64,
    /// That day's sales returned since.
    pub returns: i64,
}

impl PlatformDay {
    pub fn return_rate(&self) -> Option<f64> {
        percent(self.returns, self.sales)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn batch(id: &str, day: &str, traffic: Option<i64>, received: i64) -> BatchFacts {
        BatchFacts {
            id: id.into(),
            day: d(day),
            traffic,
            received,
        }
    }

    fn row(batch: &str, segment: &str, warmth: &str, q: i64, s: i64, c: i64) -> CountRow {
        CountRow {
            batch_id: batch.into(),
            segment: segment.into(),
            channel: "web_form".into(),
            warmth: warmth.into(),
            qualified: q,
            sold: s,
            converted: c,
        }
    }

    fn fixture() -> (Vec<BatchFacts>, Vec<CountRow>) {
        (
            vec![
                batch("a", "2026-11-02", Some(1000), 10),
                batch("b", "2026-11-04", None, 5),
            ],
            vec![
                row("a", "insurance.car", "hot", 6, 3, 1),
                row("a", "finance.loans", "cold", 2, 1, 0),
                row("b", "insurance.car", "hot", 4, 0, 0),
                // Another agency's batch, not in the range: never counted.
                row("z", "insurance.car", "hot", 99, 99, 99),
            ],
        )
    }

    #[test]
    fn each_step_is_a_percent_of_the_one_before() {
        let (b, r) = fixture();
        let f = build(&b, &r, GroupBy::Batch, None);
        let counts: Vec<_> = f.steps.iter().map(|s| (s.count, s.percent)).collect();
        assert_eq!(
            counts,
            vec![
                (Some(1000), None),
                // 10 rows of the batch that reported its 1,000 visitors.
                (Some(15), Some(1.0)),
                (Some(12), Some(80.0)),
                (Some(4), Some(33.3)),
                (Some(1), Some(25.0)),
            ]
        );
    }

    #[test]
    fn grouped_by_a_lead_attribute_traffic_and_rows_received_are_unknown() {
        let (b, r) = fixture();
        let f = build(&b, &r, GroupBy::Segment, None);
        assert_eq!(f.groups[0].key, "insurance.car");
        assert_eq!(
            f.groups[0].counts,
            Counts {
                traffic: None,
                leads: None,
                qualified: 10,
                sold: 3,
                converted: 1
            }
        );
        assert_eq!(f.groups.len(), 2);
    }

    #[test]
    fn grouped_by_day_every_day_of_the_range_is_there() {
        let (b, r) = fixture();
        let f = build(
            &b,
            &r,
            GroupBy::Day,
            Some((d("2026-11-01"), d("2026-11-05"))),
        );
        let keys: Vec<_> = f.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "2026-11-01",
                "2026-11-02",
                "2026-11-03",
                "2026-11-04",
                "2026-11-05"
            ]
        );
        assert_eq!(f.groups[0].counts, Counts::default());
        assert_eq!(f.groups[1].counts.traffic, Some(1000));
        assert_eq!(f.groups[3].counts.leads, Some(5));
        assert_eq!(f.groups[3].counts.traffic, None);
    }

    #[test]
    fn an_empty_range_has_zero_counts_and_no_percentages() {
        let f = build(&[], &[], GroupBy::Batch, None);
        assert!(f.is_empty());
        assert_eq!(f.count(Step::Traffic), None);
        assert_eq!(f.count(Step::Leads), Some(0));
        assert!(f.steps.iter().all(|s| s.percent.is_none()));
    }

    #[test]
    fn costs_per_lead_and_action_divide_everything_charged() {
        let rows = [
            (
                "b",
                Outcome {
                    bought: 2,
                    lead_spend_cents: 1000,
                    actions: 1,
                    action_spend_cents: 500,
                    disputes: 1,
                    returns: 1,
                },
            ),
            (
                "a",
                Outcome {
                    bought: 1,
                    lead_spend_cents: 300,
                    ..Default::default()
                },
            ),
            (
                "b",
                Outcome {
                    bought: 1,
                    lead_spend_cents: 500,
                    ..Default::default()
                },
            ),
        ];
        let by = outcomes_by(rows);
        assert_eq!(by[0].0, "b", "biggest spend first");
        let b = by[0].1;
        assert_eq!((b.bought, b.spend_cents()), (3, 2000));
        assert_eq!(b.cost_per_lead_cents(), Some(667));
        assert_eq!(b.cost_per_action_cents(), Some(2000));
        assert_eq!(b.return_rate(), Some(33.3));
        assert_eq!(by[1].1.cost_per_action_cents(), None, "no action yet");
    }

    #[test]
    fn a_range_defaults_to_thirty_days_and_refuses_bad_dates() {
        let today = d("2026-12-03");
        let r = Range::parse(None, None, today).unwrap();
        assert_eq!((r.from, r.to), (d("2026-11-04"), today));
        assert_eq!(
            Range::parse(Some("2026-13-01"), None, today).unwrap_err()[0].0,
            "from"
        );
        assert!(Range::parse(Some("2026-12-04"), Some("2026-12-03"), today).is_err());
        assert!(Range::parse(Some("2025-01-01"), Some("2026-12-03"), today).is_err());
        let (start, end) = Range::parse(Some("2026-11-01"), Some("2026-11-01"), today)
            .unwrap()
            .bounds();
        assert_eq!(end - start, chrono::TimeDelta::days(1));
    }
}
