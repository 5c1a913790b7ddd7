//! A buyer's bought leads as CSV, streamed page by page, every cell formula-safe.

use actix_web::{HttpResponse, web};
use futures_util::stream;

use crate::app::AppState;
use crate::domain::export::neutralise;
use crate::domain::time::rfc3339;
use crate::error::AppError;
use crate::store;

const PAGE: i64 = 2000;
const HEADER: [&str; 18] = [
    "purchase_id",
    "bought_at",
    "price_cents",
    "lead_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "age",
    "country",
    "region",
    "city",
    "postal_code",
    "street",
    "segment",
    "warmth",
    "contact_type",
    "captured_at",
];

fn line(cells: Vec<String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(cells.iter().map(|c| neutralise(c).into_owned()));
    w.into_inner().unwrap_or_default()
}

fn row(b: store::purchases::BoughtLead) -> Vec<String> {
    let o = |v: Option<String>| v.unwrap_or_default();
    vec![
        b.purchase_id,
        rfc3339(b.bought_at),
        b.price_cents.to_string(),
        b.lead_id,
        o(b.first_name),
        o(b.last_name),
        o(b.email),
        o(b.phone),
        b.age.to_string(),
        b.country,
        o(b.region),
        o(b.city),
        o(b.postal_code),
        o(b.street),
        b.segment,
        b.warmth,
        b.contact_type,
        rfc3339(b.captured_at),
    ]
}

pub async fn response(
    state: web::Data<AppState>,
    buyer_id: String,
) -> Result<HttpResponse, AppError> {
    let first = line(HEADER.iter().map(|h| h.to_string()).collect());
    let body = stream::unfold(
        (Some(first), None::<String>, false),
        move |(first, after, done)| {
            let (state, buyer) = (state.clone(), buyer_id.clone());
            async move {
                if let Some(l) = first {
                    return Some((
                        Ok::<_, actix_web::Error>(web::Bytes::from(l)),
                        (None, after, done),
                    ));
                }
                if done {
                    return None;
                }
                let cursor = after.clone();
                let page = state
                    .db(move |conn| {
                        Ok(store::purchases::bought_leads(
                            conn,
                            &buyer,
                            cursor.as_deref(),
                            PAGE,
                        )?)
                    })
                    .await;
                let rows = match page {
                    Ok(r) => r,
                    Err(e) => return Some((Err(e.into()), (None, after, true))),
                };
                if rows.is_empty() {
                    return None;
                }
                let finished = (rows.len() as i64) < PAGE;
                let last = rows.last().map(|r| r.purchase_id.clone());
                let mut out = Vec::new();
                for r in rows {
                    out.extend(line(row(r)));
                }
                Some((Ok(web::Bytes::from(out)), (None, last, finished)))
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"purchases.csv\"",
        ))
        .streaming(body))
}
