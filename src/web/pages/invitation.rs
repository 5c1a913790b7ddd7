//! The page an invitation's mailed link opens: the invitee chooses a password and the
//! account is made; then they sign in.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::password::MIN_LEN;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::invitations;
use crate::store;
use crate::web::csrf::{self, CsrfForm};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{client_ip, redirect, render_status};

pub struct InvitationView {
    pub organisation_name: String,
    pub email: String,
    pub role: String,
}

#[derive(Template)]
#[template(path = "auth/invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    invitation: Option<InvitationView>,
    name: String,
    min_len: usize,
    /// Beside their field.
    problems: Vec<FieldProblem>,
    /// About neither field.
    other_problems: Vec<FieldProblem>,
    /// Why the link no longer works, when the service said.
    refused: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The page for `token`: the form while the link works (200, or 422 with `problems`),
/// else 410 saying why.
async fn page(
    session: &Session,
    state: &AppState,
    token: String,
    name: String,
    problems: Vec<FieldProblem>,
) -> AppResult<HttpResponse> {
    let t = token.clone();
    let live = state
        .db(move |conn| invitations::live(conn, &t, store::now()))
        .await?;
    let mut layout = Layout::anonymous("Accept the invitation");
    layout.csrf_token = csrf::token(session)?;
    let refused = problems
        .iter()
        .find(|p| p.field == "token")
        .map(FieldProblem::sentence);
    let status = match (&live, problems.is_empty()) {
        (None, _) => StatusCode::GONE,
        (Some(_), true) => StatusCode::OK,
        (Some(_), false) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let (problems, other_problems) = problems
        .into_iter()
        .partition(|p| p.field == "name" || p.field == "password");
    render_status(
        &InvitationPage {
            layout,
            token,
            invitation: live.map(|l| InvitationView {
                organisation_name: l.organisation_name,
                email: l.email,
                role: l.role.label().to_string(),
            }),
            name,
            min_len: MIN_LEN,
            problems,
            other_problems,
            refused,
        },
        status,
    )
}

pub async fn form(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    page(
        &session,
        &state,
        query.into_inner().token,
        String::new(),
        Vec::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct AcceptForm {
    token: String,
    #[serde(default)]
    name: String,
    password: String,
}

pub async fn accept(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> AppResult<HttpResponse> {
    let ip = client_ip(&req, state.config().trust_proxy_headers);
    let (token, name, password) = (form.token.clone(), form.name.clone(), form.password);
    let done = state
        .db(move |conn| invitations::accept(conn, &token, &name, &password, &ip, store::now()))
        .await;
    match done {
        Ok(_) => {
            flash::set(
                &session,
                Flash::notice("Your account is ready: sign in with your email and new password."),
            )?;
            Ok(redirect("/login"))
        }
        Err(AppError::Validation(problems)) => {
            page(&session, &state, form.token, form.name, problems).await
        }
        Err(e) => Err(e),
    }
}
