//! The admin's journey: put a person on the suppression list and see their open lead
//! withdrawn from sale.

use leadmarket::domain::Role;
use leadmarket::domain::lead::LeadStatus;
use leadmarket::store;

use crate::browser::Page;
use crate::builders::{AgencyBuilder, LeadBuilder};
use crate::helpers::{PASSWORD, TestApp};
use crate::in_chromium;

in_chromium!(an_admin_suppresses_a_person_and_sees_the_lead_withdrawn);

fn withdrawn(app: &TestApp) -> i64 {
    app.with_conn(store::leads::count_by_status)
        .unwrap()
        .into_iter()
        .find(|(s, _)| *s == LeadStatus::Withdrawn)
        .map_or(0, |(_, n)| n)
}

async fn an_admin_suppresses_a_person_and_sees_the_lead_withdrawn(app: &TestApp, page: &mut Page) {
    let agency = AgencyBuilder::new("Northwind Leads").create(app).await;
    LeadBuilder::new(1)
        .phone("+447911100001")
        .post(app, &agency.token)
        .await;
    LeadBuilder::new(2).post(app, &agency.token).await;
    let (_, email) = app.member(Role::Admin, "platform");
    page.login(&email, PASSWORD).await;

    page.goto("/admin/suppressions").await;
    page.fill("entries", "+44 7911 100001").await;
    page.select("reason", "opt_out").await;
    page.submit("form[action='/admin/suppressions']").await;
    let shown = page
        .find("[data-test='withdrawn']")
        .await
        .attr("data-count")
        .await
        .unwrap();
    assert_eq!(
        shown.as_deref(),
        Some("1"),
        "the page says one open lead was withdrawn"
    );
    assert_eq!(withdrawn(app), 1, "the other person's lead stays on sale");

    page.goto("/admin/organisations").await;
    page.goto("/admin/pricing").await;
}
