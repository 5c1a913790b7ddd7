//! The admin's suppression list: add opted-out or do-not-call phones and emails.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AppResult;
use crate::services::suppression::{self, AddOutcome};
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::{render, thousands};

#[derive(Template)]
#[template(path = "admin/suppressions.html")]
struct Page {
    layout: Layout,
    counts: Vec<(String, String, String)>,
    outcome: Option<AddOutcome>,
}

async fn page(user: &AdminUser, state: &AppState, outcome: Option<AddOutcome>) -> AppResult<Page> {
    let counts = state
        .db(|conn| Ok(store::intake::suppression_counts(conn)?))
        .await?;
    Ok(Page {
        layout: Layout::for_user(user, "Suppression list", "/admin/suppressions"),
        counts: counts
            .into_iter()
            .map(|(k, r, n)| (k.to_string(), r, thousands(n)))
            .collect(),
        outcome,
    })
}

pub async fn show(user: AdminUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&page(&user, &state, None).await?)
}

#[derive(Deserialize)]
pub struct AddForm {
    entries: String,
    reason: String,
    default_country: Option<String>,
}

pub async fn add(
    user: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<HttpResponse> {
    let outcome = state
        .db(move |conn| {
            let entries: Vec<&str> = form.entries.lines().collect();
            suppression::add(
                conn,
                &entries,
                &form.reason,
                form.default_country.as_deref(),
                "admin page",
            )
        })
        .await?;
    render(&page(&user, &state, Some(outcome)).await?)
}
