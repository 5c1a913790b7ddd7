//! `/settings/colleagues`: an agency's or a buyer's user invites colleagues into their own
//! organisation (with its one role), and resends or revokes those invitations. The
//! service scopes every step to the caller's organisation (another's is 404).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::membership::INVITATION_VALID_HOURS;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::invitations;
use crate::store;
use crate::web::auth::CustomerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::admin::Empty;
use crate::web::pages::admin_users::{
    InvitationChange, InvitationLine, change_invitation, invitation_lines, sent_notice,
};
use crate::web::pages::inviter;
use crate::web::{redirect, render, render_status};

const PATH: &str = "/settings/colleagues";

#[derive(Template)]
#[template(path = "settings/colleagues.html")]
struct ColleaguesPage {
    layout: Layout,
    flash: Option<Flash>,
    role: &'static str,
    email: String,
    invitations: Vec<InvitationLine>,
    valid_hours: i64,
    problems: Vec<FieldProblem>,
}

async fn page(
    user: &CustomerUser,
    state: &AppState,
    flash: Option<Flash>,
    email: String,
    problems: Vec<FieldProblem>,
) -> AppResult<ColleaguesPage> {
    let (org_id, org_name) = (user.org_id.clone(), user.org_name.clone());
    let now = store::now();
    let invitations = state
        .db(move |conn| {
            let rows = store::invitations::list_open(conn, Some(&org_id), 100)?;
            let names = std::collections::HashMap::from([(org_id, org_name)]);
            Ok(invitation_lines(rows, &names, now))
        })
        .await?;
    Ok(ColleaguesPage {
        layout: Layout::for_user(user, "Invite colleagues", "/settings/organisation"),
        flash,
        role: user.role.label(),
        email,
        invitations,
        valid_hours: INVITATION_VALID_HOURS,
        problems,
    })
}

pub async fn show(
    user: CustomerUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let flash = flash::take(&session);
    render(&page(&user, &state, flash, String::new(), Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
}

pub async fn invite(
    req: HttpRequest,
    user: CustomerUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let (who, config) = (inviter(&req, &user, &state), state.config().clone());
    let (org_id, role, email) = (user.org_id.clone(), user.role, form.email.clone());
    let done = state
        .db(move |conn| {
            invitations::invite(conn, &config, &who, &org_id, &email, role, store::now())
        })
        .await;
    match done {
        Ok(_) => {
            flash::set(&session, sent_notice())?;
            Ok(redirect(PATH))
        }
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, None, form.email, problems).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

pub async fn resend(
    req: HttpRequest,
    user: CustomerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    change_invitation(
        &req,
        &user,
        &state,
        &session,
        id,
        InvitationChange::Resend,
        PATH,
    )
    .await
}

pub async fn revoke(
    req: HttpRequest,
    user: CustomerUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    change_invitation(
        &req,
        &user,
        &state,
        &session,
        id,
        InvitationChange::Revoke,
        PATH,
    )
    .await
}
