//! The dashboard: real figures for the signed-in user's role.

use actix_web::HttpResponse;
use actix_web::web;
use askama::Template;
use chrono::TimeDelta;

use crate::app::AppState;
use crate::domain::funnel::{GroupBy, Range};
use crate::domain::{OrgKind, Role};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::CurrentUser;
use crate::web::layout::Layout;
use crate::web::pages::figures::{Cell, Figure, Table};
use crate::web::{redirect, render, thousands};

pub struct Stat {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    layout: Layout,
    heading: String,
    intro: String,
    stats: Vec<Stat>,
    tables: Vec<Table>,
    /// Charts with their tables, each under a heading and a link to the page behind it.
    figures: Vec<DashboardFigure>,
}

pub struct DashboardFigure {
    pub heading: &'static str,
    pub link: (&'static str, &'static str),
    pub figure: Figure,
}

pub async fn home() -> HttpResponse {
    redirect("/dashboard")
}

fn stat(label: &'static str, value: i64, note: impl Into<String>) -> Stat {
    Stat {
        label,
        value: thousands(value),
        note: note.into(),
    }
}

pub async fn show(user: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let u = user.clone();
    let currency = state.config().currency.clone();
    let (stats, tables, intro, figures) = state
        .db(move |conn| {
            let (stats, tables, intro) = match u.role {
                Role::Agency => agency(conn, &u.org_id, &currency)?,
                Role::Buyer => buyer(conn)?,
                Role::Finance => finance(conn)?,
                Role::Admin => admin(conn)?,
            };
            let (mut stats, mut figures) = (stats, Vec::new());
            outcomes_of(conn, &u, &currency, &mut stats, &mut figures)?;
            Ok((stats, tables, intro, figures))
        })
        .await?;
    render(&DashboardPage {
        layout: Layout::for_user(&user, "Dashboard", "/dashboard"),
        heading: format!("{} dashboard", user.org_name),
        intro,
        stats,
        tables,
        figures,
    })
}

/// The last 30 days in pictures: an agency's funnel and leads per day, a buyer's spend
/// and outcomes, the platform's sales for staff.
fn outcomes_of(
    conn: &mut crate::db::AnyConnection,
    user: &CurrentUser,
    currency: &str,
    stats: &mut Vec<Stat>,
    figures: &mut Vec<DashboardFigure>,
) -> Result<(), crate::error::AppError> {
    let range = Range::parse(None, None, store::now().date())
        .map_err(|_| crate::error::AppError::internal(anyhow::anyhow!("default range")))?;
    match user.role {
        Role::Agency => {
            let report = crate::services::funnel::funnel(
                conn,
                crate::services::funnel::Scope::Agency(&user.org_id),
                range,
                GroupBy::Day,
            )?;
            figures.push(DashboardFigure {
                heading: "Your funnel, last 30 days",
                link: ("/funnel", "The whole funnel"),
                figure: super::funnel::steps_figure("dash-funnel", "Funnel", &report.funnel),
            });
            figures.push(DashboardFigure {
                heading: "Leads and sales per day",
                link: ("/funnel?group_by=day", "By day"),
                figure: super::funnel::days_figure(
                    "dash-days",
                    "Leads and sales per day",
                    &report.funnel,
                ),
            });
        }
        Role::Buyer => {
            let outcomes =
                crate::services::funnel::buyer_outcomes(conn, &user.org_id, range, None)?;
            let t = outcomes.total;
            let dash = |c: Option<i64>| {
                c.map(|c| crate::web::money(c, currency))
                    .unwrap_or_else(|| "—".into())
            };
            stats.push(Stat {
                label: "Spent, 30 days",
                value: crate::web::money(t.spend_cents(), currency),
                note: format!("on {} leads", thousands(t.bought)),
            });
            stats.push(Stat {
                label: "Cost per lead",
                value: dash(t.cost_per_lead_cents()),
                note: format!("cost per action {}", dash(t.cost_per_action_cents())),
            });
            stats.push(Stat {
                label: "Returned",
                value: t
                    .return_rate()
                    .map(crate::web::charts::percent)
                    .unwrap_or_else(|| "—".into()),
                note: format!("{} of {} leads bought", t.returns, t.bought),
            });
            let names = store::purchases::agencies_of_buyer(conn, &user.org_id)?
                .into_iter()
                .collect();
            figures.push(DashboardFigure {
                heading: "Spend and outcomes per agency, last 30 days",
                link: ("/outcomes", "All your outcomes"),
                figure: super::outcomes::spend_figure("dash-spend", &outcomes, &names, currency),
            });
        }
        Role::Finance | Role::Admin => {
            let days = crate::services::funnel::platform_days(conn, range)?;
            figures.push(DashboardFigure {
                heading: "Sales per day, last 30 days",
                link: ("/platform", "Sales, revenue and returns"),
                figure: super::platform::sales_figure(&days, currency),
            });
        }
    }
    Ok(())
}

type Parts = (Vec<Stat>, Vec<Table>, String);

