//! "Forgot password": ask for a mailed link, then set a new password through it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::Email;
use crate::domain::password::MIN_LEN;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::password_reset::{self, VALID_MINUTES};
use crate::store;
use crate::web::csrf::{self, CsrfForm};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{client_ip, redirect, render, render_status};

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    layout: Layout,
    email: String,
    sent: bool,
    valid_minutes: i64,
    problems: Vec<FieldProblem>,
}

fn layout(session: &Session, title: &str) -> AppResult<Layout> {
    let mut layout = Layout::anonymous(title);
    layout.csrf_token = csrf::token(session)?;
    Ok(layout)
}

fn forgot_page(
    session: &Session,
    email: String,
    sent: bool,
    problems: Vec<FieldProblem>,
) -> AppResult<ForgotPage> {
    Ok(ForgotPage {
        layout: layout(session, "Forgot your password?")?,
        email,
        sent,
        valid_minutes: VALID_MINUTES,
        problems,
    })
}

pub async fn forgot_form(session: Session) -> AppResult<HttpResponse> {
    render(&forgot_page(&session, String::new(), false, Vec::new())?)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

/// The same page whether or not the account exists; only a malformed address is named.
pub async fn forgot_submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> AppResult<HttpResponse> {
    if form.email.trim().parse::<Email>().is_err() {
        let problems = vec![FieldProblem::new(
            "email",
            "type the email you sign in with, such as ann@example.com",
        )];
        return render_status(
            &forgot_page(&session, form.email, false, problems)?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let ip = client_ip(&req, state.config().trust_proxy_headers);
    let (config, email) = (state.config().clone(), form.email.clone());
    state
        .db(move |conn| password_reset::request(conn, &config, &email, &ip, store::now()))
        .await?;
    render(&forgot_page(&session, String::new(), true, Vec::new())?)
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    layout: Layout,
    token: String,
    live: bool,
    min_len: usize,
    problems: Vec<FieldProblem>,
}

fn reset_page(
    session: &Session,
    token: String,
    live: bool,
    problems: Vec<FieldProblem>,
) -> AppResult<ResetPage> {
    Ok(ResetPage {
        layout: layout(session, "Set a new password")?,
        token,
        live,
        min_len: MIN_LEN,
        problems,
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_form(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    let token = query.into_inner().token;
    let t = token.clone();
    let live = state
        .db(move |conn| password_reset::link_is_live(conn, &t, store::now()))
        .await?;
    let page = reset_page(&session, token, live, Vec::new())?;
    if live {
        render(&page)
    } else {
        render_status(&page, StatusCode::GONE)
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
}

pub async fn reset_submit(
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> AppResult<HttpResponse> {
    let token = form.token.clone();
    let result = state
        .db(move |conn| password_reset::reset(conn, &token, &form.password, store::now()))
        .await;
    match result {
        Ok(()) => {
            flash::set(
                &session,
                Flash::notice("Your new password is set: sign in with it."),
            )?;
            Ok(redirect("/login"))
        }
        Err(AppError::Validation(problems)) => {
            let live = !problems.iter().any(|p| p.field == "token");
            let status = if live {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::GONE
            };
            render_status(&reset_page(&session, form.token, live, problems)?, status)
        }
        Err(e) => Err(e),
    }
}
