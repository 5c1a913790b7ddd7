//! An agency's batches: the list, the upload form, a batch's progress and its rejects.

use actix_multipart::Multipart;
use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::intake::BatchStatus;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::intake;
use crate::store;
use crate::store::batches::BatchRow;
use crate::web::auth::AgencyUser;
use crate::web::layout::Layout;
use crate::web::{csrf, money, redirect, render, render_status, thousands, upload};

pub struct BatchView {
    pub id: String,
    pub kind: String,
    pub segment: String,
    pub channel: String,
    pub status: String,
    pub source: String,
    pub billing: String,
    pub price: String,
    pub max_sales: i32,
    pub created: String,
    pub filename: String,
    pub rows_total: String,
    pub rows_done: String,
    pub accepted: String,
    pub rejected: String,
    pub duplicates: String,
    pub suppressed: String,
    pub not_accepted: i32,
    pub processing: bool,
    pub error: Option<String>,
    pub unknown_columns: String,
    /// Reported visitors, or "not reported".
    pub traffic: String,
}

/// How a batch came in, as a person says it (`source` is a code).
fn source_label(source: &str) -> String {
    match source {
        "upload" => "through the upload form".into(),
        "api" => "through the API".into(),
        "import" => "with the import command".into(),
        "demo" => "by the demo seed".into(),
        other => format!("by {other}"),
    }
}

/// A stored code such as `per_lead` or `out_of_range` as words: "Per lead".
fn words(code: &str) -> String {
    let text = code.replace(['_', '.'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

fn view(b: BatchRow, currency: &str, names: &store::reference::Names) -> BatchView {
    BatchView {
        price: money(b.price_cents, currency),
        rows_total: thousands(b.rows_total.into()),
        rows_done: thousands(b.rows_done.into()),
        accepted: thousands(b.accepted.into()),
        rejected: thousands(b.rejected.into()),
        duplicates: thousands(b.duplicates.into()),
        suppressed: thousands(b.suppressed.into()),
        not_accepted: b.rejected + b.duplicates + b.suppressed,
        created: b.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        processing: b.status == BatchStatus::Processing,
        filename: b.filename.unwrap_or_default(),
        id: b.id,
        kind: words(b.kind.as_str()),
        // Without a default, each row gave its own (as an invoice's batch label says).
        segment: b
            .segment
            .map(|s| names.segment(&s))
            .unwrap_or_else(|| "Mixed segments".into()),
        channel: b
            .channel
            .map(|c| names.channel(&c))
            .unwrap_or_else(|| "mixed channels".into()),
        status: b.status.to_string(),
        source: source_label(&b.source),
        billing: match b.action_price_cents {
            Some(p) if b.billing == "per_action" => {
                format!("Per action ({} per action)", money(p, currency))
            }
            _ => words(&b.billing),
        },
        max_sales: b.max_sales,
        error: b.error,
        unknown_columns: b.unknown_columns,
        traffic: b
            .traffic
            .map(thousands)
            .unwrap_or_else(|| "not reported".into()),
    }
}

#[derive(Template)]
#[template(path = "batches/list.html")]
struct ListPage {
    layout: Layout,
    batches: Vec<BatchView>,
}

pub async fn list(user: AgencyUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let agency_id = user.org_id.clone();
    let (rows, names) = state
        .db(move |conn| {
            Ok((
                store::batches::list_for_agency(conn, &agency_id, 200)?,
                store::reference::Names::load(conn)?,
            ))
        })
        .await?;
    let currency = state.config().currency.clone();
    render(&ListPage {
        layout: Layout::for_user(&user, "Batches", "/batches"),
        batches: rows
            .into_iter()
            .map(|b| view(b, &currency, &names))
            .collect(),
    })
}

pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The form's fields as last submitted, so a refused form keeps what was typed.
#[derive(Default)]
pub struct FormValues {
    /// Major units, as typed (e.g. `12.50`).
    pub price: String,
    pub max_sales: String,
    pub action_price: String,
    pub consent_text: String,
    pub order_id: String,
    pub traffic: String,
}

#[derive(Template)]
#[template(path = "batches/new.html")]
struct NewPage {
    layout: Layout,
    kinds: Vec<SelectOption>,
    billings: Vec<SelectOption>,
    segments: Vec<SelectOption>,
    channels: Vec<SelectOption>,
    values: FormValues,
    problems: Vec<FieldProblem>,
    currency: String,
}

impl NewPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.problem.as_str())
    }
}

