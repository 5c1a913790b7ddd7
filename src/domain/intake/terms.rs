//! A batch's terms as given (form, JSON body or the CLI) to the terms a batch is stored
//! with, or the list of *every* problem in them.

use serde::Deserialize;

use crate::domain::lead::LeadKind;
use crate::domain::problem::FieldProblem;
use crate::domain::reference::Slugs;
use crate::domain::text::{TextKind, problem, refused_character};

/// Batch terms as a form, JSON body or the CLI gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BatchInput {
    /// `consumer` (default) or `targeted`.
    pub kind: Option<String>,
    /// The buyer's open order (targeted batches only).
    pub order_id: Option<String>,
    /// Default segment for rows whose `segment` cell is empty.
    pub segment: Option<String>,
    /// Default channel for rows whose `channel` cell is empty.
    pub channel: Option<String>,
    /// Base price per lead in minor units.
    pub price_cents: Option<i64>,
    /// Consumer leads: how many buyers may buy each lead, 1-10 (default 1).
    pub max_sales: Option<i32>,
    /// `per_lead` (default) or `per_action`.
    pub billing: Option<String>,
    pub action_price_cents: Option<i64>,
    /// Consent wording, used for rows without their own `consent_text`.
    pub consent_text: Option<String>,
    /// Visitors behind this batch, as the agency counts them: the funnel's first step.
    pub traffic: Option<i64>,
}

/// Checked batch terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchTerms {
    pub kind: LeadKind,
    pub order_id: Option<String>,
    /// The rows' default segment; `None` when every row must carry its own.
    pub segment: Option<String>,
    /// The rows' default channel; `None` when every row must carry its own.
    pub channel: Option<String>,
    pub price_cents: i64,
    /// 1 for a targeted batch: its leads go to their order's buyer alone.
    pub max_sales: i32,
    /// `per_lead` or `per_action`.
    pub billing: String,
    pub action_price_cents: Option<i64>,
    pub consent_text: String,
    /// The uploaded file's name, cut to 200 characters.
    pub filename: Option<String>,
    pub traffic: Option<i64>,
}

/// A bound that keeps sums of many batches' traffic far from overflow.
const MAX_TRAFFIC: i64 = 1_000_000_000_000;

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl BatchInput {
    /// The order whose being open [`BatchTerms::parse`] needs to know: only a targeted
    /// batch's, and only when it is a well-formed id.
    pub fn order_to_look_up(&self) -> Option<&str> {
        let kind = non_empty(&self.kind).unwrap_or("consumer").parse();
        non_empty(&self.order_id)
            .filter(|o| kind == Ok(LeadKind::Targeted) && uuid::Uuid::parse_str(o).is_ok())
    }

    /// Terms holding a character PostgreSQL cannot store or no term should hold.
    fn refused_characters(&self, filename: Option<&str>) -> Vec<FieldProblem> {
        [
            ("kind", self.kind.as_deref(), TextKind::Line),
            ("order_id", self.order_id.as_deref(), TextKind::Line),
            ("segment", self.segment.as_deref(), TextKind::Line),
            ("channel", self.channel.as_deref(), TextKind::Line),
            ("billing", self.billing.as_deref(), TextKind::Line),
            ("consent_text", self.consent_text.as_deref(), TextKind::Free),
            ("file", filename, TextKind::Line),
        ]
        .into_iter()
        .filter_map(|(name, v, kind)| {
            refused_character(v?, kind).map(|c| FieldProblem::new(name, problem(c)))
        })
        .collect()
    }
}

