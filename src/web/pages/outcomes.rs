//! `/outcomes`: what a buyer's money bought, per agency and per segment: leads bought,
//! spend, cost per lead, actions, cost per action, disputes and approved returns; drawn,
//! tabled and at `/outcomes.csv`. The catalogue's quality score links here.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::funnel::Choice;
use crate::app::AppState;
use crate::domain::funnel::{Outcome, Range};
use crate::domain::money::major_plain;
use crate::error::{AppError, AppResult};
use crate::services::funnel::{self as service, BuyerOutcomes};
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::charts::{self, Bar};
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::funnel_view::FunnelQuery;
use crate::web::layout::Layout;
use crate::web::pages::figures::{Cell, Figure, Table};
use crate::web::{money, render, render_status, thousands, urlencode};

const OUTCOME_HEADERS: [(&str, bool); 9] = [
    ("", false),
    ("Bought", true),
    ("Spend", true),
    ("Cost per lead", true),
    ("Actions", true),
    ("Cost per action", true),
    ("Disputes", true),
    ("Returned", true),
    ("Return rate", true),
];

fn cells(name: Cell, o: &Outcome, currency: &str) -> Vec<Cell> {
    let m = |c: Option<i64>| c.map(|c| money(c, currency)).unwrap_or_else(|| "—".into());
    vec![
        name,
        Cell::num(o.bought),
        Cell::figure(money(o.spend_cents(), currency)),
        Cell::figure(m(o.cost_per_lead_cents())),
        Cell::num(o.actions),
        Cell::figure(m(o.cost_per_action_cents())),
        Cell::num(o.disputes),
        Cell::num(o.returns),
        Cell::figure(
            o.return_rate()
                .map(charts::percent)
                .unwrap_or_else(|| "—".into()),
        ),
    ]
}

fn table(
    caption: &'static str,
    first: &'static str,
    rows: Vec<Vec<Cell>>,
    empty: &'static str,
) -> Table {
    let mut headers = OUTCOME_HEADERS.to_vec();
    headers[0].0 = first;
    Table {
        caption,
        headers,
        rows,
        empty,
    }
}

/// Spend per agency as bars, beside the table of every outcome per agency.
pub fn spend_figure(
    id: &str,
    outcomes: &BuyerOutcomes,
    names: &std::collections::HashMap<String, String>,
    currency: &str,
) -> Figure {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let bars = outcomes
        .by_agency
        .iter()
        .map(|(a, o)| Bar {
            label: name(a),
            value: o.spend_cents() as f64,
            shown: money(o.spend_cents(), currency),
            tooltip: format!(
                "{}: {} spent on {} leads, {} actions, {} returned",
                name(a),
                money(o.spend_cents(), currency),
                thousands(o.bought),
                thousands(o.actions),
                thousands(o.returns)
            ),
        })
        .collect();
    let rows = outcomes
        .by_agency
        .iter()
        .map(|(a, o)| {
            cells(
                Cell::link(name(a), format!("/outcomes?agency={}", urlencode(a))),
                o,
                currency,
            )
        })
        .collect();
    Figure {
        svg: charts::hbars(id, "Spend per agency", &format!("Spend ({currency})"), bars),
        table: table("Per agency", "Agency", rows, "No purchases in this range."),
    }
}

