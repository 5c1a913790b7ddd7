//! The audit log for admins: every sensitive action with who, when, what and from which
//! address, filtered by actor, organisation, kind and date, in pages, and the same
//! entries as CSV. Read-only: no route edits or deletes an entry.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::catalogue::Choice;
use super::finance::parse_day;
use super::purchases::choices;
use crate::app::AppState;
use crate::domain::audit::{AuditAction, AuditActor};
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::audit::{self, Listed};
use crate::store;
use crate::store::audit::Filter;
use crate::web::auth::AdminUser;
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::layout::Layout;
use crate::web::{render, render_status};

const PATH: &str = "/admin/audit";
const PER_PAGE: i64 = 50;
/// The most entries one CSV holds; narrow the filters for more.
const CSV_MAX: i64 = 100_000;

/// The filters as typed, kept to fill the form again and to link pages and the CSV.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    user: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    org: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    to: String,
    #[serde(default, skip_serializing)]
    page: Option<String>,
}

impl AuditQuery {
    fn href(&self, base: &str, page: Option<i64>) -> String {
        let mut q = serde_urlencoded::to_string(self).unwrap_or_default();
        if let Some(p) = page {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("page={p}"));
        }
        if q.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{q}")
        }
    }

    /// The page asked for, from 1.
    fn page(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }
}

/// Parses the typed filters; every problem is listed. The user filter is an email,
/// resolved to its accounts.
async fn filter(state: &AppState, q: &AuditQuery) -> AppResult<Result<Filter, Vec<FieldProblem>>> {
    let mut problems = Vec::new();
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut parsed = Filter::default();
    if let Some(a) = text(&q.actor) {
        match a.parse::<AuditActor>() {
            Ok(a) => parsed.actor = Some(a),
            Err(e) => problems.push(FieldProblem::new("actor", e)),
        }
    }
    if let Some(k) = text(&q.kind) {
        match k.parse::<AuditAction>() {
            Ok(k) => parsed.action = Some(k),
            Err(e) => problems.push(FieldProblem::new("kind", e)),
        }
    }
    parsed.org_id = text(&q.org);
    for (field, raw, slot, shift) in [
        ("from", &q.from, &mut parsed.from, 0),
        // `to` is a whole day: entries before the next midnight.
        ("to", &q.to, &mut parsed.until, 1),
    ] {
        if let Some(day) = text(raw) {
            match parse_day(field, &day) {
                Ok(t) => *slot = Some(t + TimeDelta::days(shift)),
                Err(AppError::Validation(p)) => problems.extend(p),
                Err(e) => return Err(e),
            }
        }
    }
    if let (Some(from), Some(until)) = (parsed.from, parsed.until)
        && until <= from
    {
        problems.push(FieldProblem::new("to", "must not be before `from`"));
    }
    if let Some(email) = text(&q.user) {
        match state
            .db(move |conn| audit::accounts_with_email(conn, &email))
            .await
        {
            Ok(ids) => parsed.user_ids = Some(ids),
            Err(AppError::Validation(p)) => problems.extend(p),
            Err(e) => return Err(e),
        }
    }
    Ok(if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    })
}

pub struct EntryView {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub user: String,
    pub org: String,
    pub address: String,
    pub detail: String,
    pub leads: i32,
}

