//! CSV files for accounting and for buyers: every text cell formula-safe, numbers left
//! as numbers. Page CSVs are for people: amounts in major units (`12.50`, no thousands
//! separator, so a spreadsheet sums them) under plain names (`amount`, `total`) with one
//! `currency` column; only the API's files keep `_cents`.

use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::export::neutralise;
use crate::domain::money::major_plain;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::invoice_facts;

/// A cell as written: a plain number stays as it is (`-500` and `-12.50` are numbers, not
/// formulas); anything else is neutralised.
fn safe(cell: &str) -> String {
    if is_plain_number(cell) {
        cell.to_string()
    } else {
        neutralise(cell).into_owned()
    }
}

/// An optional `-`, digits, and optionally a point and more digits: nothing a spreadsheet
/// could run.
fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(frac)
}

pub fn csv_bytes(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| safe(c)));
    }
    w.into_inner().unwrap_or_default()
}

pub fn csv_response(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

fn time(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(rfc3339).unwrap_or_default()
}

pub async fn invoices(_user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let now = store::now();
    let currency = state.config().currency.clone();
    let rows = state
        .db(move |conn| {
            let all = store::invoices::list(conn, None, false)?;
            let ids: Vec<String> = all.iter().map(|i| i.buyer_id.clone()).collect();
            let names = store::organisations::names(conn, &ids)?;
            Ok(all
                .into_iter()
                .map(|i| {
                    let facts = invoice_facts(&i);
                    vec![
                        i.number.clone().unwrap_or_default(),
                        i.kind.to_string(),
                        facts.status(now).to_string(),
                        names.get(&i.buyer_id).cloned().unwrap_or_default(),
                        i.buyer_id.clone(),
                        i.period_start.format("%Y-%m").to_string(),
                        time(i.issued_at),
                        time(i.due_at),
                        major_plain(i.subtotal_cents),
                        major_plain(i.tax_cents),
                        major_plain(i.total_cents),
                        major_plain(i.paid_cents),
                        major_plain(i.credited_cents),
                        major_plain(facts.open_cents()),
                        currency.clone(),
                        i.id,
                    ]
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(csv_response(
        "invoices.csv",
        csv_bytes(
            &[
                "number",
                "kind",
                "status",
                "buyer",
                "buyer_id",
                "period",
                "issued_at",
                "due_at",
                "subtotal",
                "tax",
                "total",
                "paid",
                "credited",
                "open",
                "currency",
                "invoice_id",
            ],
            rows,
        ),
    ))
}

pub async fn payments(_user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let currency = state.config().currency.clone();
    let rows = state
        .db(move |conn| {
            let all = store::payments::list(conn, None, None)?;
            let ids: Vec<String> = all.iter().map(|p| p.buyer_id.clone()).collect();
            let names = store::organisations::names(conn, &ids)?;
            let mut out = Vec::new();
            for p in all {
                let number = store::invoices::find(conn, &p.invoice_id)?
                    .number
                    .unwrap_or_default();
                out.push(vec![
                    time(Some(p.received_on)),
                    names.get(&p.buyer_id).cloned().unwrap_or_default(),
                    number,
                    p.method,
                    major_plain(p.amount_cents),
                    currency.clone(),
                    p.reference,
                    p.transaction_id,
                ]);
            }
            Ok(out)
        })
        .await?;
    Ok(csv_response(
        "payments.csv",
        csv_bytes(
            &[
                "received_on",
                "buyer",
                "invoice",
                "method",
                "amount",
                "currency",
                "reference",
                "transaction_id",
            ],
            rows,
        ),
    ))
}

pub async fn ledger(_user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let currency = state.config().currency.clone();
    let rows = state
        .db(move |conn| {
            let mut out = Vec::new();
            let mut after = String::new();
            loop {
                let page = store::ledger::page(conn, &after, 5000)?;
                let Some((last, _)) = page.last() else { break };
                after = last.clone();
                let ids: Vec<String> = page
                    .iter()
                    .filter_map(|(_, l)| l.organisation_id.clone())
                    .collect();
                let names = store::organisations::names(conn, &ids)?;
                for (_, l) in page {
                    out.push(vec![
                        time(Some(l.created_at)),
                        l.transaction_id,
                        l.kind.to_string(),
                        l.description,
                        l.account,
                        l.organisation_id
                            .as_ref()
                            .and_then(|o| names.get(o).cloned())
                            .unwrap_or_else(|| "platform".into()),
                        major_plain(l.amount_cents),
                        currency.clone(),
                    ]);
                }
            }
            Ok::<_, AppError>(out)
        })
        .await?;
    Ok(csv_response(
        "ledger.csv",
        csv_bytes(
            &[
                "created_at",
                "transaction_id",
                "kind",
                "description",
                "account",
                "organisation",
                "amount",
                "currency",
            ],
            rows,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numbers_and_text_is_formula_safe() {
        let body = csv_bytes(
            &["a", "b", "c"],
            [
                vec!["-500".to_string(), "=HYPERLINK(1)".into(), "-1+1".into()],
                vec!["-12.50".to_string(), "1234.05".into(), "-1.2.3".into()],
            ],
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "a,b,c\n-500,'=HYPERLINK(1),'-1+1\n-12.50,1234.05,'-1.2.3\n"
        );
    }

    #[test]
    fn only_plain_decimals_count_as_numbers() {
        for n in ["0", "-5", "12.50", "-0.05"] {
            assert!(is_plain_number(n), "{n}");
        }
        for t in [
            "", "-", "1.", ".5", "-.5", "1e3", "1,000.00", "+1", "12.5.0",
        ] {
            assert!(!is_plain_number(t), "{t}");
        }
    }
}
