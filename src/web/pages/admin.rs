//! Administration pages: the organisations (search, paging, create, suspend, reactivate).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::OrgKind;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::org_admin;
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::catalogue::Choice;
use crate::web::pages::{Paging, acting, page_href};
use crate::web::{redirect, render, render_status, urlencode};

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
    /// The search as typed.
    q: String,
    previous: Option<String>,
    next: Option<String>,
    /// The create form, as typed when it was refused.
    new_org: NewOrgForm,
    kinds: Vec<Choice>,
    problems: Vec<FieldProblem>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// 1-based; anything else is the first page.
    #[serde(default)]
    page: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewOrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    slug: String,
}

/// The list page for `query`, with the create form as given.
async fn list_page(
    user: &AdminUser,
    state: &AppState,
    query: ListQuery,
    flash: Option<Flash>,
    new_org: NewOrgForm,
    problems: Vec<FieldProblem>,
) -> AppResult<OrganisationsPage> {
    let paging = Paging::parse(query.page.as_deref());
    let term = query.q.trim().to_string();
    let t = term.clone();
    let (offset, fetch) = (paging.offset(), paging.fetch());
    let mut organisations = state
        .db(move |conn| {
            let counts: std::collections::HashMap<String, i64> =
                store::users::count_by_org(conn)?.into_iter().collect();
            Ok(store::organisations::search(conn, Some(&t), offset, fetch)?
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
                .collect::<Vec<_>>())
        })
        .await?;
    let (previous, next) = paging.cut(&mut organisations, |p| {
        page_href(ORGANISATIONS, p, &[("q", &term)])
    });
    let kinds = [OrgKind::Agency, OrgKind::Buyer]
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_string(),
            label: k.as_str().to_string(),
            selected: new_org.kind == k.as_str(),
        })
        .collect();
    Ok(OrganisationsPage {
        layout: Layout::for_user(user, "Organisations", ORGANISATIONS),
        organisations,
        flash,
        q: term,
        previous,
        next,
        new_org,
        kinds,
        problems,
    })
}

pub async fn organisations(
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let flash = flash::take(&session);
    render(
        &list_page(
            &user,
            &state,
            query.into_inner(),
            flash,
            NewOrgForm::default(),
            Vec::new(),
        )
        .await?,
    )
}

/// Creates an agency or a buyer; a refused form comes back with what was typed and why.
pub async fn create(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<NewOrgForm>,
) -> AppResult<HttpResponse> {
    let who = acting(&req, &user, &state);
    let typed = form.clone();
    let created = match form.kind.parse::<OrgKind>() {
        Ok(kind) => {
            state
                .db(move |conn| {
                    org_admin::create(conn, &who, kind, &form.name, Some(&form.slug), store::now())
                })
                .await
        }
        Err(_) => Err(AppError::invalid("kind", "choose agency or buyer")),
    };
    let problems = match created {
        Ok(org) => {
            flash::set(
                &session,
                Flash::notice(format!(
                    "Created {} `{}`: invite its first user on the Users page.",
                    org.kind, org.slug
                )),
            )?;
            return Ok(redirect(&format!(
                "{ORGANISATIONS}?q={}",
                urlencode(&org.slug)
            )));
        }
        Err(AppError::Validation(problems)) => problems,
        Err(AppError::Conflict { message, .. }) => vec![FieldProblem::new("slug", message)],
        Err(e) => return Err(e),
    };
    render_status(
        &list_page(&user, &state, ListQuery::default(), None, typed, problems).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
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
        .await
        .map(|changed| {
            Flash::notice(if changed {
                "Suspended: its users cannot sign in or call the API, its listings and standing orders are paused."
            } else {
                "It was suspended already."
            })
        });
    outcome(&session, done, ORGANISATIONS)
}

/// A refusal the service explained, as an alert after the redirect; other errors stay
/// errors.
pub(super) fn outcome(
    session: &Session,
    done: Result<Flash, AppError>,
    back: &str,
) -> AppResult<HttpResponse> {
    let message = match done {
        Ok(f) => f,
        Err(e @ AppError::Validation(_)) => Flash::refused(&e),
        Err(e) => return Err(e),
    };
    flash::set(session, message)?;
    Ok(redirect(back))
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
