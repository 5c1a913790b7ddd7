//! The actions buyers report from "My leads" (each confirmed with its price first) and
//! the page CSV. The page itself is `purchases.rs`; the catalogue and buying are in
//! `pages::catalogue`.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::ledger::ActionKind;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::web::auth::BuyerUser;
use crate::web::csrf::CsrfForm;
use crate::web::flash::{self, Flash};
use crate::web::layout::Layout;
use crate::web::{money, redirect, render};

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

/// Reports an action from "My leads". On a per-action lead the first post only shows what
/// the action costs; the charge is made by its "Confirm" post, whose key makes a double
/// click harmless. On a per-lead lead it is recorded at once, free.
pub async fn report_action(
    user: BuyerUser,
    state: web::Data<AppState>,
    session: Session,
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
        // A per-lead lead's action costs nothing: it is recorded at once, unconfirmed.
        if terms.billing == crate::domain::market::BillingModel::PerAction.as_str() {
            return render(&ConfirmActionPage {
                layout: Layout::for_user(&user, "Confirm the action", "/purchases"),
                price: money(
                    terms.action_price_cents.unwrap_or(0),
                    &state.config().currency,
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
    }
    let (buyer, commission_bp) = (user.org_id.clone(), state.config().commission_bp);
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
    let message = if action.transaction_id.is_some() {
        format!(
            "The {} is recorded; {} goes on your next invoice.",
            action.kind.as_str(),
            money(action.price_cents, &state.config().currency)
        )
    } else {
        format!(
            "The {} is recorded for your outcomes; this lead is billed per lead, so it costs nothing.",
            action.kind.as_str()
        )
    };
    flash::set(&session, Flash::notice(message))?;
    Ok(redirect("/purchases"))
}