#[derive(Template)]
#[template(path = "funnel/outcomes.html")]
struct OutcomesPage {
    layout: Layout,
    from: String,
    to: String,
    agencies: Vec<Choice>,
    problems: Vec<crate::error::FieldProblem>,
    csv_href: String,
    heading: String,
    empty: bool,
    totals: Vec<(&'static str, String)>,
    spend: Option<Figure>,
    segments: Option<Table>,
}

struct Loaded {
    outcomes: BuyerOutcomes,
    names: std::collections::HashMap<String, String>,
    segment_names: store::reference::Names,
}

fn load(
    conn: &mut crate::db::AnyConnection,
    buyer: &str,
    range: Range,
    agency: Option<&str>,
) -> Result<Loaded, AppError> {
    let outcomes = service::buyer_outcomes(conn, buyer, range, agency)?;
    let names = store::purchases::agencies_of_buyer(conn, buyer)?
        .into_iter()
        .collect();
    Ok(Loaded {
        outcomes,
        names,
        segment_names: store::reference::Names::load(conn)?,
    })
}

pub async fn show(
    user: BuyerUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let asked = query.check();
    let currency = state.config().currency.clone();
    let buyer = user.org_id.clone();
    let picked = asked.as_ref().ok().and_then(|a| a.agency.clone());
    let range = asked.as_ref().ok().map(|a| a.range);
    let (loaded, agencies) = {
        let (buyer, picked) = (buyer.clone(), picked.clone());
        state
            .db(move |conn| {
                let agencies = store::purchases::agencies_of_buyer(conn, &buyer)?;
                let loaded = match range {
                    Some(r) => Some(load(conn, &buyer, r, picked.as_deref())?),
                    None => None,
                };
                Ok((loaded, agencies))
            })
            .await?
    };
    let choices = std::iter::once(Choice {
        value: String::new(),
        label: "Every agency".into(),
        selected: picked.is_none(),
    })
    .chain(agencies.iter().map(|(id, name)| Choice {
        selected: picked.as_deref() == Some(id.as_str()),
        value: id.clone(),
        label: name.clone(),
    }))
    .collect();
    let (from, to) = match &asked {
        Ok(a) => (a.range.from.to_string(), a.range.to.to_string()),
        Err(_) => (
            query.from.clone().unwrap_or_default(),
            query.to.clone().unwrap_or_default(),
        ),
    };
    let csv_href = format!(
        "/outcomes.csv?from={}&to={}{}",
        urlencode(&from),
        urlencode(&to),
        picked
            .as_ref()
            .map(|a| format!("&agency={}", urlencode(a)))
            .unwrap_or_default()
    );
    let heading = match picked
        .as_ref()
        .and_then(|p| agencies.iter().find(|(id, _)| id == p))
    {
        Some((_, name)) => format!("Your outcomes with {name}"),
        None => "Your outcomes".into(),
    };
    let layout = Layout::for_user(&user, "Outcomes", "/outcomes");
    let Some(loaded) = loaded else {
        return render_status(
            &OutcomesPage {
                layout,
                from,
                to,
                agencies: choices,
                problems: asked.err().unwrap_or_default(),
                csv_href,
                heading,
                empty: true,
                totals: Vec::new(),
                spend: None,
                segments: None,
            },
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let o = &loaded.outcomes;
    let total = o.total;
    let dash = |c: Option<i64>| c.map(|c| money(c, &currency)).unwrap_or_else(|| "—".into());
    let totals = vec![
        ("Leads bought", thousands(total.bought)),
        ("Spend", money(total.spend_cents(), &currency)),
        ("Cost per lead", dash(total.cost_per_lead_cents())),
        ("Cost per action", dash(total.cost_per_action_cents())),
        (
            "Return rate",
            total
                .return_rate()
                .map(charts::percent)
                .unwrap_or_else(|| "—".into()),
        ),
    ];
    let segments = table(
        "Per segment",
        "Segment",
        o.by_segment
            .iter()
            .map(|(s, oc)| cells(Cell::text(loaded.segment_names.segment(s)), oc, &currency))
            .collect(),
        "No purchases in this range.",
    );
    render(&OutcomesPage {
        layout,
        from,
        to,
        agencies: choices,
        problems: Vec::new(),
        csv_href,
        heading,
        empty: total.bought == 0,
        totals,
        spend: Some(spend_figure("outcomes-spend", o, &loaded.names, &currency)),
        segments: Some(segments),
    })
}

pub async fn csv(
    user: BuyerUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let asked = query.check().map_err(AppError::Validation)?;
    let currency = state.config().currency.clone();
    let buyer = user.org_id.clone();
    let loaded = state
        .db(move |conn| load(conn, &buyer, asked.range, asked.agency.as_deref()))
        .await?;
    let row = |by: &str, key: &str, name: String, o: &Outcome| {
        let m = |c: Option<i64>| c.map(major_plain).unwrap_or_default();
        vec![
            by.to_string(),
            key.to_string(),
            name,
            o.bought.to_string(),
            major_plain(o.spend_cents()),
            m(o.cost_per_lead_cents()),
            o.actions.to_string(),
            m(o.cost_per_action_cents()),
            o.disputes.to_string(),
            o.returns.to_string(),
            currency.clone(),
        ]
    };
    let o = &loaded.outcomes;
    let rows = o
        .by_agency
        .iter()
        .map(|(a, oc)| {
            let name = loaded.names.get(a).cloned().unwrap_or_default();
            row("agency", a, name, oc)
        })
        .chain(
            o.by_segment
                .iter()
                .map(|(s, oc)| row("segment", s, loaded.segment_names.segment(s), oc)),
        )
        .collect::<Vec<_>>();
    Ok(csv_response(
        "outcomes.csv",
        csv_bytes(
            &[
                "group_by",
                "key",
                "name",
                "bought",
                "spend",
                "cost_per_lead",
                "actions",
                "cost_per_action",
                "disputes",
                "returned",
                "currency",
            ],
            rows,
        ),
    ))
}
