//! The admin's suppression list: add opted-out or do-not-call phones and emails, import a
//! CSV of them with a per-row report, see the count, remove one with a reason.

use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::suppression::{self, AddOutcome, EntryOutcome, ImportReport};
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::{self, CsrfForm};
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{redirect, render, render_status, thousands, upload};

const PATH: &str = "/admin/suppressions";

/// Report lines shown on the page; the counts above them cover the whole file.
const REPORT_ROWS_SHOWN: usize = 1000;

/// An imported file is read whole; 100,000 entries fit in far less than this.
const IMPORT_MAX_BYTES: u64 = 16 * 1024 * 1024;

pub struct ReportLine {
    pub row: usize,
    pub kind: String,
    pub outcome: &'static str,
    pub note: String,
}

pub struct ImportView {
    pub accepted: usize,
    pub duplicates: usize,
    pub invalid: usize,
    pub withdrawn: usize,
    pub lines: Vec<ReportLine>,
    pub hidden: usize,
}

impl From<ImportReport> for ImportView {
    fn from(r: ImportReport) -> Self {
        let hidden = r.rows.len().saturating_sub(REPORT_ROWS_SHOWN);
        Self {
            accepted: r.accepted,
            duplicates: r.duplicates,
            invalid: r.invalid,
            withdrawn: r.withdrawn,
            lines: r
                .rows
                .into_iter()
                .take(REPORT_ROWS_SHOWN)
                .map(|l| {
                    let (outcome, note) = match l.outcome {
                        EntryOutcome::Accepted => ("accepted", String::new()),
                        EntryOutcome::Duplicate(why) => ("duplicate", why),
                        EntryOutcome::Invalid(why) => ("invalid", why),
                    };
                    ReportLine {
                        row: l.row,
                        kind: l.kind.to_string(),
                        outcome,
                        note,
                    }
                })
                .collect(),
            hidden,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/suppressions.html")]
struct Page {
    layout: Layout,
    counts: Vec<(String, String, String)>,
    total: String,
    outcome: Option<AddOutcome>,
    import: Option<ImportView>,
    problems: Vec<FieldProblem>,
    flash: Option<Flash>,
}

async fn page(
    user: &AdminUser,
    state: &AppState,
    session: &Session,
    outcome: Option<AddOutcome>,
    import: Option<ImportView>,
    problems: Vec<FieldProblem>,
) -> AppResult<Page> {
    let counts = state
        .db(|conn| Ok(store::intake::suppression_counts(conn)?))
        .await?;
    let total: i64 = counts.iter().map(|(_, _, n)| n).sum();
    Ok(Page {
        layout: Layout::for_user(user, "Suppression list", PATH),
        counts: counts
            .into_iter()
            .map(|(k, r, n)| (k.to_string(), r, thousands(n)))
            .collect(),
        total: thousands(total),
        outcome,
        import,
        problems,
        flash: flash::take(session),
    })
}

pub async fn show(
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
) -> AppResult<HttpResponse> {
    render(&page(&user, &state, &session, None, None, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct AddForm {
    entries: String,
    reason: String,
    default_country: Option<String>,
}

pub async fn add(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<HttpResponse> {
    let by = who(&req, &user, &state);
    let outcome = state
        .db(move |conn| {
            let entries: Vec<&str> = form.entries.lines().collect();
            suppression::add(
                conn,
                &by,
                &entries,
                &form.reason,
                form.default_country.as_deref(),
                "admin page",
            )
        })
        .await?;
    render(&page(&user, &state, &session, Some(outcome), None, Vec::new()).await?)
}

/// A CSV upload (multipart: `file`, `reason`, `default_country`, `csrf_token`).
pub async fn import(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let max = state.config().upload_max_bytes.min(IMPORT_MAX_BYTES);
    let form = upload::read(payload, max).await;
    let result = match form {
        Err(e) => Err(e),
        Ok(form) => {
            csrf::verify(&session, form.fields.get(csrf::FIELD).map(String::as_str))?;
            match form.file {
                Some(file) if file.size > 0 => {
                    let by = who(&req, &user, &state);
                    let field = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
                    let (reason, country) = (field("reason"), field("default_country"));
                    state
                        .db(move |conn| {
                            let f = std::fs::File::open(file.temp.path())
                                .map_err(AppError::internal)?;
                            suppression::import(conn, &by, f, &reason, Some(&country))
                        })
                        .await
                }
                _ => Err(AppError::invalid(
                    "file",
                    "choose a CSV file with a phone and/or email column",
                )),
            }
        }
    };
    match result {
        Ok(report) => render(
            &page(
                &user,
                &state,
                &session,
                None,
                Some(report.into()),
                Vec::new(),
            )
            .await?,
        ),
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, &session, None, None, problems).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    entry: String,
    #[serde(default)]
    default_country: Option<String>,
    why: String,
}

pub async fn remove(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> AppResult<HttpResponse> {
    let by = who(&req, &user, &state);
    let done = state
        .db(move |conn| {
            suppression::remove(
                conn,
                &by,
                &form.entry,
                form.default_country.as_deref(),
                &form.why,
            )
        })
        .await;
    match done {
        Ok(removed) => {
            flash::set(
                &session,
                Flash::notice(format!(
                    "The {} entry ({}, listed {}) is off the list: new leads of this person are accepted again. Leads it withdrew stay withdrawn.",
                    removed.kind,
                    removed.reason,
                    removed.added_at.format("%Y-%m-%d")
                )),
            )?;
            Ok(redirect(PATH))
        }
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, &session, None, None, problems).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}
