//! The dashboard: real figures for the signed-in user's role.

use actix_web::HttpResponse;
use actix_web::web;
use askama::Template;
use chrono::TimeDelta;

use crate::app::AppState;
use crate::domain::{OrgKind, Role};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::CurrentUser;
use crate::web::layout::Layout;
use crate::web::{redirect, render, thousands};

pub struct Stat {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

impl Cell {
    fn text(t: impl Into<String>) -> Self {
        Self {
            text: t.into(),
            href: None,
            num: false,
        }
    }
    fn num(n: i64) -> Self {
        Self {
            text: thousands(n),
            href: None,
            num: true,
        }
    }
    fn link(t: impl Into<String>, href: String) -> Self {
        Self {
            text: t.into(),
            href: Some(href),
            num: false,
        }
    }
}

pub struct Table {
    pub caption: &'static str,
    pub headers: Vec<(&'static str, bool)>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    layout: Layout,
    heading: String,
    intro: String,
    stats: Vec<Stat>,
    tables: Vec<Table>,
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
    let (stats, tables, intro) = state
        .db(move |conn| {
            Ok(match u.role {
                Role::Agency => agency(conn, &u.org_id, &currency)?,
                Role::Buyer => buyer(conn)?,
                Role::Finance => finance(conn)?,
                Role::Admin => admin(conn)?,
            })
        })
        .await?;
    render(&DashboardPage {
        layout: Layout::for_user(&user, "Dashboard", "/dashboard"),
        heading: format!("{} dashboard", user.org_name),
        intro,
        stats,
        tables,
    })
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
