//! `/admin/settings`: the platform settings in force, and the form that changes them for
//! every process at once (`services::settings`).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::settings::{FIELDS, PlatformSettings, Unit};
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::settings;
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::pages::acting;
use crate::web::{render, render_status};

const PATH: &str = "/admin/settings";

pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub unit: &'static str,
    pub value: String,
    pub environment: String,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    fields: Vec<FieldView>,
    from_environment: bool,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

fn unit(u: Unit) -> &'static str {
    match u {
        Unit::Days => "days",
        Unit::Percent => "%",
        Unit::Count => "",
    }
}

/// The page with the values in force, or with what was typed (a refused form loses
/// nothing).
fn page(
    user: &AdminUser,
    state: &AppState,
    typed: Option<&[(String, String)]>,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> SettingsPage {
    let (current, from_environment) = settings::in_force(&state.live);
    let env: PlatformSettings = state.live.environment().platform_settings();
    let fields = FIELDS
        .iter()
        .map(|f| FieldView {
            name: f.name,
            label: f.label,
            hint: f.hint,
            unit: unit(f.unit),
            value: typed
                .and_then(|t| t.iter().find(|(k, _)| k == f.name))
                .map_or_else(|| f.display(f.value(&current)), |(_, v)| v.clone()),
            environment: f.display(f.value(&env)),
        })
        .collect();
    SettingsPage {
        layout: Layout::for_user(user, "Platform settings", PATH),
        fields,
        from_environment,
        notice,
        problems,
    }
}

pub async fn show(user: AdminUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&page(&user, &state, None, None, Vec::new()))
}

pub async fn save(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let (live, who, typed) = (
        state.live.clone(),
        acting(&req, &user, &state),
        form.clone(),
    );
    let saved = state
        .db(move |conn| settings::update(conn, &live, &who, &typed, store::now()))
        .await;
    match saved {
        Ok(Some(_)) => render(&page(
            &user,
            &state,
            None,
            Some("Settings saved: every server uses them within seconds.".into()),
            Vec::new(),
        )),
        Ok(None) => render(&page(
            &user,
            &state,
            None,
            Some("Nothing changed.".into()),
            Vec::new(),
        )),
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, Some(&form), None, problems),
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}
