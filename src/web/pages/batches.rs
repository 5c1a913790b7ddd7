//! An agency's batch page.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::AgencyUser;
use crate::web::layout::Layout;
use crate::web::{money, render, thousands};

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
    pub rows_total: String,
    pub accepted: String,
    pub rejected: String,
    pub duplicates: String,
    pub suppressed: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "batches/show.html")]
struct BatchPage {
    layout: Layout,
    batch: BatchView,
    warmth: Vec<(String, String)>,
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
    let (batch, warmth) = state
        .db(move |conn| {
            let batch = store::batches::find_for_agency(conn, &agency_id, &batch_id)?
                .ok_or(AppError::NotFound)?;
            let warmth = store::leads::batch_warmth_counts(conn, &batch.id)?;
            Ok((batch, warmth))
        })
        .await?;
    let currency = &state.config.currency;
    let view = BatchView {
        price: money(batch.price_cents, currency),
        rows_total: thousands(batch.rows_total.into()),
        accepted: thousands(batch.accepted.into()),
        rejected: thousands(batch.rejected.into()),
        duplicates: thousands(batch.duplicates.into()),
        suppressed: thousands(batch.suppressed.into()),
        created: batch.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        id: batch.id,
        kind: batch.kind,
        segment: batch.segment,
        channel: batch.channel,
        status: batch.status,
        source: batch.source,
        billing: batch.billing,
        max_sales: batch.max_sales,
        error: batch.error,
    };
    render(&BatchPage {
        layout: Layout::for_user(&user, "Batch", "/dashboard"),
        batch: view,
        warmth: warmth.into_iter().map(|(w, n)| (w, thousands(n))).collect(),
    })
}
