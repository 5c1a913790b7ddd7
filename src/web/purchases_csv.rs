//! A buyer's bought leads as CSV, streamed page by page, every cell formula-safe. The
//! API's file keeps `price_cents` and lists every purchase oldest first; the page's file
//! is for people: `price` in major units and its `currency`, and exactly the rows "My
//! leads" lists under its filters, newest first (every page of them, not one).

use actix_web::{HttpResponse, web};
use futures_util::stream;

use crate::app::AppState;
use crate::domain::export::neutralise;
use crate::domain::money::major_plain;
use crate::domain::time::rfc3339;
use crate::error::AppError;
use crate::store;
use crate::store::purchases::{MyLeadsFilter, Walk};

const PAGE: i64 = 2000;

/// How the file writes the price.
#[derive(Debug, Clone)]
pub enum Prices {
    /// `price_cents`, integer minor units (the API).
    Cents,
    /// `price` in major units (`12.50`) and a `currency` column (the page).
    Major(String),
}

const HEADER: [&str; 18] = [
    "purchase_id",
    "bought_at",
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
    "erased",
];

fn line(cells: Vec<String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(cells.iter().map(|c| neutralise(c).into_owned()));
    w.into_inner().unwrap_or_default()
}

fn header(prices: &Prices) -> Vec<String> {
    let mut h: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    match prices {
        Prices::Cents => h.insert(2, "price_cents".into()),
        Prices::Major(_) => {
            h.insert(2, "price".into());
            h.insert(3, "currency".into());
        }
    }
    h
}

fn row(b: store::purchases::BoughtLead, prices: &Prices) -> Vec<String> {
    let o = |v: Option<String>| v.unwrap_or_default();
    let erased = b.erased();
    let mut cells = vec![b.purchase_id, rfc3339(b.bought_at)];
    match prices {
        Prices::Cents => cells.push(b.price_cents.to_string()),
        Prices::Major(currency) => {
            cells.push(major_plain(b.price_cents));
            cells.push(currency.clone());
        }
    }
    cells.extend([
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
        erased.to_string(),
    ]);
    cells
}

/// Every purchase of the buyer, oldest first (the API's file).
pub async fn response(
    state: web::Data<AppState>,
    buyer_id: String,
    prices: Prices,
) -> Result<HttpResponse, AppError> {
    filtered(state, buyer_id, prices, MyLeadsFilter::default(), false).await
}

/// The purchases `filter` keeps, newest first when `newest_first` (as the page lists them).
pub async fn filtered(
    state: web::Data<AppState>,
    buyer_id: String,
    prices: Prices,
    filter: MyLeadsFilter,
    newest_first: bool,
) -> Result<HttpResponse, AppError> {
    let first = line(header(&prices));
    let body = stream::unfold(
        (Some(first), None::<String>, false),
        move |(first, after, done)| {
            let (state, buyer, prices, filter) = (
                state.clone(),
                buyer_id.clone(),
                prices.clone(),
                filter.clone(),
            );
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
                        let from = cursor.as_deref();
                        let walk = if newest_first {
                            Walk::NewestBefore(from)
                        } else {
                            Walk::OldestAfter(from)
                        };
                        Ok(store::purchases::bought(conn, &buyer, &filter, walk, PAGE)?)
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
                    out.extend(line(row(r, &prices)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_are_plain_numbers() {
        assert_eq!(major_plain(1250), "12.50");
        assert_eq!(major_plain(5), "0.05");
        assert_eq!(major_plain(123456), "1234.56");
        assert_eq!(major_plain(-5), "-0.05");
    }

    #[test]
    fn a_phone_cell_has_no_apostrophe_and_a_formula_has_one() {
        let text = String::from_utf8(line(vec!["+4915112345678".into(), "=cmd".into()])).unwrap();
        assert_eq!(text, "+4915112345678,'=cmd\n");
    }
}
