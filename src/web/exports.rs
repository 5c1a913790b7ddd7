//! CSV files for accounting and for buyers: every text cell formula-safe, whole numbers
//! left as numbers.

use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::export::neutralise;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::invoice_facts;

/// A cell as written: an integer stays as it is (`-500` is a number, not a formula);
/// anything else is neutralised.
fn safe(cell: &str) -> String {
    if cell.parse::<i64>().is_ok() {
        cell.to_string()
    } else {
        neutralise(cell).into_owned()
    }
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
                        i.subtotal_cents.to_string(),
                        i.tax_cents.to_string(),
                        i.total_cents.to_string(),
                        i.paid_cents.to_string(),
                        i.credited_cents.to_string(),
                        facts.open_cents().to_string(),
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
                "subtotal_cents",
                "tax_cents",
                "total_cents",
                "paid_cents",
                "credited_cents",
                "open_cents",
                "invoice_id",
            ],
            rows,
        ),
    ))
}

pub async fn payments(_user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let rows = state
        .db(|conn| {
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
                    p.amount_cents.to_string(),
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
                "amount_cents",
                "reference",
                "transaction_id",
            ],
            rows,
        ),
    ))
}

pub async fn ledger(_user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let rows = state
        .db(|conn| {
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
                        l.amount_cents.to_string(),
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
                "amount_cents",
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
            [vec![
                "-500".to_string(),
                "=HYPERLINK(1)".into(),
                "-1+1".into(),
            ]],
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "a,b,c\n-500,'=HYPERLINK(1),'-1+1\n"
        );
    }
}
