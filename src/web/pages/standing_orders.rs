//! A buyer's standing orders: the list, the form (new and edit; money in major units),
//! the order's page with today's count, budget, spend, the last deliveries and the
//! secret shown once after it was made or rotated, and pause, resume and delete.

use actix_session::Session;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::money;
use crate::domain::standing_order::DeliveryStatus;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::standing_orders::OrderView;
use crate::services::standing_orders::manage::{self, Draft};
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{redirect, render, render_status};

/// The filter fields of the form, by the catalogue's names; money ones in major units.
const TEXT_FILTERS: [&str; 9] = [
    "segment",
    "country",
    "region",
    "city",
    "postal_prefix",
    "age_min",
    "age_max",
    "contact_type",
    "verified",
];
const NUMBER_FILTERS: [&str; 2] = ["min_score", "max_age_days"];
/// Page field (major units) and the filter parameter (cents) it stands for.
const MONEY_FILTERS: [(&str, &str); 2] = [
    ("income_min", "income_min_cents"),
    ("income_max", "income_max_cents"),
];
const WARMTHS: [&str; 3] = ["cold", "warm", "hot"];

pub struct Row {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub filter: String,
    pub ceiling: String,
    pub today: String,
    pub budget_left: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "standing_orders/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<Flash>,
    orders: Vec<Row>,
}

/// What the form shows: as typed, or from the stored order.
#[derive(Default, Clone)]
pub struct Values {
    pub name: String,
    pub max_price: String,
    pub daily_cap: String,
    pub budget: String,
    pub deliver_email: String,
    pub callback_url: String,
    pub active_hours: String,
    /// Filter fields by page name.
    pub filters: Vec<(String, String)>,
    pub warmth: Vec<String>,
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
#[template(path = "standing_orders/form.html")]
struct FormPage {
    layout: Layout,
    /// `None`: a new order.
    id: Option<String>,
    currency: String,
    values: Values,
    problems: Vec<FieldProblem>,
    segments: Vec<Choice>,
    warmths: Vec<Choice>,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<String> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(FieldProblem::sentence)
    }
}

pub struct DeliveryLine {
    pub id: String,
    pub lead_id: String,
    pub channel: String,
    pub status: String,
    pub dead: bool,
    pub attempts: i32,
    pub last_status_code: String,
    pub next_attempt: String,
}

#[derive(Template)]
#[template(path = "standing_orders/show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<Flash>,
    order: OrderView,
    filter: String,
    ceiling: String,
    cap: String,
    budget: String,
    budget_left: String,
    spent: String,
    secret: Option<String>,
    deliveries: Vec<DeliveryLine>,
}

fn amount(cents: i64, currency: &str) -> String {
    money::format_amount(cents, currency)
}