impl BatchTerms {
    /// Checks every term against the known segments and channels; `order_open` says
    /// whether [`BatchInput::order_to_look_up`] named an open order.
    pub fn parse(
        input: &BatchInput,
        filename: Option<&str>,
        segments: &Slugs,
        channels: &Slugs,
        order_open: bool,
    ) -> Result<Self, Vec<FieldProblem>> {
        let mut p = input.refused_characters(filename);
        if !p.is_empty() {
            return Err(p);
        }
        // `None` (an unknown kind) is a problem below and checks on as not targeted.
        let kind: Option<LeadKind> = non_empty(&input.kind).unwrap_or("consumer").parse().ok();
        if kind.is_none() {
            p.push(FieldProblem::new("kind", "must be consumer or targeted"));
        }
        // Segment and channel are defaults for rows whose cell is empty: a file that
        // carries them needs neither. Whether the file does is the header's to check.
        let segment = non_empty(&input.segment);
        if let Some(s) = segment.filter(|s| !segments.contains(s)) {
            p.push(FieldProblem::new("segment", segments.refusal(s, "segment")));
        }
        let channel = non_empty(&input.channel);
        if let Some(c) = channel.filter(|c| !channels.contains(c)) {
            p.push(FieldProblem::new("channel", channels.refusal(c, "channel")));
        }
        let price_cents = input.price_cents.unwrap_or(-1);
        if !(0..=100_000_000).contains(&price_cents) {
            p.push(FieldProblem::new(
                "price_cents",
                "is required: a whole number of minor units, 0 or more",
            ));
        }
        let max_sales = input.max_sales.unwrap_or(1);
        if kind == Some(LeadKind::Consumer) && !(1..=10).contains(&max_sales) {
            p.push(FieldProblem::new("max_sales", "must be from 1 to 10"));
        }
        let billing = non_empty(&input.billing).unwrap_or("per_lead");
        let action_price_cents = match billing {
            "per_lead" => None,
            "per_action" => match input.action_price_cents {
                Some(a) if a >= 0 => Some(a),
                _ => {
                    p.push(FieldProblem::new(
                        "action_price_cents",
                        "is required for per_action billing: 0 or more",
                    ));
                    None
                }
            },
            _ => {
                p.push(FieldProblem::new(
                    "billing",
                    "must be per_lead or per_action",
                ));
                None
            }
        };
        let consent_text = non_empty(&input.consent_text).unwrap_or("").to_string();
        if consent_text.chars().count() > 2000 {
            p.push(FieldProblem::new(
                "consent_text",
                "must be at most 2000 characters",
            ));
        }
        if input
            .traffic
            .is_some_and(|t| !(0..=MAX_TRAFFIC).contains(&t))
        {
            p.push(FieldProblem::new(
                "traffic",
                "must be a whole number of visitors, 0 or more (or left out)",
            ));
        }
        let order_id = match (kind, non_empty(&input.order_id)) {
            (Some(LeadKind::Targeted), None) => {
                p.push(FieldProblem::new(
                    "order_id",
                    "is required for a targeted batch",
                ));
                None
            }
            (Some(LeadKind::Targeted), Some(o)) => {
                if !order_open {
                    p.push(FieldProblem::new("order_id", "is not an open order"));
                }
                Some(o.to_string())
            }
            (_, Some(_)) => {
                p.push(FieldProblem::new(
                    "order_id",
                    "is only for targeted batches",
                ));
                None
            }
            (_, None) => None,
        };
        let (Some(kind), true) = (kind, p.is_empty()) else {
            return Err(p);
        };
        Ok(Self {
            kind,
            order_id,
            segment: segment.map(str::to_string),
            channel: channel.map(str::to_string),
            price_cents,
            max_sales: if kind == LeadKind::Targeted {
                1
            } else {
                max_sales
            },
            billing: billing.to_string(),
            action_price_cents,
            consent_text,
            filename: filename.map(|f| f.chars().take(200).collect()),
            traffic: input.traffic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn known() -> Slugs {
        HashSet::from(["insurance.car".to_string(), "web".to_string()]).into()
    }

    fn input() -> BatchInput {
        BatchInput {
            segment: Some("insurance.car".into()),
            channel: Some("web".into()),
            price_cents: Some(500),
            ..Default::default()
        }
    }

    fn fields(p: Vec<FieldProblem>) -> Vec<String> {
        p.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn traffic_is_optional_and_never_negative() {
        let t = BatchTerms::parse(&input(), None, &known(), &known(), false).unwrap();
        assert_eq!(t.traffic, None);
        let with = BatchInput {
            traffic: Some(12_000),
            ..input()
        };
        let t = BatchTerms::parse(&with, None, &known(), &known(), false).unwrap();
        assert_eq!(t.traffic, Some(12_000));
        let negative = BatchInput {
            traffic: Some(-1),
            ..input()
        };
        let p = BatchTerms::parse(&negative, None, &known(), &known(), false).unwrap_err();
        assert_eq!(fields(p), ["traffic"]);
    }

    #[test]
    fn defaults_fill_a_consumer_batch() {
        let t = BatchTerms::parse(&input(), Some("a.csv"), &known(), &known(), false).unwrap();
        assert_eq!(t.kind, LeadKind::Consumer);
        assert_eq!(t.max_sales, 1);
        assert_eq!(t.billing, "per_lead");
        assert_eq!(t.filename.as_deref(), Some("a.csv"));
    }

    #[test]
    fn every_problem_is_listed_in_field_order() {
        let bad = BatchInput {
            kind: Some("other".into()),
            segment: Some("unknown".into()),
            billing: Some("per_action".into()),
            ..Default::default()
        };
        let p = BatchTerms::parse(&bad, None, &known(), &known(), false).unwrap_err();
        assert_eq!(
            fields(p),
            ["kind", "segment", "price_cents", "action_price_cents"]
        );
    }

    #[test]
    fn segment_and_channel_are_optional_defaults() {
        let none = BatchInput {
            segment: None,
            channel: Some(" ".into()),
            ..input()
        };
        let t = BatchTerms::parse(&none, None, &known(), &known(), false).unwrap();
        assert_eq!((t.segment, t.channel), (None, None));
        let unknown = BatchInput {
            channel: Some("fax".into()),
            ..none
        };
        let p = BatchTerms::parse(&unknown, None, &known(), &known(), false).unwrap_err();
        assert_eq!(fields(p), ["channel"]);
    }

    #[test]
    fn a_refused_character_is_reported_alone() {
        let bad = BatchInput {
            kind: Some("other".into()),
            ..input()
        };
        let p = BatchTerms::parse(&bad, Some("a\0.csv"), &known(), &known(), false).unwrap_err();
        assert_eq!(fields(p), ["file"]);
    }

    #[test]
    fn a_targeted_batch_needs_an_open_order_and_sells_once() {
        let order = "0192f5a0-0000-7000-8000-000000000000";
        let targeted = BatchInput {
            kind: Some("targeted".into()),
            order_id: Some(order.into()),
            max_sales: Some(5),
            ..input()
        };
        assert_eq!(targeted.order_to_look_up(), Some(order));
        let p = BatchTerms::parse(&targeted, None, &known(), &known(), false).unwrap_err();
        assert_eq!(fields(p), ["order_id"]);
        let t = BatchTerms::parse(&targeted, None, &known(), &known(), true).unwrap();
        assert_eq!(t.max_sales, 1);
        let malformed = BatchInput {
            order_id: Some("nope".into()),
            ..targeted
        };
        assert_eq!(malformed.order_to_look_up(), None);
        let consumer = BatchInput {
            order_id: Some(order.into()),
            ..input()
        };
        assert_eq!(consumer.order_to_look_up(), None);
        let p = BatchTerms::parse(&consumer, None, &known(), &known(), true).unwrap_err();
        assert_eq!(fields(p), ["order_id"]);
    }
}
