//! `/admin/users`: every organisation's people (search, filter by organisation, paging),
//! invitations (send, resend, revoke), disabling and re-enabling, and role changes. No
//! page shows a password or its hash: the views below have no field for either.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::Role;
use crate::domain::membership::{INVITATION_VALID_HOURS, InvitationStatus};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::{invitations, user_admin};
use crate::store;
use crate::store::invitations::InvitationRow;
use crate::web::auth::{AdminUser, CurrentUser};
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::admin::{Empty, outcome};
use crate::web::pages::catalogue::Choice;
use crate::web::pages::{Paging, acting, inviter, page_href};
use crate::web::{redirect, render, render_status};

const USERS: &str = "/admin/users";

pub struct UserLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub org_name: String,
    pub org_slug: String,
    pub role: String,
    pub active: bool,
    pub last_login: String,
    /// The roles the user may be given: more than one only in the platform organisation.
    pub roles: Vec<Choice>,
    pub is_self: bool,
}

/// An open invitation, as the admin's and a colleague's page list it.
pub struct InvitationLine {
    pub id: String,
    pub email: String,
    pub org_name: String,
    pub role: String,
    pub status: &'static str,
    pub sent: String,
    pub expires: String,
}

fn minute(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(super) fn invitation_lines(
    rows: Vec<InvitationRow>,
    names: &std::collections::HashMap<String, String>,
    now: NaiveDateTime,
) -> Vec<InvitationLine> {
    rows.into_iter()
        .map(|i| InvitationLine {
            status: InvitationStatus::of(i.accepted_at, i.revoked_at, i.expires_at, now).label(),
            org_name: names.get(&i.organisation_id).cloned().unwrap_or_default(),
            role: i.role.label().to_string(),
            sent: minute(i.sent_at),
            expires: minute(i.expires_at),
            id: i.id,
            email: i.email,
        })
        .collect()
}

/// The invite form's fields as typed.
#[derive(Deserialize, Default, Clone)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    /// The organisation's slug.
    #[serde(default)]
    org: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// An organisation's slug.
    #[serde(default)]
    org: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    flash: Option<Flash>,
    q: String,
    org: String,
    users: Vec<UserLine>,
    invitations: Vec<InvitationLine>,
    previous: Option<String>,
    next: Option<String>,
    invite: InviteForm,
    roles: Vec<Choice>,
    valid_hours: i64,
    problems: Vec<FieldProblem>,
}

fn role_choices(roles: impl Iterator<Item = Role>, selected: &str) -> Vec<Choice> {
    roles
        .map(|r| Choice {
            value: r.as_str().to_string(),
            label: r.label().to_string(),
            selected: r.as_str() == selected,
        })
        .collect()
}

