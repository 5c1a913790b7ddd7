//! The demo seed writes a believable marketplace on both backends.

use leadmarket::demo;
use leadmarket::domain::OrgKind;
use leadmarket::domain::disputes::DisputeActor;
use leadmarket::domain::ledger::StatementStatus;
use leadmarket::store;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_demo_seed_fills_an_empty_database_once,
    the_demo_has_standing_orders_and_its_inbox_accepts_only_signed_callbacks,
);

async fn the_demo_seed_fills_an_empty_database_once(app: &TestApp) {
    let mut conn = app.conn();
    let now = store::now();
    let written = demo::seed(&mut conn, now, 1_200, 2000).unwrap();
    assert_eq!(written, 1_200);
    let ctx = leadmarket::services::billing::Ctx::from(app.state.live.environment());
    demo::seed_billing(&mut conn, &ctx, now).unwrap();
    // Invoices in every state finance meets, and a paid agency statement.
    let statuses: Vec<&str> = store::invoices::list(&mut conn, None, false)
        .unwrap()
        .iter()
        .map(|i| leadmarket::web::invoice_facts(i).status(now))
        .collect();
    for s in ["draft", "issued", "paid", "partly_paid", "overdue"] {
        assert!(statuses.contains(&s), "{s} in {statuses:?}");
    }
    // Dates follow from the period: issued after the month billed ended, due after terms.
    let due_days = app.state.config().billing.due_days;
    for i in store::invoices::list(&mut conn, None, true).unwrap() {
        let issued = i.issued_at.unwrap();
        assert!(issued >= i.period_end, "{issued} before {}", i.period_end);
        assert_eq!(i.due_at, Some(issued + chrono::TimeDelta::days(due_days)));
    }
    let statements = store::statements::list(&mut conn, None, false).unwrap();
    assert!(statements.iter().any(|s| s.status == StatementStatus::Paid));
    let settings = leadmarket::services::disputes::Settings::from(app.state.live.environment());
    demo::seed_disputes(&mut conn, &settings, now).unwrap();
    let disputes = store::disputes::list(&mut conn, store::disputes::Scope::All, &[]).unwrap();
    for s in ["approved", "open", "contested", "escalated", "rejected"] {
        assert!(
            disputes.iter().any(|d| d.status.as_str() == s),
            "a {s} dispute"
        );
    }
    let by: Vec<Option<DisputeActor>> = disputes.iter().map(|d| d.decided_by).collect();
    assert!(by.contains(&Some(DisputeActor::Platform)) && by.contains(&Some(DisputeActor::Agency)));
    assert_eq!(store::leads::count(&mut conn).unwrap(), 1_200);
    let kinds = store::organisations::count_by_kind(&mut conn).unwrap();
    let count = |k: OrgKind| {
        kinds
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    assert!(
        count(OrgKind::Agency) >= 5 && count(OrgKind::Buyer) >= 8 && count(OrgKind::Platform) == 1
    );
    // Buyers bought through the real purchase path: sales, balances and ledger agree.
    let (total, unbalanced) = store::ledger::trial_balance(&mut conn).unwrap();
    assert_eq!(total, 0);
    assert!(unbalanced.is_empty());
    let surecover = store::organisations::find_by_slug(&mut conn, "surecover").unwrap();
    let (limit, owed) = store::credit::buyer_account(&mut conn, &surecover.id).unwrap();
    assert!(limit > 0 && owed > 0 && owed <= limit, "{limit} {owed}");
    assert_eq!(
        store::ledger::balance(&mut conn, "buyer_receivable", Some(&surecover.id)).unwrap(),
        owed
    );
    let segments = store::leads::open_catalogue_by_segment(&mut conn).unwrap();
    assert!(
        segments.len() >= 5,
        "leads spread over segments: {segments:?}"
    );
    // Seeding again does nothing: the database is not empty.
    let logins = demo::seed_if_empty(&mut conn, &app.state.config(), &mut std::io::sink()).unwrap();
    assert_eq!(store::leads::count(&mut conn).unwrap(), 1_200);
    drop(conn);
    assert!(logins.contains(demo::PASSWORD));
    // Every printed login works.
    for line in logins.lines().skip(1) {
        let email = line.split_whitespace().nth(1).unwrap();
        let b = app.browser();
        let resp = b.login_attempt(email, demo::PASSWORD).await;
        assert_eq!(resp.status(), 303, "{email}");
        assert_eq!(b.get("/dashboard").await.status(), 200);
    }
}

async fn the_demo_has_standing_orders_and_its_inbox_accepts_only_signed_callbacks(app: &TestApp) {
    use actix_web::{App, test, web};
    use leadmarket::domain::standing_order::callback;

    let now = store::now();
    let mut conn = app.conn();
    demo::seed(&mut conn, now, 200, 2000).unwrap();
    assert_eq!(
        demo::seed_standing_orders(&mut conn, "http://127.0.0.1:8080", now).unwrap(),
        3
    );
    let buyer = store::organisations::find_by_slug(&mut conn, "keystone-lending").unwrap();
    let orders = store::standing_orders::list_for_buyer(&mut conn, &buyer.id).unwrap();
    drop(conn);
    let order = orders
        .iter()
        .find(|o| o.callback_url.is_some())
        .expect("a callback order");
    assert_eq!(
        order.callback_url.as_deref(),
        Some("http://127.0.0.1:8080/demo/callback-inbox")
    );

    let inbox = demo::inbox::Inbox::default();
    let shared = inbox.clone();
    let service = test::init_service(
        App::new()
            .app_data(web::Data::new(app.state.clone()))
            .configure(move |cfg| demo::inbox::routes(cfg, shared.clone())),
    )
    .await;
    let body = serde_json::to_vec(&serde_json::json!({
        "event": "lead.delivered",
        "order_id": order.id,
        "purchase_id": "p-1",
        "lead": {"id": "lead-1"},
    }))
    .unwrap();
    let unix = chrono::Utc::now().timestamp();
    for (secret, expected) in [(order.secret.as_str(), 204), ("not-the-secret", 401)] {
        let req = test::TestRequest::post()
            .uri(demo::inbox::PATH)
            .insert_header((
                callback::SIGNATURE_HEADER,
                callback::signature(secret, unix, &body),
            ))
            .set_payload(body.clone())
            .to_request();
        let resp = test::call_service(&service, req).await;
        assert_eq!(resp.status().as_u16(), expected, "signed with {secret}");
    }
    let arrivals = inbox.list();
    assert_eq!(arrivals.len(), 2);
    assert!(!arrivals[0].signature_valid && arrivals[1].signature_valid);
    assert_eq!(arrivals[1].lead_id, "lead-1");
    assert_eq!(arrivals[1].event, "lead.delivered");
    let page = test::call_service(
        &service,
        test::TestRequest::get().uri(demo::inbox::PATH).to_request(),
    )
    .await;
    assert_eq!(page.status().as_u16(), 200);
    let html = String::from_utf8(test::read_body(page).await.to_vec()).unwrap();
    assert!(
        html.contains("lead-1") && html.contains("invalid"),
        "{html}"
    );
}
