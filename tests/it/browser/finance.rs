//! Finance's journey: run billing on the desk, issue the draft invoice, record the bank
//! transfer that pays it.

use leadmarket::domain::Role;
use leadmarket::store;

use crate::browser::Page;
use crate::builders::buyers_who_bought;
use crate::helpers::{PASSWORD, TestApp, this_month};
use crate::in_chromium;

in_chromium!(finance_runs_billing_issues_an_invoice_and_records_a_payment);

async fn finance_runs_billing_issues_an_invoice_and_records_a_payment(
    app: &TestApp,
    page: &mut Page,
) {
    let buyer = buyers_who_bought(app, 1, 2).await.remove(0);
    let (_, email) = app.member(Role::Finance, "platform");
    page.login(&email, PASSWORD).await;

    page.goto("/finance/invoices").await;
    page.fill("period", &this_month().code()).await;
    page.submit("form[action='/finance/billing-run']").await;
    let invoices = |app: &TestApp| {
        app.with_conn(|c| store::invoices::list(c, Some(&buyer), false))
            .unwrap()
    };
    let draft = invoices(app).into_iter().next().expect("a draft invoice");
    assert!(draft.total_cents > 0, "{draft:?}");

    page.goto("/finance/invoices").await;
    page.follow(&format!("a[href='/finance/invoices/{}']", draft.id))
        .await;
    page.submit("form[action$='/issue']").await;
    let issued = invoices(app).into_iter().next().unwrap();
    let now = store::now();
    assert_eq!(
        leadmarket::web::invoice_facts(&issued).status(now),
        "issued"
    );

    page.goto(&format!("/finance/invoices/{}", issued.id)).await;
    page.fill(
        "amount",
        &leadmarket::domain::money::major_plain(issued.total_cents),
    )
    .await;
    page.fill("reference", "TRANSFER 2026-0001").await;
    page.submit("form[action$='/payments']").await;
    let paid = invoices(app).into_iter().next().unwrap();
    assert_eq!(
        leadmarket::web::invoice_facts(&paid).status(now),
        "paid",
        "{paid:?}"
    );
    assert!(
        page.text().await.contains("TRANSFER 2026-0001"),
        "the payment is listed on the invoice"
    );

    page.goto("/finance/payouts").await;
    page.goto("/finance/ledger").await;
}