fn agency(
    conn: &mut crate::db::AnyConnection,
    agency_id: &str,
    currency: &str,
) -> diesel::QueryResult<Parts> {
    let batches = store::batches::count_for_agency(conn, agency_id)?;
    let (total, available, sold) = store::leads::agency_totals(conn, agency_id)?;
    // Earned = sales and actions less commission and returns, the same entries the
    // statements sum; what is still to be paid is the payable account's balance.
    let month = crate::domain::billing::Period::containing(store::now());
    let earned_month =
        store::ledger::agency_earned(conn, agency_id, Some(month.start), Some(month.end))?;
    let earned = store::ledger::agency_earned(conn, agency_id, None, None)?;
    let to_pay = -store::ledger::balance(conn, "agency_payable", Some(agency_id))?;
    let recent = store::batches::recent_for_agency(conn, agency_id, 10)?;
    let names = store::reference::Names::load(conn)?;
    let stats = vec![
        stat("Batches", batches, "uploaded so far"),
        stat("Leads", total, "accepted into the marketplace"),
        stat("Available", available, "with sales left"),
        stat("Sales", sold, "lead sales made"),
        Stat {
            label: "Earned this month",
            value: crate::web::money(earned_month, currency),
            note: format!("{}, net of commission and returns", month.label()),
        },
        Stat {
            label: "Earned all time",
            value: crate::web::money(earned, currency),
            note: format!(
                "net: {} paid out, {} still to be paid",
                crate::web::money(earned - to_pay, currency),
                crate::web::money(to_pay, currency)
            ),
        },
    ];
    let rows = recent
        .into_iter()
        .map(|b| {
            vec![
                Cell::link(
                    b.created_at.format("%Y-%m-%d %H:%M").to_string(),
                    format!("/batches/{}", b.id),
                ),
                Cell::text(
                    b.segment
                        .map(|s| names.segment(&s))
                        .unwrap_or_else(|| "Mixed segments".into()),
                ),
                Cell::text(
                    b.channel
                        .map(|c| names.channel(&c))
                        .unwrap_or_else(|| "Mixed channels".into()),
                ),
                Cell::text(b.status.as_str()),
                Cell::num(i64::from(b.accepted)),
                Cell::num(i64::from(b.rejected + b.duplicates + b.suppressed)),
            ]
        })
        .collect();
    let table = Table {
        caption: "Recent batches",
        headers: vec![
            ("Uploaded", false),
            ("Segment", false),
            ("Channel", false),
            ("Status", false),
            ("Accepted", true),
            ("Not accepted", true),
        ],
        rows,
        empty: "No batches yet.",
    };
    Ok((
        stats,
        vec![table],
        "Your leads, batches and sales at a glance.".into(),
    ))
}

fn buyer(conn: &mut crate::db::AnyConnection) -> diesel::QueryResult<Parts> {
    let by_segment = store::leads::open_catalogue_by_segment(conn)?;
    let open: i64 = by_segment.iter().map(|(_, n)| n).sum();
    let fresh = store::leads::open_catalogue_since(conn, store::now() - TimeDelta::days(7))?;
    let stats = vec![
        stat("Leads on offer", open, "consumer leads you can buy now"),
        stat("New this week", fresh, "captured in the last 7 days"),
        stat("Segments", by_segment.len() as i64, "with leads on offer"),
    ];
    let table = Table {
        caption: "Leads on offer by segment",
        headers: vec![("Segment", false), ("Leads", true)],
        rows: by_segment
            .into_iter()
            .map(|(s, n)| vec![Cell::text(s), Cell::num(n)])
            .collect(),
        empty: "The catalogue is empty right now.",
    };
    Ok((
        stats,
        vec![table],
        "What the marketplace offers today.".into(),
    ))
}

fn kind_counts(conn: &mut crate::db::AnyConnection) -> diesel::QueryResult<(i64, i64)> {
    let by_kind = store::organisations::count_by_kind(conn)?;
    let get = |k: OrgKind| {
        by_kind
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok((get(OrgKind::Agency), get(OrgKind::Buyer)))
}

fn finance(conn: &mut crate::db::AnyConnection) -> diesel::QueryResult<Parts> {
    let (agencies, buyers) = kind_counts(conn)?;
    let leads = store::leads::count(conn)?;
    let open: i64 = store::leads::open_catalogue_by_segment(conn)?
        .iter()
        .map(|(_, n)| n)
        .sum();
    let stats = vec![
        stat("Agencies", agencies, "selling on the marketplace"),
        stat("Buyers", buyers, "buying on the marketplace"),
        stat("Leads", leads, "in the marketplace"),
        stat("On offer", open, "consumer leads with sales left"),
    ];
    Ok((
        stats,
        Vec::new(),
        "The marketplace's organisations and stock.".into(),
    ))
}

fn admin(conn: &mut crate::db::AnyConnection) -> diesel::QueryResult<Parts> {
    let (agencies, buyers) = kind_counts(conn)?;
    let users = store::users::count_by_role(conn)?;
    let leads = store::leads::count_by_status(conn)?;
    let stats = vec![
        stat("Agencies", agencies, "organisations selling"),
        stat("Buyers", buyers, "organisations buying"),
        stat(
            "Users",
            users.iter().map(|(_, n)| n).sum(),
            "across all organisations",
        ),
        stat(
            "Leads",
            leads.iter().map(|(_, n)| n).sum(),
            "in the database",
        ),
    ];
    let tables = vec![
        Table {
            caption: "Users by role",
            headers: vec![("Role", false), ("Users", true)],
            rows: users
                .into_iter()
                .map(|(r, n)| vec![Cell::text(r.as_str()), Cell::num(n)])
                .collect(),
            empty: "No users.",
        },
        Table {
            caption: "Leads by status",
            headers: vec![("Status", false), ("Leads", true)],
            rows: leads
                .into_iter()
                .map(|(s, n)| vec![Cell::text(s.as_str()), Cell::num(n)])
                .collect(),
            empty: "No leads yet.",
        },
    ];
    Ok((
        stats,
        tables,
        "Organisations, users and leads across the platform.".into(),
    ))
}
