//! `/funnel`: an agency's funnel of its own batches, or the platform's (every agency, or
//! one) for finance and admin staff, drawn and tabled, with its CSV at `/funnel.csv`.

use crate::app::AppState;
use crate::domain::funnel::{Funnel, GroupBy};
use crate::domain::{OrgKind, Role};
use crate::error::{AppError, AppResult};
use crate::services::funnel::{self as service, Scope};
use crate::store;
use crate::web::auth::CurrentUser;
use crate::web::charts::{self, Bar, Series};
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::funnel_view::{CSV_HEADER, FunnelQuery, csv_rows, group_label};
use crate::web::layout::Layout;
use crate::web::pages::figures::{Cell, Figure, Table};
use crate::web::{render, render_status, thousands, urlencode};
use actix_web::{HttpResponse, web};
use askama::Template;

/// Who may see which funnel: an agency its own, finance and admin the platform's.
fn scope_of(user: &CurrentUser) -> Result<Option<String>, AppError> {
    match (user.role, user.org_kind) {
        (Role::Agency, OrgKind::Agency) => Ok(Some(user.org_id.clone())),
        (Role::Finance | Role::Admin, _) => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

fn count_text(n: Option<i64>) -> String {
    n.map(thousands).unwrap_or_else(|| "not reported".into())
}

fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

/// The funnel's steps as bars, and their table.
pub fn steps_figure(id: &str, title: &str, funnel: &Funnel) -> Figure {
    let bars = funnel
        .steps
        .iter()
        .map(|s| Bar {
            label: s.step.label().split(" (").next().unwrap_or("").to_string(),
            value: s.count.unwrap_or(0) as f64,
            shown: match (s.count, s.percent) {
                (None, _) => "not reported".into(),
                (Some(n), Some(p)) => format!("{} · {p:.1}%", thousands(n)),
                (Some(n), None) => thousands(n),
            },
            tooltip: match (s.count, s.percent) {
                (None, _) => format!("{}: not reported", s.step.label()),
                (Some(n), Some(p)) => format!(
                    "{}: {} ({p:.1}% of the step before)",
                    s.step.label(),
                    thousands(n)
                ),
                (Some(n), None) => format!("{}: {}", s.step.label(), thousands(n)),
            },
        })
        .collect();
    Figure {
        svg: charts::hbars(id, title, "Leads at each step", bars),
        table: Table {
            caption: "The funnel's steps",
            headers: vec![
                ("Step", false),
                ("Count", true),
                ("Of the step before", true),
            ],
            rows: funnel
                .steps
                .iter()
                .map(|s| {
                    vec![
                        Cell::text(s.step.label()),
                        Cell::figure(count_text(s.count)),
                        Cell::figure(percent_text(s.percent)),
                    ]
                })
                .collect(),
            empty: "No steps.",
        },
    }
}

/// Leads received, qualified and sold per day, as lines; the table holds every day.
pub fn days_figure(id: &str, title: &str, funnel: &Funnel) -> Figure {
    let days: Vec<String> = funnel.groups.iter().map(|g| g.key.clone()).collect();
    let series = |name: &str, f: &dyn Fn(&crate::domain::funnel::Counts) -> i64| Series {
        name: name.into(),
        values: funnel.groups.iter().map(|g| f(&g.counts) as f64).collect(),
        format: charts::plain,
    };
    Figure {
        svg: charts::lines(
            id,
            title,
            "Day the batch was uploaded (UTC)",
            "Leads",
            &days,
            vec![
                series("Leads received", &|c| c.leads.unwrap_or(0)),
                series("Qualified", &|c| c.qualified),
                series("Sold", &|c| c.sold),
            ],
        ),
        table: Table {
            caption: "Per day",
            headers: vec![
                ("Day", false),
                ("Leads", true),
                ("Qualified", true),
                ("Sold", true),
            ],
            rows: funnel
                .groups
                .iter()
                .map(|g| {
                    vec![
                        Cell::text(&g.key),
                        Cell::num(g.counts.leads.unwrap_or(0)),
                        Cell::num(g.counts.qualified),
                        Cell::num(g.counts.sold),
                    ]
                })
                .collect(),
            empty: "No days in the range.",
        },
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct GroupLine {
    pub label: String,
    pub href: Option<String>,
    pub traffic: String,
    pub leads: String,
    pub qualified: String,
    pub sold: String,
    pub converted: String,
    pub sold_share: String,
}

#[derive(Template)]
#[template(path = "funnel/show.html")]
struct FunnelPage {
    layout: Layout,
    heading: String,
    intro: String,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    /// Staff: every agency; an agency user: empty (no picker).
    agencies: Vec<Choice>,
    problems: Vec<crate::error::FieldProblem>,
    csv_href: String,
    empty: bool,
    steps: Option<Figure>,
    days: Option<Figure>,
    group_heading: String,
    groups: Vec<GroupLine>,
    intake_known: bool,
    as_of: String,
}

fn query_string(q: &FunnelQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("from", &q.from),
        ("to", &q.to),
        ("group_by", &q.group_by),
        ("agency", &q.agency),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{k}={}", urlencode(v.trim())));
        }
    }
    parts.join("&")
}

pub async fn show(
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let own = scope_of(&user)?;
    let query = query.into_inner();
    let staff = own.is_none();
    let asked = query.check();
    let picked_agency = asked.as_ref().ok().and_then(|a| a.agency.clone());
    let (report, names, agencies) = {
        let own = own.clone();
        let asked = asked
            .as_ref()
            .ok()
            .map(|a| (a.range, a.group_by, a.agency.clone()));
        state
            .db(move |conn| {
                let agencies = if staff {
                    store::organisations::agencies(conn)?
                } else {
                    Vec::new()
                };
                let report = match asked {
                    Some((range, group_by, agency)) => {
                        let scope = match &own {
                            Some(a) => Scope::Agency(a),
                            None => Scope::Platform {
                                agency: agency.as_deref(),
                            },
                        };
                        Some(service::funnel(conn, scope, range, group_by)?)
                    }
                    None => None,
                };
                Ok((report, store::reference::Names::load(conn)?, agencies))
            })
            .await?
    };
    let group_by = asked.as_ref().map(|a| a.group_by).unwrap_or_default();
    let (from, to) = match &asked {
        Ok(a) => (a.range.from.to_string(), a.range.to.to_string()),
        Err(_) => (
            query.from.clone().unwrap_or_default(),
            query.to.clone().unwrap_or_default(),
        ),
    };
    let groupings = GroupBy::ALL
        .iter()
        .map(|g| Choice {
            value: g.as_str().into(),
            label: match g {
                GroupBy::Day => "Day".into(),
                GroupBy::Batch => "Batch".into(),
                GroupBy::Segment => "Segment".into(),
                GroupBy::Channel => "Channel".into(),
                GroupBy::Warmth => "Warmth".into(),
            },
            selected: *g == group_by,
        })
        .collect();
    let agency_choices = if staff {
        std::iter::once(Choice {
            value: String::new(),
            label: "Every agency".into(),
            selected: picked_agency.is_none(),
        })
        .chain(agencies.iter().map(|(id, name)| Choice {
            selected: picked_agency.as_deref() == Some(id.as_str()),
            value: id.clone(),
            label: name.clone(),
        }))
        .collect()
    } else {
        Vec::new()
    };
    let layout = Layout::for_user(&user, "Funnel", "/funnel");
    let heading = if staff {
        match picked_agency
            .as_ref()
            .and_then(|a| agencies.iter().find(|(id, _)| id == a))
        {
            Some((_, name)) => format!("Funnel of {name}"),
            None => "The platform's funnel".into(),
        }
    } else {
        format!("{}'s funnel", user.org_name)
    };
    let intro = "From the visitors behind each batch to leads a buyer acted on: the batches uploaded in the range, followed to today.".to_string();
    let csv_href = format!("/funnel.csv?{}", query_string(&query));
    let Some(report) = report else {
        let problems = asked.err().unwrap_or_default();
        return render_status(
            &FunnelPage {
                layout,
                heading,
                intro,
                from,
                to,
                groupings,
                agencies: agency_choices,
                problems,
                csv_href,
                empty: true,
                steps: None,
                days: None,
                group_heading: String::new(),
                groups: Vec::new(),
                intake_known: true,
                as_of: String::new(),
            },
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let funnel = &report.funnel;
    let empty = report.batches.is_empty();
    let steps = (!empty).then(|| steps_figure("funnel-steps", "Funnel", funnel));
    let days = (!empty && group_by == GroupBy::Day)
        .then(|| days_figure("funnel-days", "Leads and sales per day", funnel));
    let groups = funnel
        .groups
        .iter()
        .filter(|_| !empty)
        .map(|g| {
            let c = &g.counts;
            GroupLine {
                label: group_label(group_by, &g.key, &report, &names),
                href: (group_by == GroupBy::Batch && !staff).then(|| format!("/batches/{}", g.key)),
                traffic: match (group_by.knows_intake(), c.traffic) {
                    (false, _) => "—".into(),
                    (true, t) => count_text(t),
                },
                leads: c.leads.map(thousands).unwrap_or_else(|| "—".into()),
                qualified: thousands(c.qualified),
                sold: thousands(c.sold),
                converted: thousands(c.converted),
                sold_share: percent_text(crate::domain::funnel::percent(c.sold, c.qualified)),
            }
        })
        .collect();
    render(&FunnelPage {
        layout,
        heading,
        intro,
        from,
        to,
        groupings,
        agencies: agency_choices,
        problems: Vec::new(),
        csv_href,
        empty,
        steps,
        days,
        group_heading: format!("By {}", group_by.as_str()),
        groups,
        intake_known: group_by.knows_intake(),
        as_of: report
            .as_of
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "not yet counted".into()),
    })
}

pub async fn csv(
    user: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let own = scope_of(&user)?;
    let asked = query.check().map_err(AppError::Validation)?;
    let group_by = asked.group_by;
    let (report, names) = state
        .db(move |conn| {
            let scope = match &own {
                Some(a) => Scope::Agency(a),
                None => Scope::Platform {
                    agency: asked.agency.as_deref(),
                },
            };
            Ok((
                service::funnel(conn, scope, asked.range, asked.group_by)?,
                store::reference::Names::load(conn)?,
            ))
        })
        .await?;
    Ok(csv_response(
        "funnel.csv",
        csv_bytes(&CSV_HEADER, csv_rows(&report, group_by, &names)),
    ))
}
