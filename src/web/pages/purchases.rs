//! "My leads": a buyer's bought leads newest first, searched and filtered, a page at a
//! time, with the purchase just made highlighted (its ids come in the flash).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::Deserialize;

use super::catalogue::Choice;
use crate::app::AppState;
use crate::domain::disputes::DisputeStatus;
use crate::domain::ledger::ActionKind;
use crate::error::{AppResult, FieldProblem};
use crate::services::market;
use crate::store;
use crate::store::purchases::{DisputeState, MyLeadsFilter, Walk};
use crate::web::auth::BuyerUser;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{money, render, render_status};

/// Rows per page.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "market/purchases.html")]
struct PurchasesPage {
    layout: Layout,
    leads: Vec<MyLead>,
    reasons: &'static [&'static str],
    flash: Option<Flash>,
    next_page: Option<String>,
    owed: String,
    available: String,
    form: PurchasesQuery,
    agencies: Vec<Choice>,
    segments: Vec<Choice>,
    disputes: Vec<Choice>,
    problems: Vec<FieldProblem>,
    filtered: bool,
    /// The CSV of what the filters keep, every page of it.
    csv: String,
}

/// A bought lead, and for per-action leads the actions reported so far.
pub struct MyLead {
    pub lead: BoughtLeadLine,
    pub per_action: bool,
    pub reported: Vec<String>,
    pub kinds: Vec<&'static str>,
    /// Just bought: the row is highlighted.
    pub fresh: bool,
    /// The dispute's status, when the lead was disputed (then it cannot be again).
    pub dispute: Option<String>,
    pub refunded: bool,
}

/// What a row of "My leads" shows of a bought lead: the page's own view, so the API's
/// JSON shape can change without touching the page (and the other way round).
pub struct BoughtLeadLine {
    pub purchase_id: String,
    pub lead_id: String,
    /// For people: `2026-11-24 14:05 UTC`.
    pub bought_at: String,
    /// In major units with the currency.
    pub price: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub segment: String,
    pub warmth: String,
    pub agency: String,
    /// The consumer had the data erased: the contact is gone.
    pub erased: bool,
}

/// The filters as typed, kept in the form and in the paging links.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PurchasesQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub segment: String,
    #[serde(default)]
    pub dispute: String,
    #[serde(default)]
    pub before: String,
}

const DISPUTE_CHOICES: [(&str, &str); 5] = [
    ("", "Any"),
    ("none", "Not disputed"),
    ("open", "Disputed, waiting"),
    ("refunded", "Refunded"),
    ("rejected", "Dispute rejected"),
];

fn day(field: &str, raw: &str, problems: &mut Vec<FieldProblem>) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) => Some(d.and_time(chrono::NaiveTime::MIN)),
        Err(_) => {
            problems.push(FieldProblem::new(
                field,
                "must be a date such as 2026-11-24",
            ));
            None
        }
    }
}

impl PurchasesQuery {
    /// The store's filter, or the problems of what was typed.
    fn filter(&self) -> Result<MyLeadsFilter, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let from = day("from", &self.from, &mut problems);
        // "To" is inclusive for people: up to the end of that day.
        let until = day("to", &self.to, &mut problems).map(|d| d + TimeDelta::days(1));
        if let (Some(f), Some(u)) = (from, until)
            && u <= f
        {
            problems.push(FieldProblem::new(
                "to",
                "the last day must not be before the first",
            ));
        }
        let dispute = match self.dispute.trim() {
            "" => None,
            "none" => Some(DisputeState::None),
            "open" => Some(DisputeState::Open),
            "refunded" => Some(DisputeState::Refunded),
            "rejected" => Some(DisputeState::Rejected),
            _ => {
                problems.push(FieldProblem::new(
                    "dispute",
                    "choose a dispute state from the list",
                ));
                None
            }
        };
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(MyLeadsFilter {
            search: some(&self.q),
            bought_from: from,
            bought_until: until,
            agency_id: some(&self.agency),
            segment: some(&self.segment),
            dispute,
        })
    }

    fn is_filtered(&self) -> bool {
        [
            &self.q,
            &self.from,
            &self.to,
            &self.agency,
            &self.segment,
            &self.dispute,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// This query's link from before `purchase_id`.
    fn next_link(&self, purchase_id: &str) -> String {
        self.link("/purchases", purchase_id)
    }

    /// The CSV of this query's rows: the filters without the page's cursor.
    fn csv_link(&self) -> String {
        self.link("/purchases.csv", "")
    }

    fn link(&self, path: &str, before: &str) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", self.q.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("agency", self.agency.as_str()),
            ("segment", self.segment.as_str()),
            ("dispute", self.dispute.as_str()),
            ("before", before),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        if pairs.is_empty() {
            return path.to_string();
        }
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

pub(super) fn choices(items: Vec<(String, String)>, chosen: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == chosen,
            value,
            label,
        })
        .collect()
}

