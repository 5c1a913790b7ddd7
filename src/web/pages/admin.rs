//! Administration pages.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::org_admin;
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::acting;
use crate::web::{redirect, render};

const ORGANISATIONS: &str = "/admin/organisations";

pub struct OrgView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub status: String,
    pub users: i64,
    pub created: String,
    /// An admin's suspension, with its reason.
    pub suspension_reason: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    organisations: Vec<OrgView>,
    flash: Option<Flash>,
}

pub async fn organisations(
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    let organisations = state
        .db(|conn| {
            let counts: std::collections::HashMap<String, i64> =
                store::users::count_by_org(conn)?.into_iter().collect();
            Ok(store::organisations::list(conn)?
                .into_iter()
                .map(|o| OrgView {
                    users: counts.get(&o.id).copied().unwrap_or(0),
                    id: o.id,
                    name: o.name,
                    slug: o.slug,
                    kind: o.kind.to_string(),
                    status: o.status.to_string(),
                    created: o.created_at.format("%Y-%m-%d").to_string(),
                    suspension_reason: o.suspension_reason,
                })
                .collect())
        })
        .await?;
    render(&OrganisationsPage {
        layout: Layout::for_user(&user, "Organisations", ORGANISATIONS),
        organisations,
        flash: flash::take(&session),
    })
}

#[derive(Deserialize)]
pub struct SuspendForm {
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct Empty {}

/// Suspends an organisation with the reason its users will be shown.
pub async fn suspend(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<SuspendForm>,
) -> AppResult<HttpResponse> {
    let (org, who) = (path.into_inner(), acting(&req, &user, &state));
    let done = state
        .db(move |conn| org_admin::suspend(conn, &who, &org, &form.reason, store::now()))
        .await;
    let message = match done {
        Ok(true) => Flash::notice(
            "Suspended: its users cannot sign in or call the API, its listings and standing orders are paused.",
        ),
        Ok(false) => Flash::notice("It was suspended already."),
        Err(AppError::Validation(problems)) => Flash::alert(
            problems
                .iter()
                .map(|p| p.sentence())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(e) => return Err(e),
    };
    flash::set(&session, message)?;
    Ok(redirect(ORGANISATIONS))
}

/// Ends an admin's suspension.
pub async fn reactivate(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (org, who) = (path.into_inner(), acting(&req, &user, &state));
    let changed = state
        .db(move |conn| org_admin::reactivate(conn, &who, &org, store::now()))
        .await?;
    flash::set(
        &session,
        Flash::notice(if changed {
            "Reactivated: its users may sign in again."
        } else {
            "It was not suspended."
        }),
    )?;
    Ok(redirect(ORGANISATIONS))
}
