//! The admin's segments and channels: the tree with each one's state, and forms to add,
//! rename, move (segments) and retire.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use std::collections::HashMap;

use crate::app::AppState;
use crate::domain::reference::SegmentTree;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::reference_admin::{self, Kind};
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{redirect, render, render_status};

const PATH: &str = "/admin/segments";

pub struct ItemView {
    pub slug: String,
    pub name: String,
    /// How deep in the segment tree (0 for a top segment and for every channel).
    pub depth: usize,
    pub retired: bool,
    /// Segments only: where it sits now (empty at the top) and where it may move.
    pub parent: String,
    pub destinations: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/segments.html")]
struct Page {
    layout: Layout,
    segments: Vec<ItemView>,
    channels: Vec<ItemView>,
    flash: Option<Flash>,
    problems: Vec<FieldProblem>,
    /// What an add form sent, kept when it was refused.
    form: AddForm,
}

async fn page(
    user: &AdminUser,
    state: &AppState,
    session: &Session,
    problems: Vec<FieldProblem>,
    form: AddForm,
) -> AppResult<Page> {
    let (segments, channels) = state
        .db(|conn| {
            Ok((
                store::reference::segments(conn)?,
                store::reference::channels(conn)?,
            ))
        })
        .await?;
    // Tree order: each segment right after its parent, wherever admins moved it.
    let tree = SegmentTree::new(segments.iter().map(|s| (s.slug.clone(), s.parent.clone())));
    let slugs: Vec<String> = segments.iter().map(|s| s.slug.clone()).collect();
    let by_slug: HashMap<&str, &store::reference::SegmentRow> =
        segments.iter().map(|s| (s.slug.as_str(), s)).collect();
    let live: Vec<&str> = tree
        .ordered(&slugs)
        .into_iter()
        .filter_map(|(s, _)| by_slug.get(s.as_str()).copied())
        .filter(|s| s.retired_at.is_none())
        .map(|s| s.slug.as_str())
        .collect();
    let segments = tree
        .ordered(&slugs)
        .into_iter()
        .filter_map(|(slug, depth)| {
            let s = by_slug.get(slug.as_str())?;
            Some(ItemView {
                depth,
                retired: s.retired_at.is_some(),
                destinations: live
                    .iter()
                    .filter(|p| tree.check_move(&s.slug, Some(p)).is_ok())
                    .map(|p| p.to_string())
                    .collect(),
                parent: s.parent.clone().unwrap_or_default(),
                slug: s.slug.clone(),
                name: s.name.clone(),
            })
        })
        .collect();
    let channels = channels
        .into_iter()
        .map(|c| ItemView {
            depth: 0,
            retired: c.retired_at.is_some(),
            parent: String::new(),
            destinations: Vec::new(),
            slug: c.slug,
            name: c.name,
        })
        .collect();
    Ok(Page {
        layout: Layout::for_user(user, "Segments and channels", PATH),
        segments,
        channels,
        flash: flash::take(session),
        problems,
        form,
    })
}

pub async fn show(
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    render(&page(&user, &state, &session, Vec::new(), AddForm::default()).await?)
}

#[derive(Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub parent: String,
}

fn kind_of(raw: &str) -> Result<Kind, AppError> {
    match raw {
        "segment" | "segments" => Ok(Kind::Segment),
        "channel" | "channels" => Ok(Kind::Channel),
        _ => Err(AppError::NotFound),
    }
}

pub async fn add(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<HttpResponse> {
    let kind =
        kind_of(&form.kind).map_err(|_| AppError::invalid("kind", "must be segment or channel"))?;
    let (by, sent) = (who(&req, &user, &state), form.clone());
    let done = state
        .db(move |conn| {
            reference_admin::add(
                conn,
                &by,
                kind,
                &sent.slug,
                &sent.name,
                Some(sent.parent.as_str()),
            )
        })
        .await;
    match done {
        Ok(slug) => {
            flash::set(&session, Flash::notice(format!("Added `{slug}`.")))?;
            Ok(redirect(PATH))
        }
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, &session, problems, form).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

/// `/admin/{segments|channels}/{slug}/rename`.
pub async fn rename(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, String)>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> AppResult<HttpResponse> {
    let (kind, slug) = path.into_inner();
    let kind = kind_of(&kind)?;
    let by = who(&req, &user, &state);
    let done = state
        .db(move |conn| reference_admin::rename(conn, &by, kind, &slug, &form.name))
        .await;
    finish(
        &session,
        done.map(|changed| {
            if changed {
                "Renamed."
            } else {
                "It had that name already."
            }
        }),
    )
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    parent: String,
}

/// `/admin/segments/{slug}/move`.
pub async fn move_segment(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let by = who(&req, &user, &state);
    let done = state
        .db(move |conn| reference_admin::move_segment(conn, &by, &slug, &form.parent))
        .await;
    finish(
        &session,
        done.map(|changed| {
            if changed {
                "Moved, with everything under it: filters, orders and prices naming it follow it."
            } else {
                "It is there already."
            }
        }),
    )
}

#[derive(Deserialize)]
pub struct Empty {}

/// `/admin/{segments|channels}/{slug}/retire`.
pub async fn retire(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, String)>,
    _form: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (kind, slug) = path.into_inner();
    let kind = kind_of(&kind)?;
    let by = who(&req, &user, &state);
    let done = state
        .db(move |conn| reference_admin::retire(conn, &by, kind, &slug))
        .await;
    finish(
        &session,
        done.map(|changed| {
            if changed {
                "Retired: intake refuses it for new leads; the leads that have it keep it."
            } else {
                "It was retired already."
            }
        }),
    )
}

/// Back to the page with what happened, or why not.
fn finish(session: &Session, done: Result<&str, AppError>) -> AppResult<HttpResponse> {
    let message = match done {
        Ok(notice) => Flash::notice(notice),
        Err(AppError::Validation(problems)) => Flash::alert(
            problems
                .iter()
                .map(|p| p.sentence())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(e) => return Err(e),
    };
    flash::set(session, message)?;
    Ok(redirect(PATH))
}
