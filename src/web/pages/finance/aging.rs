//! Aging: what each buyer has open, by how long past due.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::names_for;
use crate::app::AppState;
use crate::domain::billing::{AGING_BUCKETS, aging};
use crate::error::AppResult;
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::layout::Layout;
use crate::web::{invoice_facts, money, render};

pub struct AgingRow {
    pub buyer_id: String,
    pub buyer: String,
    pub buckets: Vec<String>,
    pub total: String,
}

#[derive(Template)]
#[template(path = "finance/aging.html")]
struct AgingPage {
    layout: Layout,
    buckets: [&'static str; 5],
    rows: Vec<AgingRow>,
    totals: Vec<String>,
    total: String,
}

pub async fn report(user: FinanceUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let now = store::now();
    let (rows, names) = state
        .db(move |conn| {
            let invoices = store::invoices::list(conn, None, true)?;
            let names = names_for(conn, &invoices)?;
            let facts: Vec<_> = invoices
                .iter()
                .map(|i| (i.buyer_id.clone(), invoice_facts(i)))
                .collect();
            Ok((aging(facts, now), names))
        })
        .await?;
    let c = &state.config().currency;
    let mut totals = [0i64; 5];
    for (_, amounts) in &rows {
        for (t, a) in totals.iter_mut().zip(amounts) {
            *t += a;
        }
    }
    render(&AgingPage {
        layout: Layout::for_user(&user, "Aging", "/finance/aging"),
        buckets: AGING_BUCKETS,
        rows: rows
            .into_iter()
            .map(|(buyer_id, amounts)| AgingRow {
                buyer: names.get(&buyer_id).cloned().unwrap_or_default(),
                buckets: amounts.iter().map(|a| money(*a, c)).collect(),
                total: money(amounts.iter().sum(), c),
                buyer_id,
            })
            .collect(),
        totals: totals.iter().map(|a| money(*a, c)).collect(),
        total: money(totals.iter().sum(), c),
    })
}
