//! The funnel (traffic -> leads -> qualified -> sold -> converted) of a known batch in
//! JSON, CSV and on the page with its charts; buyers' outcomes; the platform's days; and
//! that nobody sees another agency's funnel.

use serde_json::{Value, json};

use leadmarket::domain::Role;

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_funnel_counts_traffic_rejects_sales_and_an_action_alike_in_json_csv_and_page,
    an_agency_never_sees_another_agencys_funnel_and_staff_see_the_platforms,
    an_empty_range_renders_an_empty_state_and_a_bad_one_says_what_is_wrong,
    a_buyer_sees_spend_cost_per_lead_and_per_action_and_returns_per_agency,
    the_platform_page_shows_sales_revenue_and_returns_per_day_to_staff_only,
    every_dashboard_draws_its_last_30_days,
);

/// A batch of 6 rows reported with 200 visitors: 4 accepted, a duplicate and a reject.
async fn batch(app: &TestApp, agency: &Agency, first: usize, traffic: i64) -> String {
    let leads: Vec<Value> = (first..first + 4)
        .map(|n| LeadBuilder::new(n).json())
        .chain([
            LeadBuilder::new(first).json(),
            LeadBuilder::new(first + 9).age(12).json(),
        ])
        .collect();
    let (status, body) = app
        .post_json(
            "/api/v1/batches",
            &agency.token,
            &json!({
                "batch": {"segment": "travel", "channel": "web_form", "price_cents": 1000,
                          "consent_text": "ok", "traffic": traffic, "max_sales": 3},
                "leads": leads,
            }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let done = app.wait_for_batch(&agency.token, &id).await;
    assert_eq!(
        (&done["accepted"], &done["duplicates"], &done["rejected"]),
        (&json!(4), &json!(1), &json!(1)),
        "{done}"
    );
    assert_eq!(done["traffic"], traffic);
    id
}

/// Buys two of the agency's travel leads and reports a call on the first.
async fn sell_two_and_act_on_one(app: &TestApp, buyer: &Buyer) -> Vec<String> {
    let (status, body) = app
        .post_json(
            "/api/v1/purchases",
            &buyer.token,
            &json!({"filter": {"segment": "travel"}, "quantity": 2, "max_price_cents": 100_000}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ids: Vec<String> = body["purchases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["lead_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{body}");
    let resp = app
        .post_as(&buyer.token, "/api/v1/actions")
        .header("Idempotency-Key", "call-1")
        .json(&json!({"lead_id": ids[0], "kind": "call"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    ids
}

/// The funnel once the rollup has taken in what the test did (it runs every 100 ms).
async fn settled(app: &TestApp, token: &str, query: &str, sold: i64, converted: i64) -> Value {
    for _ in 0..200 {
        let (status, body) = app
            .get_json(&format!("/api/v1/funnel?{query}"), token)
            .await;
        assert_eq!(status, 200, "{body}");
        let step = |name: &str| {
            body["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["step"] == name)
                .unwrap()["count"]
                .clone()
        };
        if step("sold") == json!(sold) && step("converted") == json!(converted) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the funnel did not reach {sold} sold and {converted} converted in 10 s");
}

fn steps(body: &Value) -> Vec<(String, Value, Value)> {
    body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["count"].clone(),
                s["percent"].clone(),
            )
        })
        .collect()
}

/// Every `<svg>` of a page, each parsed as XML; returns the texts of their `<title>`s.
fn svg_titles(html: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut rest = html;
    let mut found = 0;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("a closed svg") + start + 6;
        let svg = &rest[start..end];
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        titles.extend(
            doc.descendants()
                .filter(|n| n.has_tag_name("title"))
                .filter_map(|n| n.text().map(str::to_string)),
        );
        found += 1;
        rest = &rest[end..];
    }
    assert!(found > 0, "no chart on the page");
    titles
}

async fn the_funnel_counts_traffic_rejects_sales_and_an_action_alike_in_json_csv_and_page(
    app: &TestApp,
) {
    let agency = AgencyBuilder::new("Northwind").create(app).await;
    let batch_id = batch(app, &agency, 1, 200).await;
    let buyer = BuyerBuilder::new("Surecover")
        .credit(1_000_000)
        .create(app)
        .await;
    sell_two_and_act_on_one(app, &buyer).await;

    let body = settled(app, &agency.token, "group_by=batch", 2, 1).await;
    assert_eq!(
        steps(&body),
        [
            ("traffic".into(), json!(200), Value::Null),
            ("leads".into(), json!(6), json!(3.0)),
            ("qualified".into(), json!(4), json!(66.7)),
            ("sold".into(), json!(2), json!(50.0)),
            ("converted".into(), json!(1), json!(50.0)),
        ]
    );
    assert_eq!(
        body["groups"],
        json!([{"key": batch_id, "label": body["groups"][0]["label"], "traffic": 200,
                "leads": 6, "qualified": 4, "sold": 2, "converted": 1}])
    );
    // By a lead attribute, traffic and rows received are not known.
    let (_, by_warmth) = app
        .get_json("/api/v1/funnel?group_by=warmth", &agency.token)
        .await;
    assert_eq!(
        by_warmth["groups"],
        json!([{"key": "warm", "label": "Warm", "traffic": null, "leads": null,
                "qualified": 4, "sold": 2, "converted": 1}])
    );

    // The same numbers in the CSV.
    let csv = app
        .get_as(&agency.token, "/api/v1/funnel.csv?group_by=batch")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "key,label,traffic,leads,qualified,sold,converted");
    assert!(lines[1].starts_with(&format!("{batch_id},")), "{csv}");
    assert!(lines[1].ends_with(",200,6,4,2,1"), "{csv}");
    assert_eq!(lines[2], "total,Total,200,6,4,2,1");

    // And on the page, in the table and in the charts' titles.
    let b = app.browser();
    b.login(&agency.email).await;
    let (status, html) = b.get_text("/funnel?group_by=batch").await;
    assert_eq!(status, 200);
    for cell in [
        "<td class=\"num\">200</td>",
        "<td class=\"num\">66.7%</td>",
        "<td class=\"num\">50.0%</td>",
    ] {
        assert!(html.contains(cell), "{cell} missing from\n{html}");
    }
    let titles = svg_titles(&html);
    for t in [
        "Traffic (visitors reported): 200",
        "Leads (rows received): 6 (3.0% of the step before)",
        "Qualified (accepted): 4 (66.7% of the step before)",
        "Sold (at least once): 2 (50.0% of the step before)",
        "Converted (an action reported): 1 (50.0% of the step before)",
    ] {
        assert!(titles.iter().any(|x| x == t), "{t} not in {titles:?}");
    }
    let (status, page_csv) = b.get_text("/funnel.csv?group_by=batch").await;
    assert_eq!(status, 200);
    assert_eq!(page_csv, csv, "the page's CSV is the API's");
}

async fn an_agency_never_sees_another_agencys_funnel_and_staff_see_the_platforms(app: &TestApp) {
    let north = AgencyBuilder::new("Northwind").create(app).await;
    let south = AgencyBuilder::new("Southwind").create(app).await;
    batch(app, &north, 1, 200).await;
    let south_batch = batch(app, &south, 100, 50).await;
    let buyer = BuyerBuilder::new("Surecover")
        .credit(1_000_000)
        .create(app)
        .await;
    sell_two_and_act_on_one(app, &buyer).await;

    let (_, own) = app
        .get_json("/api/v1/funnel?group_by=batch", &south.token)
        .await;
    assert_eq!(own["groups"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own["groups"][0]["key"], south_batch.as_str());
    assert_eq!(own["steps"][0]["count"], 50);
    // An agency cannot ask for another's.
    let (status, _) = app
        .get_json(
            &format!("/api/v1/funnel?agency={}", north.org.id),
            &south.token,
        )
        .await;
    assert_eq!(status, 422);
    let b = app.browser();
    b.login(&south.email).await;
    let (_, html) = b
        .get_text(&format!("/funnel?agency={}&group_by=batch", north.org.id))
        .await;
    assert!(html.contains("Southwind"), "{html}");
    assert!(!html.contains("Northwind"), "{html}");
    assert!(html.contains("<td class=\"num\">50</td>"), "{html}");

    // Buyers have no funnel.
    assert_eq!(app.get_json("/api/v1/funnel", &buyer.token).await.0, 403);

    // Finance sees both agencies' traffic, or one agency's.
    let (_, finance) = app.member(Role::Finance, "Platform");
    let staff = app.browser();
    staff.login(&finance).await;
    let (status, html) = staff.get_text("/funnel").await;
    assert_eq!(status, 200);
    assert!(html.contains("<td class=\"num\">250</td>"), "{html}");
    let (_, html) = staff
        .get_text(&format!("/funnel?agency={}", north.org.id))
        .await;
    assert!(html.contains("Funnel of Northwind"), "{html}");
    assert!(html.contains("<td class=\"num\">200</td>"), "{html}");
    let (_, buyer_email) = app.member(Role::Buyer, "Keystone");
    let other = app.browser();
    other.login(&buyer_email).await;
    assert_eq!(other.get("/funnel").await.status(), 403);
    assert_eq!(other.get("/funnel.csv").await.status(), 403);
}

async fn an_empty_range_renders_an_empty_state_and_a_bad_one_says_what_is_wrong(app: &TestApp) {
    let agency = AgencyBuilder::new("Northwind").create(app).await;
    batch(app, &agency, 1, 200).await;
    let b = app.browser();
    b.login(&agency.email).await;
    let (status, html) = b.get_text("/funnel?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No batches were uploaded in this range"),
        "{html}"
    );
    let (status, body) = app
        .get_json(
            "/api/v1/funnel?from=2020-01-01&to=2020-01-31",
            &agency.token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["steps"][0]["count"], Value::Null);
    assert_eq!(body["steps"][1]["count"], 0);
    assert_eq!(
        body["groups"].as_array().unwrap().len(),
        31,
        "every day, at zero"
    );

    let (status, html) = b.get_text("/funnel?from=2020-02-30&group_by=hour").await;
    assert_eq!(status, 422);
    assert!(html.contains("must be a date such as 2026-11-30"), "{html}");
    assert!(
        html.contains("must be day, batch, segment, channel or warmth"),
        "{html}"
    );
    assert!(
        html.contains("value=\"2020-02-30\""),
        "what was typed stays: {html}"
    );
    let (status, body) = app
        .get_json(
            "/api/v1/funnel?from=2026-12-02&to=2026-11-01",
            &agency.token,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "from", "{body}");
}

async fn a_buyer_sees_spend_cost_per_lead_and_per_action_and_returns_per_agency(app: &TestApp) {
    let agency = AgencyBuilder::new("Northwind").create(app).await;
    let per_action = LeadBuilder::new(1)
        .per_action(500)
        .post(app, &agency.token)
        .await;
    let plain = LeadBuilder::new(2).post(app, &agency.token).await;
    let mut ids = vec![per_action.clone(), plain.clone()];
    // Five leads in all, so one return stays within the 20% return cap.
    for n in 3..=5 {
        ids.push(LeadBuilder::new(n).post(app, &agency.token).await);
    }
    let (buyer, email) = BuyerBuilder::new("Surecover")
        .credit(1_000_000)
        .create_with_login(app)
        .await;
    let bought = crate::builders::PurchaseBuilder::of(&ids)
        .post(app, &buyer.token)
        .await;
    let lead_spend = bought["total_cents"].as_i64().unwrap();
    for (lead, key) in [(&per_action, "a1"), (&plain, "a2")] {
        let resp = app
            .post_as(&buyer.token, "/api/v1/actions")
            .header("Idempotency-Key", key)
            .json(&json!({"lead_id": lead, "kind": "call"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    // The plain lead is returned: disputed, and accepted by the agency.
    let (status, dispute) = app
        .post_json(
            "/api/v1/disputes",
            &buyer.token,
            &json!({"lead_id": plain, "reason": "wrong_number", "comment": "nobody answers"}),
        )
        .await;
    assert_eq!(status, 201, "{dispute}");
    if dispute["status"] != "approved" {
        let resp = app
            .post_as(
                &agency.token,
                &format!(
                    "/api/v1/disputes/{}/accept",
                    dispute["id"].as_str().unwrap()
                ),
            )
            .json(&json!({"comment": "fair"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let spend = lead_spend + 500;
    let b = app.browser();
    b.login(&email).await;
    let (status, html) = b.get_text("/outcomes").await;
    assert_eq!(status, 200);
    let money = |cents: i64| leadmarket::web::money(cents, "EUR");
    for text in [
        money(spend),
        money((spend + 2) / 5),
        money((spend + 1) / 2),
        "20.0%".to_string(),
        format!(">{}</a>", "Northwind"),
    ] {
        assert!(html.contains(&text), "{text} missing from\n{html}");
    }
    let titles = svg_titles(&html);
    assert!(
        titles.iter().any(|t| t
            == &format!(
                "Northwind: {} spent on 5 leads, 2 actions, 1 returned",
                money(spend)
            )),
        "{titles:?}"
    );
    let (_, csv) = b.get_text("/outcomes.csv").await;
    let agency_line = csv
        .lines()
        .find(|l| l.starts_with("agency,"))
        .unwrap_or_else(|| panic!("{csv}"));
    let cells: Vec<&str> = agency_line.split(',').collect();
    assert_eq!(cells[2], "Northwind");
    assert_eq!(
        &cells[3..],
        [
            "5",
            &major(spend),
            &major((spend + 2) / 5),
            "2",
            &major((spend + 1) / 2),
            "1",
            "1",
            "EUR"
        ]
    );
    // Another buyer sees nothing of it, and agencies have no outcomes page.
    let (_, other) = app.member(Role::Buyer, "Keystone");
    let o = app.browser();
    o.login(&other).await;
    let (_, html) = o.get_text("/outcomes").await;
    assert!(html.contains("You bought no leads in this range"), "{html}");
    let a = app.browser();
    a.login(&agency.email).await;
    assert_eq!(a.get("/outcomes").await.status(), 403);
}

fn major(cents: i64) -> String {
    leadmarket::domain::money::major_plain(cents)
}

async fn the_platform_page_shows_sales_revenue_and_returns_per_day_to_staff_only(app: &TestApp) {
    let agency = AgencyBuilder::new("Northwind").create(app).await;
    batch(app, &agency, 1, 200).await;
    let buyer = BuyerBuilder::new("Surecover")
        .credit(1_000_000)
        .create(app)
        .await;
    sell_two_and_act_on_one(app, &buyer).await;
    let (_, finance) = app.member(Role::Finance, "Platform");
    let b = app.browser();
    b.login(&finance).await;
    let (status, html) = b.get_text("/platform").await;
    assert_eq!(status, 200);
    let titles = svg_titles(&html);
    let today = leadmarket::store::now().date().to_string();
    assert!(
        titles.iter().any(|t| t == &format!("{today}: Sales 2")),
        "{titles:?}"
    );
    let (_, csv) = b.get_text("/platform.csv").await;
    let line = csv
        .lines()
        .find(|l| l.starts_with(&today))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(line.starts_with(&format!("{today},2,")), "{line}");
    assert!(line.ends_with(",0,0.0,EUR"), "no returns: {line}");
    for (role, org) in [
        (Role::Agency, "Outside Agency"),
        (Role::Buyer, "Outside Buyer"),
    ] {
        let (_, email) = app.member(role, org);
        let o = app.browser();
        o.login(&email).await;
        assert_eq!(o.get("/platform").await.status(), 403, "{role:?}");
        assert_eq!(o.get("/platform.csv").await.status(), 403, "{role:?}");
    }
    let signed_out = app.browser().get("/platform").await;
    assert_eq!(signed_out.status(), 303);
}

async fn every_dashboard_draws_its_last_30_days(app: &TestApp) {
    let agency = AgencyBuilder::new("Northwind").create(app).await;
    batch(app, &agency, 1, 200).await;
    let (buyer, buyer_email) = BuyerBuilder::new("Surecover")
        .credit(1_000_000)
        .create_with_login(app)
        .await;
    sell_two_and_act_on_one(app, &buyer).await;
    settled(app, &agency.token, "", 2, 1).await;
    let (_, admin) = app.member(Role::Admin, "Platform");
    for (email, title) in [
        (
            &agency.email,
            "Sold (at least once): 2 (50.0% of the step before)",
        ),
        (&buyer_email, "Northwind: "),
        (&admin, ": Sales 2"),
    ] {
        let b = app.browser();
        b.login(email).await;
        let (status, html) = b.get_text("/dashboard").await;
        assert_eq!(status, 200);
        let titles = svg_titles(&html);
        assert!(
            titles.iter().any(|t| t.contains(title)),
            "{title} not in {titles:?}"
        );
    }
}