async fn list_page(
    user: &AdminUser,
    state: &AppState,
    query: ListQuery,
    flash: Option<Flash>,
    invite: InviteForm,
    mut problems: Vec<FieldProblem>,
) -> AppResult<UsersPage> {
    let paging = Paging::parse(query.page.as_deref());
    let (term, org) = (query.q.trim().to_string(), query.org.trim().to_string());
    let (t, o, me) = (term.clone(), org.clone(), user.id.clone());
    let (offset, fetch) = (paging.offset(), paging.fetch());
    let now = store::now();
    let (found, mut users, invitations) = state
        .db(move |conn| {
            let org_row = if o.is_empty() {
                None
            } else {
                match store::organisations::find_by_slug(conn, &o) {
                    Ok(row) => Some(row),
                    Err(diesel::result::Error::NotFound) => {
                        return Ok((false, Vec::new(), Vec::new()));
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            let org_id = org_row.as_ref().map(|r| r.id.as_str());
            let users = store::users::search(conn, org_id, Some(&t), offset, fetch)?;
            let invitations = store::invitations::list_open(conn, org_id, 100)?;
            let mut ids: Vec<String> = users.iter().map(|u| u.organisation_id.clone()).collect();
            ids.extend(invitations.iter().map(|i| i.organisation_id.clone()));
            ids.sort();
            ids.dedup();
            let orgs: std::collections::HashMap<String, store::organisations::OrganisationRow> =
                store::organisations::find_many(conn, &ids)?
                    .into_iter()
                    .map(|o| (o.id.clone(), o))
                    .collect();
            let names = orgs
                .iter()
                .map(|(id, o)| (id.clone(), o.name.clone()))
                .collect();
            let lines = users
                .into_iter()
                .map(|u| {
                    let o = orgs.get(&u.organisation_id).ok_or(AppError::NotFound)?;
                    Ok(UserLine {
                        roles: role_choices(
                            Role::ALL.iter().copied().filter(|r| r.org_kind() == o.kind),
                            u.role.as_str(),
                        ),
                        is_self: u.id == me,
                        id: u.id,
                        name: u.display_name,
                        email: u.email,
                        org_name: o.name.clone(),
                        org_slug: o.slug.clone(),
                        role: u.role.label().to_string(),
                        active: u.active,
                        last_login: u
                            .last_login_at
                            .map(minute)
                            .unwrap_or_else(|| "never".into()),
                    })
                })
                .collect::<Result<Vec<_>, AppError>>()?;
            Ok((true, lines, invitation_lines(invitations, &names, now)))
        })
        .await?;
    if !found {
        // Not `org`: that is the invite form's field.
        problems.push(FieldProblem::new(
            "filter",
            format!("no organisation has the slug `{org}`"),
        ));
    }
    let (previous, next) = paging.cut(&mut users, |p| {
        page_href(USERS, p, &[("q", &term), ("org", &org)])
    });
    let invite = InviteForm {
        org: if invite.org.is_empty() {
            org.clone()
        } else {
            invite.org
        },
        ..invite
    };
    Ok(UsersPage {
        layout: Layout::for_user(user, "Users", USERS),
        flash,
        roles: role_choices(Role::ALL.iter().copied(), &invite.role),
        q: term,
        org,
        users,
        invitations,
        previous,
        next,
        invite,
        valid_hours: INVITATION_VALID_HOURS,
        problems,
    })
}

pub async fn list(
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let flash = flash::take(&session);
    let page = list_page(
        &user,
        &state,
        query.into_inner(),
        flash,
        InviteForm::default(),
        Vec::new(),
    )
    .await?;
    render(&page)
}

/// Invites someone into any organisation; a refused form comes back as typed, with why.
pub async fn invite(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let (who, config, typed) = (
        inviter(&req, &user, &state),
        state.config().clone(),
        form.clone(),
    );
    let done = state
        .db(move |conn| {
            let org = store::organisations::find_by_slug(conn, form.org.trim()).map_err(|_| {
                AppError::invalid("org", "give the slug of an existing organisation")
            })?;
            let role = form
                .role
                .parse::<Role>()
                .map_err(|e| AppError::invalid("role", e))?;
            invitations::invite(
                conn,
                &config,
                &who,
                &org.id,
                &form.email,
                role,
                store::now(),
            )
            .map(|_| org.slug)
        })
        .await;
    match done {
        Ok(slug) => {
            flash::set(&session, sent_notice())?;
            Ok(redirect(&page_href(USERS, 1, &[("org", &slug)])))
        }
        Err(AppError::Validation(problems)) => {
            let page =
                list_page(&user, &state, ListQuery::default(), None, typed, problems).await?;
            render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub(super) fn sent_notice() -> Flash {
    Flash::notice(format!(
        "Invitation sent: its link works once, for {INVITATION_VALID_HOURS} hours."
    ))
}

/// What a button does to an open invitation.
#[derive(Clone, Copy)]
pub(super) enum InvitationChange {
    Resend,
    Revoke,
}

/// Resends or revokes invitation `id` as `user` (the service checks it may), then goes
/// back to `back` saying how it went.
pub(super) async fn change_invitation(
    req: &HttpRequest,
    user: &CurrentUser,
    state: &AppState,
    session: &Session,
    id: String,
    change: InvitationChange,
    back: &str,
) -> AppResult<HttpResponse> {
    let (who, config) = (inviter(req, user, state), state.config().clone());
    let done = state
        .db(move |conn| match change {
            InvitationChange::Resend => {
                invitations::resend(conn, &config, &who, &id, store::now()).map(|()| sent_notice())
            }
            InvitationChange::Revoke => invitations::revoke(conn, &who, &id, store::now())
                .map(|()| Flash::notice("Invitation revoked: its link no longer works.")),
        })
        .await;
    outcome(session, done, back)
}

pub async fn resend(
    req: HttpRequest,
    user: AdminUser,
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
        USERS,
    )
    .await
}

pub async fn revoke(
    req: HttpRequest,
    user: AdminUser,
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
        USERS,
    )
    .await
}

pub async fn disable(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (who, id) = (acting(&req, &user, &state), path.into_inner());
    let done = state
        .db(move |conn| user_admin::disable(conn, &who, &id, store::now()))
        .await
        .map(|changed| {
            Flash::notice(if changed {
                "Disabled: the user is signed out everywhere and cannot sign in."
            } else {
                "The user was disabled already."
            })
        });
    outcome(&session, done, USERS)
}

pub async fn enable(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (who, id) = (acting(&req, &user, &state), path.into_inner());
    let done = state
        .db(move |conn| user_admin::enable(conn, &who, &id, store::now()))
        .await
        .map(|changed| {
            Flash::notice(if changed {
                "Re-enabled: the user may sign in again."
            } else {
                "The user was active already."
            })
        });
    outcome(&session, done, USERS)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<HttpResponse> {
    let (who, id) = (acting(&req, &user, &state), path.into_inner());
    let done = match form.role.parse::<Role>() {
        Ok(role) => state
            .db(move |conn| user_admin::change_role(conn, &who, &id, role, store::now()))
            .await
            .map(|changed| {
                Flash::notice(if changed {
                    format!(
                        "Role changed to {}: it applies from the user's next request.",
                        role.label()
                    )
                } else {
                    format!("The user has the role {} already.", role.label())
                })
            }),
        Err(e) => Err(AppError::invalid("role", e)),
    };
    outcome(&session, done, USERS)
}
