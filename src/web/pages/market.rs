//! Buyers' "My leads" page and the actions reported from it (each confirmed with its
//! price first). The catalogue and buying are in `pages::catalogue`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::ledger::ActionKind;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::services::market;
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::{money, redirect, render, urlencode};

#[derive(Template)]
#[template(path = "market/purchases.html")]
struct PurchasesPage {
    layout: Layout,
    leads: Vec<MyLead>,
    reasons: &'static [&'static str],
    notice: Option<String>,
    next_page: Option<String>,
    owed: String,
    available: String,
}

/// A bought lead, and for per-action leads the actions reported so far.
pub struct MyLead {
    pub lead: BoughtLeadLine,
    pub per_action: bool,
    pub reported: Vec<String>,
    pub kinds: Vec<&'static str>,
}

/// What a row of "My leads" shows of a bought lead: the page's own view, so the API's
/// JSON shape can change without touching the page (and the other way round).
pub struct BoughtLeadLine {
    pub lead_id: String,
    /// RFC 3339, as the page has always shown it.
    pub bought_at: String,
    pub price_cents: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub segment: String,
    pub warmth: String,
}

impl From<store::purchases::BoughtLead> for BoughtLeadLine {
    fn from(b: store::purchases::BoughtLead) -> Self {
        Self {
            lead_id: b.lead_id,
            bought_at: rfc3339(b.bought_at),
            price_cents: b.price_cents,
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
            country: b.country,
            city: b.city,
            postal_code: b.postal_code,
            segment: b.segment,
            warmth: b.warmth,
        }
    }
}

#[derive(Deserialize)]
pub struct PurchasesQuery {
    bought: Option<usize>,
    total: Option<i64>,
    after: Option<String>,
    reported: Option<String>,
    charged: Option<i64>,
}

pub async fn purchases(
    user: BuyerUser,
    state: web::Data<AppState>,
    query: web::Query<PurchasesQuery>,
) -> AppResult<HttpResponse> {
    let (buyer, after) = (user.org_id.clone(), query.after.clone());
    let (rows, account, per_action, actions) = state
        .db(move |conn| {
            let rows = store::purchases::bought_leads(conn, &buyer, after.as_deref(), 200)?;
            let ids: Vec<String> = rows.iter().map(|r| r.lead_id.clone()).collect();
            Ok((
                rows,
                market::account(conn, &buyer)?,
                store::actions::per_action_leads(conn, &ids)?,
                store::actions::of_buyer(conn, &buyer, &ids)?,
            ))
        })
        .await?;
    let currency = &state.config.currency;
    let next_page = (rows.len() == 200)
        .then(|| {
            rows.last()
                .map(|r| format!("/purchases?after={}", r.purchase_id))
        })
        .flatten();
    render(&PurchasesPage {
        layout: Layout::for_user(&user, "My leads", "/purchases"),
        reasons: &crate::domain::disputes::REASONS,
        notice: query
            .bought
            .map(|n| {
                format!(
                    "You bought {n} lead(s) for {}.",
                    money(query.total.unwrap_or(0), currency)
                )
            })
            .or_else(|| {
                query.reported.as_ref().map(|k| {
                    format!(
                        "The {k} is recorded; {} goes on your next invoice.",
                        money(query.charged.unwrap_or(0), currency)
                    )
                })
            }),
        leads: rows
            .into_iter()
            .map(|r| {
                let reported: Vec<String> = actions
                    .iter()
                    .filter(|a| a.lead_id == r.lead_id)
                    .map(|a| a.kind.to_string())
                    .collect();
                MyLead {
                    per_action: per_action.contains(&r.lead_id),
                    kinds: ActionKind::ALL
                        .iter()
                        .map(ActionKind::as_str)
                        .filter(|k| !reported.iter().any(|r| r == k))
                        .collect(),
                    reported,
                    lead: r.into(),
                }
            })
            .collect(),
        next_page,
        owed: money(account.owed_cents, currency),
        available: money(account.available_cents, currency),
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    lead_id: String,
    kind: String,
    /// `yes` once the buyer has seen what the action costs.
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "market/confirm_action.html")]
struct ConfirmActionPage {
    layout: Layout,
    lead_id: String,
    kind: String,
    price: String,
    /// The lead as the buyer knows it: its contact's name and segment.
    lead: String,
}

/// Reports an action from "My leads". The first post only shows what the action costs;
/// the charge is made by its "Confirm" post, whose key makes a double click harmless.
pub async fn report_action(
    user: BuyerUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> AppResult<HttpResponse> {
    let Ok(kind) = form.kind.parse::<ActionKind>() else {
        return Err(AppError::invalid(
            "kind",
            "must be call, consultation or purchase",
        ));
    };
    if form.confirm != "yes" {
        let (buyer, lead) = (user.org_id.clone(), form.lead_id.clone());
        // A lead the buyer did not buy is not found, whoever owns it.
        let (terms, label) = state
            .db(move |conn| {
                let terms = store::actions::purchase_for_action(conn, &buyer, &lead)?
                    .ok_or(AppError::NotFound)?;
                let label = store::purchases::bought_lead_label(conn, &buyer, &lead)?
                    .ok_or(AppError::NotFound)?;
                Ok((terms, label))
            })
            .await?;
        let (first, last, segment) = label;
        let name = [first, last]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if terms.billing != crate::domain::market::BillingModel::PerAction.as_str() {
            return Err(AppError::invalid(
                "lead_id",
                "this lead is billed per lead: there is no action to report",
            ));
        }
        return render(&ConfirmActionPage {
            layout: Layout::for_user(&user, "Confirm the action", "/purchases"),
            price: money(
                terms.action_price_cents.unwrap_or(0),
                &state.config.currency,
            ),
            lead_id: form.lead_id,
            kind: kind.as_str().to_string(),
            lead: if name.is_empty() {
                segment
            } else {
                format!("{name} ({segment})")
            },
        });
    }
    let (buyer, commission_bp) = (user.org_id.clone(), state.config.commission_bp);
    let key = format!("page:{}:{}", form.lead_id, form.kind);
    let (action, _) = state
        .db(move |conn| {
            crate::services::billing::report_action(
                conn,
                commission_bp,
                &buyer,
                &form.lead_id,
                &form.kind,
                None,
                &key,
            )
        })
        .await?;
    Ok(redirect(&format!(
        "/purchases?reported={}&charged={}",
        urlencode(action.kind.as_str()),
        action.price_cents
    )))
}

pub async fn purchases_csv(user: BuyerUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    crate::web::purchases_csv::response(state, user.org_id.clone()).await
}
