//! Sign in and sign out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::accounts::{self, LoginError};
use crate::web::csrf::{self, CsrfForm};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{auth, client_ip, redirect};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
    flash: Option<Flash>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths: an open redirect would help phishing.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/dashboard".into(),
    }
}

fn page(
    session: &Session,
    email: String,
    next: String,
    error: Option<String>,
) -> AppResult<LoginPage> {
    let mut layout = Layout::anonymous("Sign in");
    layout.csrf_token = csrf::token(session)?;
    Ok(LoginPage {
        layout,
        email,
        next,
        error,
        flash: flash::take(session),
    })
}

pub async fn form(session: Session, query: web::Query<NextQuery>) -> AppResult<HttpResponse> {
    crate::web::render(&page(
        &session,
        String::new(),
        safe_next(query.next.as_deref()),
        None,
    )?)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> AppResult<HttpResponse> {
    let ip = client_ip(&req, state.config().trust_proxy_headers);
    let limits = state.config().login_throttle.clone();
    let ttl_hours = state.config().session_ttl_hours;
    let (email, password) = (form.email.clone(), form.password);
    let outcome = state
        .db(move |conn| {
            Ok(
                match accounts::authenticate(conn, &limits, &email, &password, &ip)? {
                    Ok(user) => Ok(accounts::start_session(conn, &user.id, ttl_hours)?),
                    Err(refused) => Err(refused),
                },
            )
        })
        .await?;
    let next = safe_next(form.next.as_deref());
    match outcome {
        Ok(session_id) => {
            auth::sign_in(&session, &session_id)?;
            Ok(redirect(&next))
        }
        Err(LoginError::Throttled {
            retry_after_seconds,
        }) => Err(AppError::TooManyRequests {
            retry_after_seconds,
        }),
        Err(refused @ (LoginError::BadCredentials | LoginError::Suspended { .. })) => {
            let message = match refused {
                LoginError::Suspended { reason } => format!(
                    "Your organisation is suspended, so its users cannot sign in. Reason: {reason}"
                ),
                _ => "That email and password do not match an account.".into(),
            };
            let body = page(&session, form.email, next, Some(message))?
                .render()
                .map_err(AppError::internal)?;
            Ok(HttpResponse::build(StatusCode::UNAUTHORIZED)
                .content_type("text/html; charset=utf-8")
                .body(body))
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {}

pub async fn logout(
    state: web::Data<AppState>,
    session: Session,
    _form: CsrfForm<LogoutForm>,
) -> AppResult<HttpResponse> {
    auth::sign_out(&state, &session).await?;
    Ok(redirect("/login"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_kept_on_this_site() {
        assert_eq!(safe_next(Some("/batches/1")), "/batches/1");
        assert_eq!(safe_next(Some("//evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("https://evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/\\evil.example")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
