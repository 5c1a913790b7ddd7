//! The rejects file of a batch: every row not accepted, as uploaded, plus `row_number`
//! and `reasons`; streamed page by page and safe against formula injection.

use actix_web::{HttpResponse, web};
use futures_util::stream;

use crate::app::AppState;
use crate::domain::export::neutralise;
use crate::error::AppError;
use crate::store;

const PAGE: i64 = 5000;

fn csv_line(cells: impl IntoIterator<Item = String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let cells: Vec<String> = cells
        .into_iter()
        .map(|c| neutralise(&c).into_owned())
        .collect();
    let _ = w.write_record(&cells);
    w.into_inner().unwrap_or_default()
}

/// The batch must belong to `agency_id`: another agency's batch is 404.
pub async fn response(
    state: web::Data<AppState>,
    agency_id: String,
    batch_id: String,
) -> Result<HttpResponse, AppError> {
    if uuid::Uuid::parse_str(&batch_id).is_err() {
        return Err(AppError::NotFound);
    }
    let id = batch_id.clone();
    let batch = state
        .db(move |conn| {
            store::batches::find_for_agency(conn, &agency_id, &id)?.ok_or(AppError::NotFound)
        })
        .await?;
    let headers = crate::services::intake::rejects::header(&batch);
    let width = headers.len() - 2;
    let first = csv_line(headers);
    let body = stream::unfold((Some(first), 0i32, false), move |(first, after, done)| {
        let state = state.clone();
        let batch_id = batch_id.clone();
        async move {
            if let Some(line) = first {
                return Some((
                    Ok::<_, actix_web::Error>(web::Bytes::from(line)),
                    (None, after, done),
                ));
            }
            if done {
                return None;
            }
            let page = state
                .db(move |conn| Ok(store::intake::rejects_page(conn, &batch_id, after, PAGE)?))
                .await;
            let rows = match page {
                Ok(rows) => rows,
                Err(e) => return Some((Err(e.into()), (None, after, true))),
            };
            if rows.is_empty() {
                return None;
            }
            let last = rows.last().map(|r| r.row_number).unwrap_or(after);
            let finished = (rows.len() as i64) < PAGE;
            let mut out = Vec::new();
            for r in rows {
                out.extend(csv_line(crate::services::intake::rejects::cells(r, width)));
            }
            Some((Ok(web::Bytes::from(out)), (None, last, finished)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"batch-{}-rejects.csv\"", batch.id),
        ))
        .streaming(body))
}
