//! The buyer's journey: filter the catalogue, buy ticked leads and "the first N", download
//! My leads as CSV, report an action on a per-action lead, dispute a lead.

use leadmarket::store;

use crate::browser::Page;
use crate::builders::{AgencyBuilder, BuyerBuilder, LeadBuilder};
use crate::helpers::{PASSWORD, TestApp};
use crate::in_chromium;

// Returns uncapped: three purchases would allow no dispute under the default 20% cap.
in_chromium!(with [("RETURN_CAP_BP", "10000")] =>
    a_buyer_filters_buys_downloads_reports_an_action_and_disputes_a_lead);

/// The ids of the leads the buyer holding `token` owns, by the API.
async fn owned(app: &TestApp, token: &str) -> Vec<String> {
    let (status, body) = app.get_json("/api/v1/purchases", token).await;
    assert_eq!(status, 200, "{body}");
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["lead_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn a_buyer_filters_buys_downloads_reports_an_action_and_disputes_a_lead(
    app: &TestApp,
    page: &mut Page,
) {
    let agency = AgencyBuilder::new("Northwind Leads").create(app).await;
    // Three hot leads (one billed per action) and two cold ones the filter leaves out.
    let mut hot = Vec::new();
    for n in 1..=2 {
        hot.push(
            LeadBuilder::new(n)
                .warmth("hot")
                .post(app, &agency.token)
                .await,
        );
    }
    let per_action = LeadBuilder::new(3)
        .warmth("hot")
        .price_cents(200)
        .per_action(1500)
        .post(app, &agency.token)
        .await;
    for n in 4..=5 {
        LeadBuilder::new(n)
            .warmth("cold")
            .post(app, &agency.token)
            .await;
    }
    let (buyer, email) = BuyerBuilder::new("Keystone Lending")
        .credit(1_000_000)
        .create_with_login(app)
        .await;
    page.login(&email, PASSWORD).await;

    // Filter: only the hot leads are listed.
    page.goto("/catalogue").await;
    page.find("input[name='warmth'][value='hot']")
        .await
        .click()
        .await
        .unwrap();
    page.submit("form[action='/catalogue']").await;
    assert_eq!(page.find_all("input[name='lead_id']").await.len(), 3);
    let query = page.path().await;

    // Tick two and buy them.
    for id in [&hot[0], &per_action] {
        page.find(&format!("input[name='lead_id'][value='{id}']"))
            .await
            .click()
            .await
            .unwrap();
    }
    page.submit("form[action='/catalogue/buy-selected']").await;
    // Nothing is bought until the review page is confirmed.
    page.submit("form:has(input[name='confirm'][value='yes'])")
        .await;
    let mut expected = vec![hot[0].clone(), per_action.clone()];
    expected.sort();
    assert_eq!(owned(app, &buyer.token).await, expected);
    let text = page.text().await;
    for n in [1, 3] {
        assert!(
            text.contains(&format!("ann{n}@example.com")),
            "My leads shows the contact of each bought lead: {text}"
        );
    }

    // "Buy the first 1" of the same filter: the one hot lead left.
    page.goto(&query).await;
    let buy_first = "form[action='/catalogue/buy-first']";
    page.fill_in(buy_first, "quantity", "1").await;
    page.fill_in(buy_first, "max_price", "20.00").await;
    page.submit("form[action='/catalogue/buy-first']").await;
    // Nothing is bought until the review page is confirmed.
    page.submit("form:has(input[name='confirm'][value='yes'])")
        .await;
    let mut expected = vec![hot[0].clone(), hot[1].clone(), per_action.clone()];
    expected.sort();
    assert_eq!(owned(app, &buyer.token).await, expected);

    // My leads as CSV: the three contacts.
    page.goto("/purchases").await;
    let (status, csv) = page.download_link("a[href^='/purchases.csv']").await;
    assert_eq!(status, 200, "{csv}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), 3, "{csv}");
    for n in 1..=3 {
        assert!(csv.contains(&format!("ann{n}@example.com")), "{csv}");
    }

    // Report a call on the per-action lead.
    let report = format!(
        "form[action='/purchases/actions']:has(input[name='lead_id'][value='{per_action}'])"
    );
    page.find(&format!("{report} select[name='kind']"))
        .await
        .select_by_value("call")
        .await
        .unwrap();
    page.submit(&report).await;
    // The charge is shown first; only its confirmation records the action.
    assert!(page.text().await.contains("this action costs"));
    page.submit("form:has(input[name='confirm'][value='yes'])")
        .await;
    let actions = app
        .with_conn(|c| store::actions::of_buyer(c, &buyer.id, std::slice::from_ref(&per_action)))
        .unwrap();
    assert_eq!(actions.len(), 1, "one call reported");
    assert_eq!(actions[0].kind.as_str(), "call");

    // Dispute a per-lead one: the form is behind its "Dispute" disclosure.
    page.goto("/purchases").await;
    let lead = &hot[0];
    page.find(&format!(
        "details:has(input[name='lead_id'][value='{lead}']) > summary"
    ))
    .await
    .click()
    .await
    .unwrap();
    let dispute = format!("form[action='/disputes']:has(input[name='lead_id'][value='{lead}'])");
    page.find(&format!("{dispute} select[name='reason']"))
        .await
        .select_by_value("wrong_number")
        .await
        .unwrap();
    page.find(&format!("{dispute} input[name='comment']"))
        .await
        .send_keys("nobody by that name")
        .await
        .unwrap();
    page.submit(&dispute).await;
    let disputes = app
        .with_conn(|c| store::disputes::list(c, store::disputes::Scope::Buyer(&buyer.id), &[]))
        .unwrap();
    assert_eq!(disputes.len(), 1);
    assert_eq!(&disputes[0].lead_id, lead);

    page.goto("/disputes").await;
    page.goto("/invoices").await;
    page.goto("/dashboard").await;
}
