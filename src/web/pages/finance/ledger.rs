//! The trial balance: every ledger account's sum, and any transaction that does not
//! balance.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::error::AppResult;
use crate::store;
use crate::web::auth::FinanceUser;
use crate::web::layout::Layout;
use crate::web::{money, render};

pub struct AccountSum {
    pub account: String,
    pub name: &'static str,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "finance/ledger.html")]
struct LedgerPage {
    layout: Layout,
    accounts: Vec<AccountSum>,
    total: String,
    balanced: bool,
    unbalanced: Vec<(String, String)>,
}

pub async fn trial_balance(
    user: FinanceUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    let (total, unbalanced, per_account) = state
        .db(|conn| {
            let (total, unbalanced) = store::ledger::trial_balance(conn)?;
            let per_account = store::ledger::balances_by_account(conn)?;
            Ok((total, unbalanced, per_account))
        })
        .await?;
    let c = &state.config().currency;
    render(&LedgerPage {
        layout: Layout::for_user(&user, "Trial balance", "/finance/ledger"),
        balanced: total == 0 && unbalanced.is_empty(),
        accounts: per_account
            .into_iter()
            .map(|(account, sum)| AccountSum {
                name: crate::domain::money::Account::from_code(&account)
                    .map(|a| a.label())
                    .unwrap_or(""),
                account,
                balance: money(sum, c),
            })
            .collect(),
        total: money(total, c),
        unbalanced: unbalanced
            .into_iter()
            .map(|(id, sum)| (id, money(sum, c)))
            .collect(),
    })
}
