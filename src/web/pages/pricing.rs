//! The admin's price rules: the modifiers applied on top of each batch's base price.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldProblem};
use crate::services::market;
use crate::store;
use crate::web::auth::AdminUser;
use crate::web::csrf::CsrfForm;
use crate::web::layout::Layout;
use crate::web::pages::who;
use crate::web::{render, render_status};

pub struct RuleRow {
    pub kind: String,
    pub match_value: String,
    pub factor: String,
}

#[derive(Template)]
#[template(path = "admin/pricing.html")]
struct PricingPage {
    layout: Layout,
    rules: Vec<RuleRow>,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
}

async fn page(
    user: &AdminUser,
    state: &AppState,
    notice: Option<String>,
    problems: Vec<FieldProblem>,
) -> AppResult<PricingPage> {
    let mut rows = state
        .db(|conn| Ok(store::pricing::price_rules(conn)?))
        .await?;
    rows.sort_by(|a, b| rule_order(a).cmp(&rule_order(b)));
    Ok(PricingPage {
        layout: Layout::for_user(user, "Price rules", "/admin/pricing"),
        rules: rows
            .into_iter()
            .map(|(kind, match_value, bp)| RuleRow {
                kind: kind.to_string(),
                match_value,
                factor: format!("{:.4}", bp as f64 / 10_000.0),
            })
            .collect(),
        notice,
        problems,
    })
}

/// By kind, then what the rule applies to: quantity tiers as numbers (2, 10, 50, not
/// 10, 2, 50), other values as text.
fn rule_order(
    rule: &(crate::domain::market::PriceRuleKind, String, i64),
) -> (&'static str, Option<u64>, &str, i64) {
    let (kind, value, bp) = rule;
    (kind.as_str(), value.parse().ok(), value.as_str(), *bp)
}

pub async fn show(user: AdminUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    render(&page(&user, &state, None, Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct RuleForm {
    kind: String,
    #[serde(default)]
    match_value: String,
    #[serde(default)]
    factor: String,
}

pub async fn tune(
    req: HttpRequest,
    user: AdminUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> AppResult<HttpResponse> {
    let (kind, value, factor, by) = (
        form.kind.clone(),
        form.match_value.clone(),
        form.factor.clone(),
        who(&req, &user, &state),
    );
    match state
        .db(move |conn| market::tune_price_rule(conn, &by, &kind, &value, &factor))
        .await
    {
        Ok(()) => {
            let what = if form.factor.trim().is_empty() {
                "removed"
            } else {
                "saved"
            };
            render(
                &page(
                    &user,
                    &state,
                    Some(format!("Rule {} {} {what}.", form.kind, form.match_value)),
                    Vec::new(),
                )
                .await?,
            )
        }
        Err(AppError::Validation(problems)) => render_status(
            &page(&user, &state, None, problems).await?,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::PriceRuleKind;

    #[test]
    fn quantity_tiers_sort_as_numbers() {
        let mut rows: Vec<(PriceRuleKind, String, i64)> = ["50", "10", "2"]
            .iter()
            .map(|v| (PriceRuleKind::Quantity, v.to_string(), 9000))
            .collect();
        rows.push((PriceRuleKind::Country, "GB".into(), 11_000));
        rows.sort_by(|a, b| rule_order(a).cmp(&rule_order(b)));
        let values: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(values, ["GB", "2", "10", "50"]);
    }
}