/// The stored filter in words: `segment insurance.car · country DE`.
fn summary(query: &str, currency: &str) -> String {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    if pairs.is_empty() {
        return "every lead".into();
    }
    pairs
        .into_iter()
        .map(|(k, v)| {
            let v = match MONEY_FILTERS.iter().find(|(_, c)| *c == k) {
                Some(_) => v.parse::<i64>().map(|c| amount(c, currency)).unwrap_or(v),
                None => v,
            };
            let k = k.trim_end_matches("_cents").replace('_', " ");
            format!("{k} {v}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn no_store(mut resp: HttpResponse) -> HttpResponse {
    // A secret on the page must not linger in any cache.
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub async fn list(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let buyer = user.org_id.clone();
    let orders = state
        .db(move |conn| manage::list(conn, &buyer, store::now()))
        .await?;
    let c = &state.config().currency;
    render(&ListPage {
        layout: Layout::for_user(&user, "Standing orders", "/standing-orders"),
        flash: flash::take(&session),
        orders: orders
            .into_iter()
            .map(|o| Row {
                filter: summary(&o.filter_query, c),
                ceiling: amount(o.max_price_cents, c),
                today: match o.daily_cap {
                    Some(cap) => format!("{} / {cap}", o.today_count),
                    None => format!("{} (no cap)", o.today_count),
                },
                budget_left: o
                    .budget_left_cents
                    .map(|b| amount(b, c))
                    .unwrap_or_else(|| "no budget".into()),
                id: o.id,
                name: o.name,
                active: o.active,
            })
            .collect(),
    })
}

async fn form_page(
    user: &BuyerUser,
    state: &AppState,
    id: Option<String>,
    values: Values,
    problems: Vec<FieldProblem>,
) -> AppResult<FormPage> {
    let segments = state
        .db(|conn| Ok(store::reference::segments(conn)?))
        .await?;
    let chosen = values.filter("segment").to_string();
    let mut segment_options = vec![Choice {
        value: String::new(),
        label: "Any segment".into(),
        selected: chosen.is_empty(),
    }];
    segment_options.extend(segments.into_iter().map(|s| Choice {
        selected: s.slug == chosen,
        value: s.slug,
        label: s.name,
    }));
    let title = if id.is_some() {
        "Edit standing order"
    } else {
        "New standing order"
    };
    Ok(FormPage {
        layout: Layout::for_user(user, title, "/standing-orders"),
        id,
        currency: state.config().currency.clone(),
        warmths: WARMTHS
            .iter()
            .map(|w| Choice {
                value: w.to_string(),
                label: w.to_string(),
                selected: values.warmth.iter().any(|v| v == w),
            })
            .collect(),
        values,
        problems,
        segments: segment_options,
    })
}

pub async fn new(user: BuyerUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let values = Values {
        max_price: "10.00".into(),
        ..Values::default()
    };
    render(&form_page(&user, &state, None, values, Vec::new()).await?)
}

/// The posted form: what to show again, and the draft when every amount parsed.
fn read_form(pairs: Vec<(String, String)>) -> (Values, Result<Draft, Vec<FieldProblem>>) {
    let mut v = Values::default();
    let mut filter_pairs: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for (k, val) in pairs {
        match k.as_str() {
            "name" => v.name = val,
            "max_price" => v.max_price = val,
            "daily_cap" => v.daily_cap = val,
            "budget" => v.budget = val,
            "deliver_email" => v.deliver_email = val,
            "callback_url" => v.callback_url = val,
            "active_hours" => v.active_hours = val,
            "warmth" => {
                filter_pairs.push(("warmth".into(), val.clone()));
                v.warmth.push(val);
            }
            other => {
                if let Some((page, cents)) = MONEY_FILTERS.iter().find(|(p, _)| *p == other) {
                    if !val.trim().is_empty() {
                        match money::parse_major(&val) {
                            Ok(c) => filter_pairs.push((cents.to_string(), c.to_string())),
                            Err(p) => problems.push(FieldProblem::new(*page, p)),
                        }
                    }
                    v.filters.push((other.to_string(), val));
                } else if TEXT_FILTERS.contains(&other) || NUMBER_FILTERS.contains(&other) {
                    if !val.trim().is_empty() {
                        filter_pairs.push((other.to_string(), val.clone()));
                    }
                    v.filters.push((other.to_string(), val));
                }
            }
        }
    }
    let max_price_cents = match money::parse_major(&v.max_price) {
        Ok(c) => c,
        Err(p) => {
            problems.push(FieldProblem::new("max_price", p));
            0
        }
    };
    let budget_cents = if v.budget.trim().is_empty() {
        None
    } else {
        match money::parse_major(&v.budget) {
            Ok(c) => Some(c),
            Err(p) => {
                problems.push(FieldProblem::new("budget", p));
                None
            }
        }
    };
    let daily_cap = if v.daily_cap.trim().is_empty() {
        None
    } else {
        match v.daily_cap.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(FieldProblem::new(
                    "daily_cap",
                    "must be a whole number above 0, or empty for no cap",
                ));
                None
            }
        }
    };
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let draft = Draft {
        name: v.name.clone(),
        filter_query: serde_urlencoded::to_string(&filter_pairs).unwrap_or_default(),
        max_price_cents,
        daily_cap,
        budget_cents,
        deliver_email: opt(&v.deliver_email),
        callback_url: opt(&v.callback_url),
        active: true,
        active_hours: opt(&v.active_hours),
    };
    let result = if problems.is_empty() {
        Ok(draft)
    } else {
        Err(problems)
    };
    (v, result)
}

/// A service problem named by the form's fields (major units, catalogue names).
fn page_field(p: FieldProblem) -> FieldProblem {
    let field = match p.field.as_str() {
        "max_price_cents" => "max_price".to_string(),
        "budget_cents" => "budget".to_string(),
        f => match f.strip_prefix("filter.") {
            Some(name) => MONEY_FILTERS
                .iter()
                .find(|(_, c)| *c == name)
                .map(|(page, _)| page.to_string())
                .unwrap_or_else(|| name.to_string()),
            None => f.to_string(),
        },
    };
    FieldProblem::new(field, p.problem)
}

/// The form's values from a stored order, for editing.
fn values_of(o: &OrderView) -> Values {
    let mut v = Values {
        name: o.name.clone(),
        max_price: money::major_plain(o.max_price_cents),
        daily_cap: o.daily_cap.map(|c| c.to_string()).unwrap_or_default(),
        budget: o.budget_cents.map(money::major_plain).unwrap_or_default(),
        deliver_email: o.deliver_email.clone().unwrap_or_default(),
        callback_url: o.callback_url.clone().unwrap_or_default(),
        active_hours: o.active_hours.clone().unwrap_or_default(),
        ..Values::default()
    };
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(&o.filter_query).unwrap_or_default();
    for (k, val) in pairs {
        if k == "warmth" {
            v.warmth
                .extend(val.split(',').map(|w| w.trim().to_string()));
        } else if let Some((page, _)) = MONEY_FILTERS.iter().find(|(_, c)| *c == k) {
            let shown = val.parse::<i64>().map(money::major_plain).unwrap_or(val);
            v.filters.push((page.to_string(), shown));
        } else {
            v.filters.push((k, val));
        }
    }
    v
}

async fn refused(
    user: &BuyerUser,
    state: &AppState,
    id: Option<String>,
    values: Values,
    problems: Vec<FieldProblem>,
) -> AppResult<HttpResponse> {
    let page = form_page(user, state, id, values, problems).await?;
    render_status(&page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
}

pub async fn create(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (values, draft) = read_form(pairs);
    let draft = match draft {
        Ok(d) => d,
        Err(p) => return refused(&user, &state, None, values, p).await,
    };
    let allow_private = state.config().callback_allow_private;
    let buyer = user.org_id.clone();
    let made = state
        .db(move |conn| manage::create(conn, allow_private, &buyer, &draft, store::now()))
        .await;
    match made {
        Ok(c) => {
            let id = c.order.id.clone();
            let notice = Flash::notice(
                "The standing order is saved and buys matching leads as they arrive.",
            );
            show_page(&user, &state, &id, Some(notice), Some(c.secret))
                .await
                .map(no_store)
        }
        Err(AppError::Validation(p)) => {
            refused(
                &user,
                &state,
                None,
                values,
                p.into_iter().map(page_field).collect(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn show_page(
    user: &BuyerUser,
    state: &AppState,
    id: &str,
    flash: Option<Flash>,
    secret: Option<String>,
) -> AppResult<HttpResponse> {
    let (buyer, id_) = (user.org_id.clone(), id.to_string());
    let (order, deliveries) = state
        .db(move |conn| {
            let order = manage::get(conn, &buyer, &id_, store::now())?;
            let deliveries = store::deliveries::recent_for_order(conn, &order.id, None, 20)?;
            Ok((order, deliveries))
        })
        .await?;
    let c = &state.config().currency;
    render(&ShowPage {
        layout: Layout::for_user(user, &order.name, "/standing-orders"),
        flash,
        filter: summary(&order.filter_query, c),
        ceiling: amount(order.max_price_cents, c),
        cap: order
            .daily_cap
            .map(|n| n.to_string())
            .unwrap_or_else(|| "no cap".into()),
        budget: order
            .budget_cents
            .map(|b| amount(b, c))
            .unwrap_or_else(|| "no budget".into()),
        budget_left: order
            .budget_left_cents
            .map(|b| amount(b, c))
            .unwrap_or_else(|| "no budget".into()),
        spent: amount(order.spent_cents, c),
        secret,
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryLine {
                dead: d.status == DeliveryStatus::Dead,
                status: d.status.to_string(),
                channel: d.channel.to_string(),
                attempts: d.attempts,
                last_status_code: d
                    .last_status_code
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "–".into()),
                next_attempt: match (d.status, d.next_attempt_at) {
                    (DeliveryStatus::Pending | DeliveryStatus::Failed, Some(t)) => {
                        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
                    }
                    _ => "–".into(),
                },
                id: d.id,
                lead_id: d.lead_id,
            })
            .collect(),
        order,
    })
}

pub async fn show(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let flash = flash::take(&session);
    show_page(&user, &state, &path.into_inner(), flash, None).await
}

pub async fn edit(
    user: BuyerUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let (buyer, id) = (user.org_id.clone(), path.into_inner());
    let id_ = id.clone();
    let order = state
        .db(move |conn| manage::get(conn, &buyer, &id_, store::now()))
        .await?;
    render(&form_page(&user, &state, Some(id), values_of(&order), Vec::new()).await?)
}

pub async fn update(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let (values, draft) = read_form(pairs);
    let draft = match draft {
        Ok(d) => d,
        Err(p) => return refused(&user, &state, Some(id), values, p).await,
    };
    let allow_private = state.config().callback_allow_private;
    let (buyer, id_) = (user.org_id.clone(), id.clone());
    let saved = state
        .db(move |conn| {
            manage::update(
                conn,
                allow_private,
                &buyer,
                &id_,
                // Pausing has its own button: the form keeps the order as it is.
                |d| {
                    *d = Draft {
                        active: d.active,
                        ..draft
                    }
                },
                store::now(),
            )
        })
        .await;
    match saved {
        Ok(_) => {
            flash::set(&session, Flash::notice("The standing order is saved."))?;
            Ok(redirect(&format!("/standing-orders/{id}")))
        }
        Err(AppError::Validation(p)) => {
            refused(
                &user,
                &state,
                Some(id),
                values,
                p.into_iter().map(page_field).collect(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct EmptyForm {}

async fn set_active(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    id: String,
    active: bool,
) -> AppResult<HttpResponse> {
    let (buyer, id_) = (user.org_id.clone(), id.clone());
    state
        .db(move |conn| manage::set_active(conn, &buyer, &id_, active, store::now()))
        .await?;
    let notice = if active {
        "The standing order buys again."
    } else {
        "The standing order is paused: it buys nothing until you resume it."
    };
    flash::set(&session, Flash::notice(notice))?;
    Ok(redirect(&format!("/standing-orders/{id}")))
}

pub async fn pause(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_active(user, state, session, path.into_inner(), false).await
}

pub async fn resume(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    set_active(user, state, session, path.into_inner(), true).await
}

pub async fn delete(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (buyer, id) = (user.org_id.clone(), path.into_inner());
    state
        .db(move |conn| manage::delete(conn, &buyer, &id, store::now()))
        .await?;
    flash::set(
        &session,
        Flash::notice("The standing order is deleted. The leads it bought stay in My leads."),
    )?;
    Ok(redirect("/standing-orders"))
}

/// A new secret, shown on this one response.
pub async fn rotate_secret(
    user: BuyerUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: CsrfForm<EmptyForm>,
) -> AppResult<HttpResponse> {
    let (buyer, id) = (user.org_id.clone(), path.into_inner());
    let id_ = id.clone();
    let secret = state
        .db(move |conn| manage::rotate_secret(conn, &buyer, &id_, store::now()))
        .await?;
    let notice = Flash::notice("A new secret signs this order's callbacks from now on.");
    show_page(&user, &state, &id, Some(notice), Some(secret))
        .await
        .map(no_store)
}