/// Form fields typed in major units and the batch terms (cents) they stand for.
const MONEY_FIELDS: [(&str, &str); 2] = [
    ("price", "price_cents"),
    ("action_price", "action_price_cents"),
];

/// The form's money fields as cents for the batch terms, each problem named by the
/// form's field.
fn terms_fields(
    fields: &std::collections::HashMap<String, String>,
) -> (std::collections::HashMap<String, String>, Vec<FieldProblem>) {
    let mut terms = fields.clone();
    let mut problems = Vec::new();
    for (page_name, cents_name) in MONEY_FIELDS {
        // Without the major-unit field, a `_cents` field (the form's older name, as
        // scripts may still post it) keeps meaning cents.
        let Some(v) = terms.remove(page_name) else {
            continue;
        };
        terms.remove(cents_name);
        if !v.trim().is_empty() {
            match crate::domain::money::parse_major(&v) {
                Ok(cents) => {
                    terms.insert(cents_name.to_string(), cents.to_string());
                }
                Err(problem) => problems.push(FieldProblem::new(page_name, problem)),
            }
        }
    }
    (terms, problems)
}

/// A money field to show again: as typed, or from the older `_cents` field in major units.
fn major_or_legacy(
    values: &std::collections::HashMap<String, String>,
    page_name: &str,
    cents_name: &str,
) -> String {
    match (values.get(page_name), values.get(cents_name)) {
        (Some(typed), _) => typed.clone(),
        (None, Some(cents)) => cents
            .trim()
            .parse::<i64>()
            .map(crate::domain::money::major_plain)
            .unwrap_or_else(|_| cents.clone()),
        (None, None) => String::new(),
    }
}

/// A terms problem in the form's words: its fields, and amounts in major units.
fn page_problem(p: FieldProblem) -> FieldProblem {
    match p.field.as_str() {
        "price_cents" => FieldProblem::new(
            "price",
            "enter the base price per lead, such as 12.50 (0 to 1,000,000.00)",
        ),
        "action_price_cents" => FieldProblem::new(
            "action_price",
            "per-action billing needs a price per action, such as 15.00 (0 or more)",
        ),
        _ => p,
    }
}

fn options(items: Vec<(String, String)>, chosen: Option<&String>) -> Vec<SelectOption> {
    items
        .into_iter()
        .map(|(value, label)| SelectOption {
            selected: chosen == Some(&value),
            value,
            label,
        })
        .collect()
}

async fn new_page(
    user: &AgencyUser,
    state: &AppState,
    values: std::collections::HashMap<String, String>,
    problems: Vec<FieldProblem>,
) -> AppResult<NewPage> {
    let (segments, channels) = state
        .db(|conn| {
            Ok((
                store::reference::segments(conn)?,
                store::reference::channels(conn)?,
            ))
        })
        .await?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let pairs = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect::<Vec<_>>()
    };
    Ok(NewPage {
        layout: Layout::for_user(user, "Upload a batch", "/batches"),
        kinds: options(
            pairs(&[
                ("consumer", "Consumer (open catalogue)"),
                ("targeted", "Targeted (for one buyer's order)"),
            ]),
            values.get("kind"),
        ),
        billings: options(
            pairs(&[("per_lead", "Per lead"), ("per_action", "Per action")]),
            values.get("billing"),
        ),
        // Both are defaults for empty cells: "none" leaves every row to carry its own.
        segments: options(
            std::iter::once((String::new(), "None: each row gives its own".to_string()))
                .chain(segments.into_iter().map(|s| (s.slug, s.name)))
                .collect(),
            values.get("segment"),
        ),
        channels: options(
            std::iter::once((String::new(), "None: each row gives its own".to_string()))
                .chain(channels.into_iter().map(|c| (c.slug, c.name)))
                .collect(),
            values.get("channel"),
        ),
        values: FormValues {
            price: major_or_legacy(&values, "price", "price_cents"),
            max_sales: if values.contains_key("max_sales") {
                get("max_sales")
            } else {
                "1".into()
            },
            action_price: major_or_legacy(&values, "action_price", "action_price_cents"),
            consent_text: get("consent_text"),
            order_id: get("order_id"),
            traffic: get("traffic"),
        },
        problems,
        currency: state.config().currency.clone(),
    })
}