fn view(e: Listed) -> EntryView {
    let r = e.row;
    EntryView {
        at: r.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        action: r.action.to_string(),
        actor: r.actor.to_string(),
        user: e.user_email.or(r.user_id).unwrap_or_default(),
        org: e.org_name.or(r.org_id).unwrap_or_default(),
        address: r.address.unwrap_or_default(),
        detail: r.detail.unwrap_or_default(),
        leads: r.leads,
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    query: AuditQuery,
    actors: Vec<Choice>,
    kinds: Vec<Choice>,
    orgs: Vec<Choice>,
    entries: Vec<EntryView>,
    total: i64,
    page: i64,
    pages: i64,
    previous: Option<String>,
    next: Option<String>,
    csv: String,
    problems: Vec<FieldProblem>,
}

fn kind_choices<T: ToString>(all: &[T], chosen: &str, any: &str) -> Vec<Choice> {
    let mut items = vec![(String::new(), any.to_string())];
    items.extend(all.iter().map(|k| (k.to_string(), k.to_string())));
    choices(items, chosen.trim())
}

pub async fn show(
    user: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = q.page();
    let parsed = filter(&state, &q).await?;
    let orgs = state
        .db(|conn| Ok(store::organisations::list(conn)?))
        .await?;
    let (found, problems) = match parsed {
        Ok(f) => {
            let offset = (page - 1) * PER_PAGE;
            let found = state
                .db(move |conn| audit::search(conn, &f, PER_PAGE, offset))
                .await?;
            (Some(found), Vec::new())
        }
        Err(problems) => (None, problems),
    };
    let total = found.as_ref().map_or(0, |f| f.total);
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let mut org_items = vec![(String::new(), "Any organisation".to_string())];
    org_items.extend(orgs.into_iter().map(|o| (o.id, o.name)));
    let body = AuditPage {
        layout: Layout::for_user(&user, "Audit log", PATH),
        actors: kind_choices(AuditActor::ALL, &q.actor, "Anyone"),
        kinds: kind_choices(AuditAction::ALL, &q.kind, "Any kind"),
        orgs: choices(org_items, q.org.trim()),
        entries: found
            .map(|f| f.entries.into_iter().map(view).collect())
            .unwrap_or_default(),
        total,
        page,
        pages,
        previous: (page > 1).then(|| q.href(PATH, Some(page - 1))),
        next: (page < pages).then(|| q.href(PATH, Some(page + 1))),
        csv: q.href("/admin/audit.csv", None),
        problems,
        query: q,
    };
    if body.problems.is_empty() {
        render(&body)
    } else {
        render_status(&body, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// The filtered entries as CSV (formula-safe), newest first.
pub async fn csv(
    _user: AdminUser,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let f = match filter(&state, &query).await? {
        Ok(f) => f,
        Err(problems) => return Err(AppError::Validation(problems)),
    };
    let found = state
        .db(move |conn| audit::search(conn, &f, CSV_MAX, 0))
        .await?;
    let rows = found.entries.into_iter().map(|e| {
        let r = e.row;
        vec![
            rfc3339(r.created_at),
            r.action.to_string(),
            r.actor.to_string(),
            r.user_id.unwrap_or_default(),
            e.user_email.unwrap_or_default(),
            r.org_id.unwrap_or_default(),
            e.org_name.unwrap_or_default(),
            r.address.unwrap_or_default(),
            r.leads.to_string(),
            r.request_id.unwrap_or_default(),
            r.detail.unwrap_or_default(),
        ]
    });
    let header = [
        "at",
        "kind",
        "actor",
        "user_id",
        "user_email",
        "organisation_id",
        "organisation",
        "address",
        "leads",
        "request_id",
        "detail",
    ];
    Ok(csv_response("audit.csv", csv_bytes(&header, rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters_and_drop_the_empty_ones() {
        let q = AuditQuery {
            kind: "login_failed".into(),
            from: "2026-12-01".into(),
            page: Some("3".into()),
            ..Default::default()
        };
        assert_eq!(q.page(), 3);
        assert_eq!(
            q.href(PATH, Some(4)),
            "/admin/audit?kind=login_failed&from=2026-12-01&page=4"
        );
        assert_eq!(
            q.href("/admin/audit.csv", None),
            "/admin/audit.csv?kind=login_failed&from=2026-12-01"
        );
        assert_eq!(AuditQuery::default().href(PATH, None), PATH);
        for bad in ["0", "-2", "x"] {
            let q = AuditQuery {
                page: Some(bad.into()),
                ..Default::default()
            };
            assert_eq!(q.page(), 1, "{bad}");
        }
    }
}
