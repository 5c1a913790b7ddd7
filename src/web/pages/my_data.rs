//! "My data" (no login): a person names an email or a phone; a mailed link opens the
//! page of who holds and who bought it, with the button that erases it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::rights::{Contact, LINK_VALID_HOURS};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::rights::{self, Holding, Settings};
use crate::store;
use crate::web::csrf::{self, CsrfForm};
use crate::web::layout::Layout;
use crate::web::{client_ip, render, render_status};

/// One lead on the page: the agency that holds it and the buyers that bought it.
pub struct HoldingView {
    pub agency: String,
    pub captured: String,
    pub channel: String,
    pub consent_text: String,
    pub consent_at: String,
    /// (buyer, bought on).
    pub buyers: Vec<(String, String)>,
}

fn day_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn views(holdings: Vec<Holding>) -> Vec<HoldingView> {
    holdings
        .into_iter()
        .map(|h| HoldingView {
            agency: h.lead.agency_name,
            captured: day_time(h.lead.captured_at),
            channel: h.lead.channel,
            consent_text: h.lead.consent_text,
            consent_at: day_time(h.lead.consent_at),
            buyers: h
                .buyers
                .into_iter()
                .map(|(name, at)| (name, day_time(at)))
                .collect(),
        })
        .collect()
}

fn layout(session: &Session, title: &str) -> AppResult<Layout> {
    let mut layout = Layout::anonymous(title);
    layout.csrf_token = csrf::token(session)?;
    Ok(layout)
}

#[derive(Template)]
#[template(path = "my_data/form.html")]
struct FormPage {
    layout: Layout,
    contact: String,
    country: String,
    /// The answer to a request: "email" or "phone".
    sent: String,
    valid_hours: i64,
    problems: Vec<FieldProblem>,
}

fn form_page(
    session: &Session,
    contact: String,
    country: String,
    sent: &str,
    problems: Vec<FieldProblem>,
) -> AppResult<FormPage> {
    Ok(FormPage {
        layout: layout(session, "Your data")?,
        contact,
        country,
        sent: sent.to_string(),
        valid_hours: LINK_VALID_HOURS,
        problems,
    })
}

pub async fn form(session: Session) -> AppResult<HttpResponse> {
    render(&form_page(
        &session,
        String::new(),
        String::new(),
        "",
        Vec::new(),
    )?)
}

#[derive(Deserialize)]
pub struct RequestForm {
    contact: String,
    #[serde(default)]
    country: String,
}

/// The same page whether or not the contact is known; only an unreadable one is named.
pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<HttpResponse> {
    let country = Some(form.country.as_str()).filter(|c| !c.trim().is_empty());
    let contact = match Contact::parse(&form.contact, country) {
        Ok(c) => c,
        Err(problem) => {
            let page = form_page(
                &session,
                form.contact,
                form.country,
                "",
                vec![FieldProblem::new("contact", problem)],
            )?;
            return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let ip = client_ip(&req, state.config().trust_proxy_headers);
    let settings = Settings::from(&*state.config());
    let sent = match contact {
        Contact::Email(_) => "email",
        Contact::Phone(_) => "phone",
    };
    state
        .db(move |conn| rights::request(conn, &settings, &contact, &ip, store::now()))
        .await?;
    render(&form_page(
        &session,
        String::new(),
        String::new(),
        sent,
        Vec::new(),
    )?)
}

#[derive(Template)]
#[template(path = "my_data/link.html")]
struct LinkPage {
    layout: Layout,
    token: String,
    live: bool,
    holdings: Vec<HoldingView>,
    erased: bool,
    erased_count: usize,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn link(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    let token = query.into_inner().token;
    let t = token.clone();
    let held = state
        .db(move |conn| rights::by_link(conn, &t, store::now()))
        .await?;
    let live = held.is_some();
    let page = LinkPage {
        layout: layout(&session, "Your data")?,
        token,
        live,
        holdings: views(held.unwrap_or_default()),
        erased: false,
        erased_count: 0,
    };
    if live {
        render(&page)
    } else {
        render_status(&page, StatusCode::GONE)
    }
}

#[derive(Deserialize)]
pub struct EraseForm {
    token: String,
}

pub async fn erase(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<EraseForm>,
) -> AppResult<HttpResponse> {
    let ip = client_ip(&req, state.config().trust_proxy_headers);
    let settings = Settings::from(&*state.config());
    let token = form.token.clone();
    let result = state
        .db(move |conn| rights::erase_by_link(conn, &settings, &token, &ip, store::now()))
        .await;
    let (erased, status) = match result {
        Ok(n) => (Some(n), StatusCode::OK),
        Err(AppError::Validation(_)) => (None, StatusCode::GONE),
        Err(e) => return Err(e),
    };
    let page = LinkPage {
        layout: layout(&session, "Your data")?,
        token: String::new(),
        live: false,
        holdings: Vec::new(),
        erased: erased.is_some(),
        erased_count: erased.unwrap_or(0),
    };
    render_status(&page, status)
}