pub async fn new(user: AgencyUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&new_page(&user, &state, Default::default(), Vec::new()).await?)
}

/// Takes the upload; bad terms or an unusable file re-show the form with every problem.
pub async fn create(
    user: AgencyUser,
    session: Session,
    state: web::Data<AppState>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let form = upload::read(payload, state.config().upload_max_bytes).await;
    let form = match form {
        Ok(f) => f,
        Err(AppError::Validation(problems)) => {
            return render_status(
                &new_page(&user, &state, Default::default(), problems).await?,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return Err(e),
    };
    csrf::verify(&session, form.fields.get(csrf::FIELD).map(String::as_str))?;
    let (terms, money_problems) = terms_fields(&form.fields);
    let result = match (&form.file, upload::batch_input(&terms)) {
        _ if !money_problems.is_empty() => Err(AppError::Validation(money_problems)),
        (None, _) => Err(AppError::invalid("file", "choose a CSV file to upload")),
        (_, Err(e)) => Err(e),
        (Some(file), Ok(input)) => {
            let (agency_id, user_id) = (user.org_id.clone(), user.id.clone());
            let (path, filename) = (file.temp.path().to_path_buf(), file.filename.clone());
            state
                .db(move |conn| {
                    intake::accept_upload(
                        conn,
                        &agency_id,
                        &input,
                        "upload",
                        filename.as_deref(),
                        Some(&user_id),
                        &path,
                    )
                })
                .await
        }
    };
    match result {
        Ok(batch) => Ok(redirect(&format!("/batches/{}", batch.id))),
        Err(AppError::Validation(problems)) => {
            let mut values = form.fields.clone();
            values.remove(csrf::FIELD);
            let problems = problems.into_iter().map(page_problem).collect();
            render_status(
                &new_page(&user, &state, values, problems).await?,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "batches/show.html")]
struct BatchPage {
    layout: Layout,
    batch: BatchView,
    /// No "every row was accepted" before a row was read.
    has_rows: bool,
    /// Rows not accepted, each counted once (a row can fail for several reasons).
    rows_not_accepted: String,
    warmth: Vec<(String, String)>,
    reasons: Vec<(String, String)>,
}

pub async fn show(
    user: AgencyUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let batch_id = path.into_inner();
    if uuid::Uuid::parse_str(&batch_id).is_err() {
        return Err(AppError::NotFound);
    }
    let agency_id = user.org_id.clone();
    let (batch, warmth, reasons, names) = state
        .db(move |conn| {
            let batch = store::batches::find_for_agency(conn, &agency_id, &batch_id)?
                .ok_or(AppError::NotFound)?;
            let warmth = store::leads::batch_warmth_counts(conn, &batch.id)?;
            let reasons = store::intake::reject_summary(conn, &batch.id, 12)?;
            let names = store::reference::Names::load(conn)?;
            Ok((batch, warmth, reasons, names))
        })
        .await?;
    let has_rows = batch.rows_done > 0 || batch.rows_total > 0;
    let rows_not_accepted = thousands(i64::from(
        batch.rejected + batch.duplicates + batch.suppressed,
    ));
    render(&BatchPage {
        layout: Layout::for_user(&user, "Batch", "/batches"),
        batch: view(batch, &state.config().currency, &names),
        has_rows,
        rows_not_accepted,
        warmth: warmth
            .into_iter()
            .map(|(w, n)| (words(&w), thousands(n)))
            .collect(),
        reasons: reasons
            .into_iter()
            .map(|(r, n)| (words(&r), thousands(n)))
            .collect(),
    })
}

pub async fn rejects(
    user: AgencyUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    crate::web::rejects::response(state, user.org_id.clone(), path.into_inner()).await
}
