//! Reference data any authenticated caller may read: segments and channels.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiCaller;
use crate::app::AppState;
use crate::error::ApiResult;
use crate::store;

#[derive(Serialize, ToSchema)]
pub struct ReferenceItem {
    pub slug: String,
    pub name: String,
    /// The parent segment's slug; always null for channels.
    pub parent: Option<String>,
    /// Retired by an admin: old leads keep it, new ones may not use it.
    pub retired: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ReferenceList {
    pub items: Vec<ReferenceItem>,
}

#[utoipa::path(get, path = "/api/v1/segments", tag = "reference", security(("bearer" = [])),
    responses((status = 200, body = ReferenceList), (status = 401, description = "No or expired token")))]
pub async fn segments(_caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state
        .db(|conn| Ok(store::reference::segments(conn)?))
        .await?;
    let items = rows
        .into_iter()
        .map(|s| ReferenceItem {
            slug: s.slug,
            name: s.name,
            parent: s.parent,
            retired: s.retired_at.is_some(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ReferenceList { items }))
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "reference", security(("bearer" = [])),
    responses((status = 200, body = ReferenceList), (status = 401, description = "No or expired token")))]
pub async fn channels(_caller: ApiCaller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state
        .db(|conn| Ok(store::reference::channels(conn)?))
        .await?;
    let items = rows
        .into_iter()
        .map(|c| ReferenceItem {
            slug: c.slug,
            name: c.name,
            parent: None,
            retired: c.retired_at.is_some(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ReferenceList { items }))
}