pub async fn purchases(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<PurchasesQuery>,
) -> AppResult<HttpResponse> {
    let form = query.into_inner();
    let (filter, problems) = match form.filter() {
        Ok(f) => (Some(f), Vec::new()),
        Err(p) => (None, p),
    };
    let buyer = user.org_id.clone();
    let before = Some(form.before.trim().to_string()).filter(|b| !b.is_empty());
    let (rows, account, per_action, actions, disputes, agencies, segments) = state
        .db(move |conn| {
            let rows = match &filter {
                Some(f) => store::purchases::bought(
                    conn,
                    &buyer,
                    f,
                    Walk::NewestBefore(before.as_deref()),
                    PAGE,
                )?,
                None => Vec::new(),
            };
            let lead_ids: Vec<String> = rows.iter().map(|r| r.lead_id.clone()).collect();
            let purchase_ids: Vec<String> = rows.iter().map(|r| r.purchase_id.clone()).collect();
            Ok((
                rows,
                market::account(conn, &buyer)?,
                store::actions::per_action_leads(conn, &lead_ids)?,
                store::actions::of_buyer(conn, &buyer, &lead_ids)?,
                store::purchases::dispute_statuses(conn, &purchase_ids)?,
                store::purchases::agencies_of_buyer(conn, &buyer)?,
                store::reference::segments(conn)?,
            ))
        })
        .await?;
    let currency = &state.config().currency;
    let next_page = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| form.next_link(&r.purchase_id)))
        .flatten();
    let flash = flash::take(&session);
    let fresh_ids: Vec<String> = flash.as_ref().map(|f| f.ids.clone()).unwrap_or_default();
    let agency_names: std::collections::HashMap<String, String> =
        agencies.iter().cloned().collect();
    let leads = rows
        .into_iter()
        .map(|r| {
            let reported: Vec<String> = actions
                .iter()
                .filter(|a| a.lead_id == r.lead_id)
                .map(|a| a.kind.to_string())
                .collect();
            let dispute = disputes.get(&r.purchase_id).copied();
            MyLead {
                per_action: per_action.contains(&r.lead_id),
                kinds: ActionKind::ALL
                    .iter()
                    .map(ActionKind::as_str)
                    .filter(|k| !reported.iter().any(|r| r == k))
                    .collect(),
                reported,
                fresh: fresh_ids.contains(&r.purchase_id),
                refunded: dispute == Some(DisputeStatus::Approved),
                dispute: dispute.map(|d| match d {
                    DisputeStatus::Approved => "refunded".to_string(),
                    other => format!("dispute {other}"),
                }),
                lead: BoughtLeadLine {
                    erased: r.erased(),
                    agency: agency_names.get(&r.agency_id).cloned().unwrap_or_default(),
                    purchase_id: r.purchase_id,
                    lead_id: r.lead_id,
                    bought_at: r.bought_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    price: money(r.price_cents, currency),
                    first_name: r.first_name,
                    last_name: r.last_name,
                    email: r.email,
                    phone: r.phone,
                    country: r.country,
                    city: r.city,
                    postal_code: r.postal_code,
                    segment: r.segment,
                    warmth: r.warmth,
                },
            }
        })
        .collect();
    let page = PurchasesPage {
        layout: Layout::for_user(&user, "My leads", "/purchases"),
        reasons: &crate::domain::disputes::REASONS,
        flash,
        leads,
        next_page,
        owed: money(account.owed_cents, currency),
        available: money(account.available_cents, currency),
        agencies: choices(
            std::iter::once((String::new(), "Any agency".to_string()))
                .chain(agencies)
                .collect(),
            form.agency.trim(),
        ),
        segments: choices(
            std::iter::once((String::new(), "Any segment".to_string()))
                .chain(segments.into_iter().map(|s| (s.slug, s.name)))
                .collect(),
            form.segment.trim(),
        ),
        disputes: choices(
            DISPUTE_CHOICES
                .iter()
                .map(|(v, l)| (v.to_string(), l.to_string()))
                .collect(),
            form.dispute.trim(),
        ),
        filtered: form.is_filtered(),
        csv: form.csv_link(),
        problems,
        form,
    };
    if page.problems.is_empty() {
        render(&page)
    } else {
        render_status(&page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// "My leads" as CSV: the rows its filters keep, newest first, in major units. Filters
/// that do not parse are refused as the page refuses them.
pub async fn csv(
    user: BuyerUser,
    state: web::Data<AppState>,
    query: web::Query<PurchasesQuery>,
) -> AppResult<HttpResponse> {
    let filter = query
        .into_inner()
        .filter()
        .map_err(crate::error::AppError::Validation)?;
    let prices = crate::web::purchases_csv::Prices::Major(state.config().currency.clone());
    crate::web::purchases_csv::filtered(state, user.org_id.clone(), prices, filter, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_counts_whole_and_bad_dates_are_named() {
        let q = PurchasesQuery {
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        };
        let f = q.filter().unwrap();
        assert_eq!(
            f.bought_until.unwrap() - f.bought_from.unwrap(),
            TimeDelta::days(1)
        );
        let bad = PurchasesQuery {
            from: "1 Nov".into(),
            dispute: "maybe".into(),
            ..Default::default()
        };
        let problems = bad.filter().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["from", "dispute"]);
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let q = PurchasesQuery {
            q: "ann smith".into(),
            dispute: "none".into(),
            ..Default::default()
        };
        assert_eq!(
            q.next_link("p1"),
            "/purchases?q=ann+smith&dispute=none&before=p1"
        );
    }

    #[test]
    fn the_csv_link_keeps_the_filters_but_not_the_page() {
        let q = PurchasesQuery {
            segment: "travel".into(),
            from: "2026-11-01".into(),
            before: "p1".into(),
            ..Default::default()
        };
        assert_eq!(
            q.csv_link(),
            "/purchases.csv?from=2026-11-01&segment=travel"
        );
        assert_eq!(PurchasesQuery::default().csv_link(), "/purchases.csv");
    }
}
