//! `/platform`: the marketplace's sales, revenue and return rate per day, for finance and
//! admin staff, drawn, tabled and at `/platform.csv`.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;

use crate::app::AppState;
use crate::domain::funnel::PlatformDay;
use crate::domain::money::major_plain;
use crate::error::{AppError, AppResult};
use crate::services::funnel as service;
use crate::web::auth::FinanceUser;
use crate::web::charts::{self, Series};
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::funnel_view::FunnelQuery;
use crate::web::layout::Layout;
use crate::web::pages::figures::{Cell, Figure, Table};
use crate::web::{money, render, render_status, thousands, urlencode};

fn rate(d: &PlatformDay) -> String {
    d.return_rate()
        .map(charts::percent)
        .unwrap_or_else(|| "—".into())
}

/// One line chart of the days and the table of all four figures per day.
fn day_figures(days: &[(NaiveDate, PlatformDay)], currency: &str) -> Vec<Figure> {
    let xs: Vec<String> = days.iter().map(|(d, _)| d.to_string()).collect();
    let table = |caption: &'static str| Table {
        caption,
        headers: vec![
            ("Day", false),
            ("Sales", true),
            ("Gross", true),
            ("Revenue", true),
            ("Returned", true),
            ("Return rate", true),
        ],
        rows: days
            .iter()
            .map(|(d, p)| {
                vec![
                    Cell::text(d.to_string()),
                    Cell::num(p.sales),
                    Cell::figure(money(p.gross_cents, currency)),
                    Cell::figure(money(p.revenue_cents, currency)),
                    Cell::num(p.returns),
                    Cell::figure(rate(p)),
                ]
            })
            .collect(),
        empty: "No days in the range.",
    };
    fn major(v: f64) -> String {
        major_plain(v.round() as i64)
    }
    vec![
        Figure {
            svg: charts::lines(
                "platform-sales",
                "Sales per day",
                "Day (UTC)",
                "Lead sales",
                &xs,
                vec![Series {
                    name: "Sales".into(),
                    values: days.iter().map(|(_, p)| p.sales as f64).collect(),
                    format: charts::plain,
                }],
            ),
            table: table("Sales, revenue and returns per day"),
        },
        Figure {
            svg: charts::lines(
                "platform-revenue",
                "Revenue per day",
                "Day (UTC)",
                &format!("Commission ({currency})"),
                &xs,
                vec![Series {
                    name: format!("Revenue ({currency})"),
                    values: days.iter().map(|(_, p)| p.revenue_cents as f64).collect(),
                    format: major,
                }],
            ),
            table: Table {
                caption: "Revenue per day",
                headers: vec![("Day", false), ("Revenue", true)],
                rows: days
                    .iter()
                    .map(|(d, p)| {
                        vec![
                            Cell::text(d.to_string()),
                            Cell::figure(money(p.revenue_cents, currency)),
                        ]
                    })
                    .collect(),
                empty: "No days in the range.",
            },
        },
        Figure {
            svg: charts::lines(
                "platform-returns",
                "Return rate per day",
                "Day of the sale (UTC)",
                "Returned (%)",
                &xs,
                vec![Series {
                    name: "Return rate".into(),
                    values: days
                        .iter()
                        .map(|(_, p)| p.return_rate().unwrap_or(0.0))
                        .collect(),
                    format: charts::percent,
                }],
            ),
            table: Table {
                caption: "Return rate per day",
                headers: vec![
                    ("Day", false),
                    ("Sales", true),
                    ("Returned", true),
                    ("Rate", true),
                ],
                rows: days
                    .iter()
                    .map(|(d, p)| {
                        vec![
                            Cell::text(d.to_string()),
                            Cell::num(p.sales),
                            Cell::num(p.returns),
                            Cell::figure(rate(p)),
                        ]
                    })
                    .collect(),
                empty: "No days in the range.",
            },
        },
    ]
}

/// The sales chart alone, for the staff dashboards.
pub fn sales_figure(days: &[(NaiveDate, PlatformDay)], currency: &str) -> Figure {
    day_figures(days, currency).swap_remove(0)
}

#[derive(Template)]
#[template(path = "funnel/platform.html")]
struct PlatformPage {
    layout: Layout,
    from: String,
    to: String,
    problems: Vec<crate::error::FieldProblem>,
    csv_href: String,
    totals: Vec<(&'static str, String)>,
    figures: Vec<Figure>,
}

pub async fn show(
    user: FinanceUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let asked = query.check();
    let currency = state.config().currency.clone();
    let layout = Layout::for_user(&user, "Platform", "/platform");
    let asked = match asked {
        Ok(a) => a,
        Err(problems) => {
            return render_status(
                &PlatformPage {
                    layout,
                    from: query.from.clone().unwrap_or_default(),
                    to: query.to.clone().unwrap_or_default(),
                    problems,
                    csv_href: "/platform.csv".into(),
                    totals: Vec::new(),
                    figures: Vec::new(),
                },
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let range = asked.range;
    let days = state
        .db(move |conn| service::platform_days(conn, range))
        .await?;
    let mut total = PlatformDay::default();
    for (_, d) in &days {
        total.sales += d.sales;
        total.gross_cents += d.gross_cents;
        total.revenue_cents += d.revenue_cents;
        total.returns += d.returns;
    }
    let (from, to) = (range.from.to_string(), range.to.to_string());
    render(&PlatformPage {
        layout,
        csv_href: format!(
            "/platform.csv?from={}&to={}",
            urlencode(&from),
            urlencode(&to)
        ),
        from,
        to,
        problems: Vec::new(),
        totals: vec![
            ("Sales", thousands(total.sales)),
            ("Gross", money(total.gross_cents, &currency)),
            ("Revenue", money(total.revenue_cents, &currency)),
            ("Return rate", rate(&total)),
        ],
        figures: day_figures(&days, &currency),
    })
}

pub async fn csv(
    _user: FinanceUser,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> AppResult<HttpResponse> {
    let asked = query.check().map_err(AppError::Validation)?;
    let currency = state.config().currency.clone();
    let days = state
        .db(move |conn| service::platform_days(conn, asked.range))
        .await?;
    let rows = days.iter().map(|(d, p)| {
        vec![
            d.to_string(),
            p.sales.to_string(),
            major_plain(p.gross_cents),
            major_plain(p.revenue_cents),
            p.returns.to_string(),
            p.return_rate()
                .map(|r| format!("{r:.1}"))
                .unwrap_or_default(),
            currency.clone(),
        ]
    });
    Ok(csv_response(
        "platform.csv",
        csv_bytes(
            &[
                "day",
                "sales",
                "gross",
                "revenue",
                "returned",
                "return_rate_percent",
                "currency",
            ],
            rows,
        ),
    ))
}
