//! Targeted orders on pages: a buyer's orders with the form for a new one and "close"
//! (`/orders`); the open orders agencies may fill (`/orders/open`), each with the
//! upload of a targeted batch against it.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::money::{format_amount, parse_major};
use crate::domain::problem::FieldProblem;
use crate::error::{AppError, AppResult};
use crate::services::targeted_orders::{self, OrderDraft};
use crate::store;
use crate::web::auth::{AgencyUser, BuyerUser, CurrentUser};
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{redirect, render, render_status};

/// Form fields that are catalogue filters, by their names there.
const FILTER_FIELDS: [&str; 6] = [
    "country",
    "region",
    "postal_prefix",
    "age_min",
    "age_max",
    "warmth",
];

pub struct Line {
    pub id: String,
    pub name: String,
    pub buyer: String,
    pub criteria: String,
    pub progress: String,
    pub price: String,
    pub deadline: String,
    pub open: bool,
}

#[derive(Default)]
pub struct Values {
    pub name: String,
    pub segment: String,
    pub quantity: String,
    pub price: String,
    pub deadline: String,
    pub filters: Vec<(String, String)>,
}

impl Values {
    fn filter(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "orders/list.html")]
struct BuyerPage {
    layout: Layout,
    flash: Option<Flash>,
    orders: Vec<Line>,
    values: Values,
    problems: Vec<FieldProblem>,
    currency: String,
}

#[derive(Template)]
#[template(path = "orders/open.html")]
struct AgencyPage {
    layout: Layout,
    orders: Vec<Line>,
}

fn criteria(segment: Option<&str>, query: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut parts: Vec<String> = segment.map(|s| vec![s.to_string()]).unwrap_or_default();
    parts.extend(
        pairs
            .into_iter()
            .filter(|(k, _)| k != "segment")
            .map(|(k, v)| format!("{} {v}", k.replace('_', " "))),
    );
    if parts.is_empty() {
        "any lead".into()
    } else {
        parts.join(" · ")
    }
}

fn line(
    o: store::orders::OrderRow,
    buyer: String,
    currency: &str,
    now: chrono::NaiveDateTime,
) -> Line {
    Line {
        criteria: criteria(o.segment.as_deref(), &o.filter_query),
        progress: format!("{} of {}", o.delivered, o.quantity),
        price: format_amount(o.price_cents, currency),
        deadline: o
            .deadline
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        open: o.status.at(o.deadline, now) == crate::domain::market::OrderStatus::Open,
        id: o.id,
        name: o.name,
        buyer,
    }
}

/// `/orders`: a buyer's orders; an agency is sent to the open orders it may fill.
pub async fn list(
    user: CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    match user.org_kind {
        crate::domain::OrgKind::Agency => Ok(redirect("/orders/open")),
        crate::domain::OrgKind::Buyer => {
            let user = BuyerUser(user);
            buyer_page(
                &user,
                &state,
                flash::take(&session),
                Values::default(),
                Vec::new(),
            )
            .await
        }
        crate::domain::OrgKind::Platform => Err(AppError::Forbidden),
    }
}

async fn buyer_page(
    user: &BuyerUser,
    state: &AppState,
    flash: Option<Flash>,
    values: Values,
    problems: Vec<FieldProblem>,
) -> AppResult<HttpResponse> {
    let buyer = user.org_id.clone();
    let now = store::now();
    let rows = state
        .db(move |conn| targeted_orders::list(conn, &buyer, now))
        .await?;
    let c = state.config().currency.clone();
    let refused = !problems.is_empty();
    let page = BuyerPage {
        layout: Layout::for_user(user, "Targeted orders", "/orders"),
        flash,
        orders: rows
            .into_iter()
            .map(|o| line(o, String::new(), &c, now))
            .collect(),
        values,
        problems,
        currency: c,
    };
    if refused {
        render_status(&page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        render(&page)
    }
}

pub async fn create(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let values = Values {
        name: get("name"),
        segment: get("segment"),
        quantity: get("quantity"),
        price: get("price"),
        deadline: get("deadline"),
        filters: FILTER_FIELDS
            .iter()
            .map(|f| (f.to_string(), get(f)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    };
    let mut problems = Vec::new();
    let price_cents = match parse_major(&values.price) {
        Ok(c) => Some(c),
        Err(why) => {
            problems.push(FieldProblem::new("price", why));
            None
        }
    };
    let quantity = values.quantity.parse::<i64>().ok();
    let deadline = crate::domain::intake::row::parse_timestamp(&values.deadline);
    if !problems.is_empty() {
        return buyer_page(&user, &state, None, values, problems).await;
    }
    let filter_query = serde_urlencoded::to_string(&values.filters).map_err(AppError::internal)?;
    let draft = OrderDraft {
        name: values.name.clone(),
        segment: Some(values.segment.clone()).filter(|s| !s.is_empty()),
        filter_query,
        quantity,
        price_cents,
        deadline,
    };
    let buyer = user.org_id.clone();
    let made = state
        .db(move |conn| targeted_orders::create(conn, &buyer, &draft, store::now()))
        .await;
    match made {
        Ok(_) => {
            flash::set(
                &session,
                Flash::notice("The order is open: agencies can fill it now."),
            )?;
            Ok(redirect("/orders"))
        }
        Err(AppError::Validation(p)) => buyer_page(&user, &state, None, values, p).await,
        Err(e) => Err(e),
    }
}

/// The form carries its CSRF token only.
#[derive(serde::Deserialize)]
pub struct CloseForm {}

pub async fn close(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<CloseForm>,
) -> AppResult<HttpResponse> {
    let (buyer, id) = (user.org_id.clone(), path.into_inner());
    let closed = state
        .db(move |conn| targeted_orders::close(conn, &buyer, &id, store::now()))
        .await;
    let message = match closed {
        Ok(_) => Flash::notice("The order is closed: it takes no more leads."),
        Err(AppError::Conflict { message, .. }) => Flash::alert(format!("Not closed: {message}.")),
        Err(e) => return Err(e),
    };
    flash::set(&session, message)?;
    Ok(redirect("/orders"))
}

/// `/orders/open`: what agencies may fill, soonest deadline first.
pub async fn open(user: AgencyUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let now = store::now();
    let rows = state
        .db(move |conn| targeted_orders::open_orders(conn, now))
        .await?;
    let c = state.config().currency.clone();
    render(&AgencyPage {
        layout: Layout::for_user(&user, "Open orders", "/orders/open"),
        orders: rows
            .into_iter()
            .map(|(o, buyer)| line(o, buyer, &c, now))
            .collect(),
    })
}
