//! A buyer's account for finance: credit, what it owes, its invoices and payments, and
//! its returns.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{InvoiceLine, PaymentView, invoice_lines, names_for, payment_view};
use crate::app::AppState;
use crate::domain::OrgKind;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::layout::Layout;
use crate::web::{money, render};

#[derive(Template)]
#[template(path = "finance/account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    slug: String,
    limit: String,
    limit_major: String,
    owed: String,
    available: String,
    uninvoiced: String,
    open_invoices: String,
    invoices: Vec<InvoiceLine>,
    payments: Vec<PaymentView>,
    return_rate: String,
}

pub async fn account(
    user: FinanceUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let now = store::now();
    let (org, account, invoices, payments, names, returns) = state
        .db(move |conn| {
            let org = store::organisations::find(conn, &id)?;
            if org.kind != OrgKind::Buyer {
                return Err(AppError::NotFound);
            }
            let account = crate::services::market::account(conn, &id)?;
            let invoices = store::invoices::list(conn, Some(&id), false)?;
            let payments = store::payments::list(conn, None, Some(&id))?;
            let names = names_for(conn, &invoices)?;
            let since = store::now() - chrono::TimeDelta::days(30);
            let (approved, opened) = store::disputes::buyer_returns_since(conn, &id, since)?;
            let bought = store::disputes::buyer_purchases_since(conn, &id, since)?;
            let returns = format!(
                "{opened} disputes ({approved} approved) on {bought} purchases in the last 30 days"
            );
            Ok((org, account, invoices, payments, names, returns))
        })
        .await?;
    let c = &state.config().currency;
    render(&AccountPage {
        layout: Layout::for_user(&user, &org.name, "/finance/buyers"),
        limit: money(account.credit_limit_cents, c),
        limit_major: format!(
            "{}.{:02}",
            account.credit_limit_cents / 100,
            account.credit_limit_cents % 100
        ),
        owed: money(account.owed_cents, c),
        available: money(account.available_cents, c),
        uninvoiced: money(account.uninvoiced_cents, c),
        open_invoices: money(account.open_invoices_cents, c),
        invoices: invoice_lines(invoices, &names, c, now),
        payments: payments.iter().map(|p| payment_view(p, c)).collect(),
        return_rate: returns,
        name: org.name,
        slug: org.slug,
    })
}
