//! `GET /funnel` and `GET /funnel.csv`: the calling agency's own funnel (api.md).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiCaller;
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::domain::time::rfc3339;
use crate::error::{ApiResult, AppError};
use crate::services::funnel::{self as service, FunnelReport, Scope};
use crate::store;
use crate::web::exports::{csv_bytes, csv_response};
use crate::web::funnel_view::{Asked, CSV_HEADER, FunnelQuery, csv_rows, group_label};

#[derive(Serialize, ToSchema)]
pub struct StepView {
    /// `traffic`, `leads`, `qualified`, `sold` or `converted`.
    pub step: String,
    /// Null for traffic no batch in the range reported.
    pub count: Option<i64>,
    /// Percent of the step before, one decimal; null for the first step or a zero one.
    pub percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub key: String,
    pub label: String,
    /// Null when the grouping (segment, channel, warmth) cannot know it, or unreported.
    pub traffic: Option<i64>,
    /// Rows received; null when grouped by a lead attribute.
    pub leads: Option<i64>,
    pub qualified: i64,
    pub sold: i64,
    pub converted: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FunnelView {
    pub from: String,
    pub to: String,
    pub group_by: String,
    /// Sales and actions are counted up to this time (null before the first count).
    pub as_of: Option<String>,
    pub steps: Vec<StepView>,
    pub groups: Vec<GroupView>,
}

async fn load(
    caller: &ApiCaller,
    state: &AppState,
    query: &FunnelQuery,
) -> ApiResult<(FunnelReport, store::reference::Names, Asked)> {
    caller.require(OrgKind::Agency)?;
    let asked = query.check().map_err(AppError::Validation)?;
    if asked.agency.is_some() {
        return Err(AppError::invalid("agency", "an agency sees its own funnel only").into());
    }
    let (org, range, group_by) = (caller.org_id.clone(), asked.range, asked.group_by);
    let (report, names) = state
        .db(move |conn| {
            Ok((
                service::funnel(conn, Scope::Agency(&org), range, group_by)?,
                store::reference::Names::load(conn)?,
            ))
        })
        .await?;
    Ok((report, names, asked))
}

#[utoipa::path(get, path = "/api/v1/funnel", tag = "agencies", security(("bearer" = [])),
    params(
        ("from" = Option<String>, Query, description = "First upload day, YYYY-MM-DD (default: 29 days before `to`)"),
        ("to" = Option<String>, Query, description = "Last upload day, YYYY-MM-DD (default: today, UTC)"),
        ("group_by" = Option<String>, Query, description = "batch, channel, segment, warmth or day (default)"),
    ),
    responses(
        (status = 200, body = FunnelView),
        (status = 403, description = "The caller is not an agency"),
        (status = 422, description = "A bad date, range or grouping"),
    ))]
pub async fn get(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> ApiResult<HttpResponse> {
    let (report, names, asked) = load(&caller, &state, &query).await?;
    let group_by = asked.group_by;
    let view = FunnelView {
        from: asked.range.from.to_string(),
        to: asked.range.to.to_string(),
        group_by: group_by.to_string(),
        as_of: report.as_of.map(rfc3339),
        steps: report
            .funnel
            .steps
            .iter()
            .map(|s| StepView {
                step: s.step.to_string(),
                count: s.count,
                percent: s.percent,
            })
            .collect(),
        groups: report
            .funnel
            .groups
            .iter()
            .map(|g| GroupView {
                label: group_label(group_by, &g.key, &report, &names),
                key: g.key.clone(),
                traffic: g.counts.traffic,
                leads: g.counts.leads,
                qualified: g.counts.qualified,
                sold: g.counts.sold,
                converted: g.counts.converted,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(get, path = "/api/v1/funnel.csv", tag = "agencies", security(("bearer" = [])),
    params(
        ("from" = Option<String>, Query, description = "First upload day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last upload day, YYYY-MM-DD"),
        ("group_by" = Option<String>, Query, description = "batch, channel, segment, warmth or day"),
    ),
    responses(
        (status = 200, description = "`key,label,traffic,leads,qualified,sold,converted`, a row per group, then `total`", content_type = "text/csv"),
        (status = 403, description = "The caller is not an agency"),
    ))]
pub async fn csv(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> ApiResult<HttpResponse> {
    let (report, names, asked) = load(&caller, &state, &query).await?;
    Ok(csv_response(
        "funnel.csv",
        csv_bytes(&CSV_HEADER, csv_rows(&report, asked.group_by, &names)),
    ))
}
