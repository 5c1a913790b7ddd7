//! Disputes: the platform's own decisions, window and cap edges, the agency's answer and
//! the deadline (with a controllable clock), finance deciding once under concurrency,
//! the ledger after every path, suspension and its lifting, and scoping.

use diesel::prelude::*;
use leadmarket::db::schema::{leads, ledger_transactions, organisations, purchases};
use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::billing::LineKind;
use leadmarket::domain::disputes::{DisputeActor, DisputeStatus};
use leadmarket::services::disputes::{self, Actor, Settings};
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder};
use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    the_window_and_the_cap_are_exact,
    disputes_through_the_api_are_scoped_to_their_sides,
);

// These return more than the default cap allows, to exercise every path.
on_both_backends!(with [("RETURN_CAP_BP", "10000")] =>
    the_platform_decides_what_it_can_check_at_once,
    agencies_answer_and_finance_decides_the_rest_once,
    an_agency_that_flags_a_bad_lead_withdraws_it_and_later_returns_pass_at_once,
    dispute_pages_name_the_lead_and_only_the_buyer_sees_its_contact,
);

on_both_backends!(with [("QUALITY_MIN_SALES", "5"), ("QUALITY_SUSPEND_BP", "1500")] =>
    too_many_returns_suspend_an_agency_until_an_admin_lifts_it,
);

fn settings(app: &TestApp) -> Settings<'_> {
    Settings::from(app.state.live.environment())
}

fn buyer_actor() -> Actor<'static> {
    Actor {
        kind: DisputeActor::Buyer,
        user_id: None,
    }
}

fn assert_ledger_balanced(app: &TestApp) {
    let (total, unbalanced) = app.with_conn(store::ledger::trial_balance).unwrap();
    assert_eq!(total, 0);
    assert!(unbalanced.is_empty(), "{unbalanced:?}");
}

fn credits(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        ledger_transactions::table
            .filter(ledger_transactions::kind.eq("dispute_credit"))
            .count()
            .get_result(c)
            .unwrap()
    })
}

/// `n` leads of one agency, all bought by one buyer; returns (agency id, agency token,
/// buyer id, buyer token, lead ids).
async fn bought(app: &TestApp, n: usize) -> (String, String, String, String, Vec<String>) {
    let Agency {
        org: agency,
        token: agency_token,
        ..
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            LeadBuilder::new(i)
                .max_sales(3)
                .post(app, &agency_token)
                .await,
        );
    }
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(100_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of(&ids).post(app, &buyer).await;
    (agency.id, agency_token, buyer_id, buyer, ids)
}

fn open(
    app: &TestApp,
    buyer: &str,
    lead: &str,
    reason: &str,
    now: chrono::NaiveDateTime,
) -> Result<store::disputes::DisputeRow, leadmarket::error::AppError> {
    app.with_conn(|c| {
        disputes::open(
            c,
            &settings(app),
            buyer,
            Some(lead),
            None,
            reason,
            "it is not a real person",
            buyer_actor(),
            now,
        )
    })
}

async fn the_platform_decides_what_it_can_check_at_once(app: &TestApp) {
    let (_, _, buyer, _, ids) = bought(app, 7).await;
    let now = store::now();
    let owed = |app: &TestApp| {
        app.with_conn(|c| store::credit::buyer_account(c, &buyer))
            .unwrap()
            .1
    };
    let before = owed(app);
    // The stored data changed after sale: a number that no longer parses, a disposable
    // address, a lead erased at the consumer's request, one the agency flagged.
    app.with_conn(|c| {
        diesel::update(leads::table.find(&ids[0]))
            .set(leads::phone.eq("+4400"))
            .execute(c)
            .unwrap();
        diesel::update(leads::table.find(&ids[1]))
            .set(leads::email.eq("x@mailinator.com"))
            .execute(c)
            .unwrap();
        diesel::update(leads::table.find(&ids[2]))
            .set(leads::status.eq("erased"))
            .execute(c)
            .unwrap();
        diesel::update(leads::table.find(&ids[3]))
            .set(leads::flags.eq("agency_flagged"))
            .execute(c)
            .unwrap();
        // The same person as lead 0, bought earlier by this buyer.
        let key: Option<Vec<u8>> = leads::table
            .find(&ids[5])
            .select(leads::phone_key)
            .first(c)
            .unwrap();
        diesel::update(leads::table.find(&ids[4]))
            .set(leads::phone_key.eq(key))
            .execute(c)
            .unwrap();
        diesel::update(purchases::table.filter(purchases::lead_id.eq(&ids[5])))
            .set(purchases::created_at.eq(now - chrono::TimeDelta::hours(1)))
            .execute(c)
            .unwrap();
    });
    for (i, reason, evidence) in [
        (0, "wrong_number", "phone_not_valid"),
        (1, "invalid_email", "email_not_valid"),
        (2, "prank", "erased"),
        (3, "bot", "agency_flagged"),
        (4, "duplicate", "bought_before"),
    ] {
        let d = open(app, &buyer, &ids[i], reason, now).unwrap();
        assert_eq!(
            (d.status, d.decided_by),
            (DisputeStatus::Approved, Some(DisputeActor::Platform)),
            "{reason}"
        );
        assert!(
            d.evidence.as_deref().unwrap().starts_with(evidence),
            "{reason}: {:?}",
            d.evidence
        );
    }
    // A claim the platform cannot check waits for the agency.
    let d = open(app, &buyer, &ids[6], "wrong_number", now).unwrap();
    assert_eq!(
        d.status,
        DisputeStatus::Open,
        "a valid number needs someone to look"
    );
    assert_eq!(credits(app), 5);
    let price: i64 = 1000;
    assert_eq!(
        before - owed(app),
        5 * price,
        "each credit comes off what the buyer owes"
    );
    // The bot, returned as fake, is withdrawn from sale to everyone.
    let status: String = app.with_conn(|c| {
        leads::table
            .find(&ids[3])
            .select(leads::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(status, "withdrawn");
    assert_ledger_balanced(app);
}

async fn the_window_and_the_cap_are_exact(app: &TestApp) {
    let (_, _, buyer, _, ids) = bought(app, 10).await;
    let bought_at: chrono::NaiveDateTime = app.with_conn(|c| {
        purchases::table
            .filter(purchases::lead_id.eq(&ids[0]))
            .select(purchases::created_at)
            .first(c)
            .unwrap()
    });
    let late = bought_at + chrono::TimeDelta::days(7) + chrono::TimeDelta::seconds(1);
    assert!(
        open(app, &buyer, &ids[0], "bot", late).is_err(),
        "past the window"
    );
    let edge = bought_at + chrono::TimeDelta::days(7);
    // Ten purchases: two disputes are exactly 20%, a third is over the cap.
    open(app, &buyer, &ids[0], "bot", edge).expect("exactly 7 days is inside");
    open(app, &buyer, &ids[1], "bot", store::now()).expect("20% exactly");
    let over = open(app, &buyer, &ids[2], "bot", store::now()).unwrap_err();
    assert!(format!("{over:?}").contains("at most 20%"), "{over:?}");
    let twice = open(app, &buyer, &ids[0], "prank", store::now()).unwrap_err();
    assert_eq!(twice.code(), "already_disputed", "{twice:?}");
    BuyerBuilder::new("Stranger").create(app).await;
    let stranger = app
        .with_conn(|c| store::organisations::find_by_slug(c, "stranger"))
        .unwrap();
    let not_theirs = open(app, &stranger.id, &ids[3], "bot", store::now());
    assert!(matches!(
        not_theirs,
        Err(leadmarket::error::AppError::NotFound)
    ));
}

async fn agencies_answer_and_finance_decides_the_rest_once(app: &TestApp) {
    let (agency, _, buyer, _, ids) = bought(app, 10).await;
    let now = store::now();
    let accepted = open(app, &buyer, &ids[0], "out_of_criteria", now).unwrap();
    let contested = open(app, &buyer, &ids[1], "competitor", now).unwrap();
    let (_, finance_email) = app.member(Role::Finance, "Platform");
    let _ = finance_email;
    let answer = |id: &str, accept: bool, comment: &str| {
        app.with_conn(|c| {
            disputes::agency_answer(
                c,
                &settings(app),
                &agency,
                id,
                if accept {
                    disputes::Answer::Accept
                } else {
                    disputes::Answer::Contest
                },
                comment,
                &Who::system(),
                store::now(),
            )
        })
    };
    let d = answer(&accepted.id, true, "fair enough").unwrap();
    assert_eq!(
        (d.status, d.decided_by),
        (DisputeStatus::Approved, Some(DisputeActor::Agency))
    );
    assert!(
        answer(&contested.id, false, "").is_err(),
        "contesting needs a reason"
    );
    let d = answer(&contested.id, false, "the consumer confirmed by phone").unwrap();
    assert_eq!(d.status, DisputeStatus::Contested);
    assert!(answer(&contested.id, true, "").is_err(), "answered once");
    assert_eq!(credits(app), 1);

    // Five more buyers' worth of time: no answer by the deadline goes to finance.
    let silent = {
        // A second buyer keeps the first within its cap.
        let Buyer {
            id: other_buyer,
            token: other_token,
        } = BuyerBuilder::new("Other")
            .credit(100_000_000)
            .create(app)
            .await;
        PurchaseBuilder::of([&ids[2]]).post(app, &other_token).await;
        open(app, &other_buyer, &ids[2], "prank", now).unwrap()
    };
    let escalated = app
        .with_conn(|c| {
            disputes::escalate_overdue(c, &settings(app), now + chrono::TimeDelta::days(1))
        })
        .unwrap();
    assert_eq!(escalated, 0, "not yet: three working days");
    let escalated = app
        .with_conn(|c| {
            disputes::escalate_overdue(c, &settings(app), now + chrono::TimeDelta::days(6))
        })
        .unwrap();
    assert_eq!(escalated, 1);
    let d = app
        .with_conn(|c| store::disputes::find(c, &silent.id))
        .unwrap();
    assert_eq!(d.status, DisputeStatus::Escalated);

    // Two finance users decide the same case at once: one decision stands.
    let pool = app.state.pool.clone();
    let config = app.state.config().clone();
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = [true, false, true, false]
            .into_iter()
            .map(|approve| {
                let (pool, config, id) = (pool.clone(), config.clone(), contested.id.clone());
                s.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    disputes::finance_decide(
                        &mut conn,
                        &Settings::from(&*config),
                        &id,
                        approve,
                        "decided",
                        &Who::system(),
                        store::now(),
                    )
                    .is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let decided = app
        .with_conn(|c| store::disputes::find(c, &contested.id))
        .unwrap();
    let expected_credits = if decided.status == DisputeStatus::Approved {
        2
    } else {
        1
    };
    assert_eq!(credits(app), expected_credits);
    let history = app
        .with_conn(|c| store::disputes::events(c, &contested.id))
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions[..2], ["opened", "contested"]);
    assert!(matches!(actions[2], "approved" | "rejected"));
    assert_eq!(actions.len(), 3);
    // Every step was mailed to the other side.
    let mails: i64 = app.with_conn(|c| {
        leadmarket::db::schema::outbox::table
            .filter(leadmarket::db::schema::outbox::template.eq("dispute_update"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert!(mails >= 6, "{mails}");
    // The next invoice picks the credit up, and matches the ledger.
    let ctx = leadmarket::services::billing::Ctx::from(app.state.live.environment());
    app.with_conn(|c| {
        leadmarket::services::billing::run(
            c,
            &ctx,
            leadmarket::domain::billing::Period::containing(store::now()),
        )
    })
    .unwrap();
    let invoice = app
        .with_conn(|c| store::invoices::list(c, Some(&buyer), false))
        .unwrap()
        .remove(0);
    let lines = app
        .with_conn(|c| store::invoices::lines_of(c, &invoice.id))
        .unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.kind == LineKind::Credit && l.amount_cents < 0),
        "{lines:?}"
    );
    let receivable = app
        .with_conn(|c| store::ledger::balance(c, "buyer_receivable", Some(&buyer)))
        .unwrap();
    assert_eq!(invoice.subtotal_cents, receivable);
    assert_ledger_balanced(app);
}

async fn disputes_through_the_api_are_scoped_to_their_sides(app: &TestApp) {
    let (_, agency_token, _, buyer_token, ids) = bought(app, 10).await;
    let resp = app
        .post_as(&buyer_token, "/api/v1/disputes")
        .json(&json!({"lead_id": ids[0], "reason": "competitor", "comment": "a rival's test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "open");
    let id = body["id"].as_str().unwrap().to_string();
    // A second dispute of the same purchase conflicts with the first, on the API...
    let resp = app
        .post_as(&buyer_token, "/api/v1/disputes")
        .json(&json!({"lead_id": ids[0], "reason": "bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "already_disputed", "{body}");
    // ...and the page sends the buyer to the list with a notice, not to an error page.
    let keystone = app
        .with_conn(|c| store::organisations::find_by_slug(c, "keystone"))
        .unwrap();
    let buyer_page = app.browser();
    buyer_page.login(&app.user(&keystone, Role::Buyer)).await;
    let csrf = buyer_page.csrf("/purchases").await;
    let resp = buyer_page
        .post_form(
            "/disputes",
            &[
                ("csrf_token", &csrf),
                ("lead_id", &ids[0]),
                ("reason", "bot"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    let (status, list) = buyer_page.get_text(&to).await;
    assert_eq!(status, 200);
    assert!(list.contains("You disputed this lead already"), "{list}");
    let resp = app
        .post_as(&buyer_token, "/api/v1/disputes")
        .json(&json!({"lead_id": ids[1], "reason": "ugly"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    // The agency sees it; another agency neither sees nor answers it.
    let (_, list) = app
        .get_json("/api/v1/disputes?status=open", &agency_token)
        .await;
    assert_eq!(list["disputes"].as_array().unwrap().len(), 1);
    let Agency {
        token: other_token, ..
    } = AgencyBuilder::new("Other Agency").create(app).await;
    let (_, list) = app.get_json("/api/v1/disputes", &other_token).await;
    assert_eq!(list["disputes"].as_array().unwrap().len(), 0);
    let resp = app
        .post_as(&other_token, &format!("/api/v1/disputes/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app
        .post_as(&agency_token, &format!("/api/v1/disputes/{id}/contest"))
        .json(&json!({"comment": "we checked the consent record"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "contested");
    // Finance's queue shows it with both sides.
    let (_, finance_email) = app.member(Role::Finance, "Platform");
    let desk = app.browser();
    desk.login(&finance_email).await;
    let (status, page) = desk.get_text("/finance/disputes").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("a rival&#39;s test") || page.contains("a rival's test"),
        "{page}"
    );
    assert!(page.contains("we checked the consent record"));
    let (status, help) = app.browser().get_text("/help/disputes").await;
    assert_eq!(status, 200);
    assert!(help.contains("phone_not_valid"));
}

async fn too_many_returns_suspend_an_agency_until_an_admin_lifts_it(app: &TestApp) {
    let (agency, _, buyer, _, ids) = bought(app, 10).await;
    let now = store::now();
    // 10 sales: one approved return is 10%, two are 20% (above 15%).
    for lead in &ids[..2] {
        let d = open(app, &buyer, lead, "out_of_criteria", now).unwrap();
        app.with_conn(|c| {
            disputes::agency_answer(
                c,
                &settings(app),
                &agency,
                &d.id,
                disputes::Answer::Accept,
                "",
                &Who::system(),
                store::now(),
            )
        })
        .unwrap();
    }
    let status: String = app.with_conn(|c| {
        organisations::table
            .find(&agency)
            .select(organisations::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(status, "suspended");
    let Buyer {
        token: other_token, ..
    } = BuyerBuilder::new("Browser").create(app).await;
    let (_, page) = app.get_json("/api/v1/catalogue", &other_token).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "its listings are hidden"
    );
    let suspended_mails: i64 = app.with_conn(|c| {
        leadmarket::db::schema::outbox::table
            .filter(leadmarket::db::schema::outbox::template.eq("agency_suspended"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert!(suspended_mails >= 1);
    // The agency sees its standing on its own page: 2 of 10 sales returned.
    let agency_org = app
        .with_conn(|c| store::organisations::find(c, &agency))
        .unwrap();
    let own = app.browser();
    own.login(&app.user(&agency_org, Role::Agency)).await;
    let (status, page) = own.get_text("/agency/disputes").await;
    assert_eq!(status, 200);
    assert!(page.contains("Your listings are suspended"), "{page}");
    assert!(page.contains("<strong>20.0%</strong>"), "{page}");
    assert!(page.contains("Above 15.0%"), "{page}");
    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;
    let csrf = admin.csrf("/admin/organisations").await;
    let resp = admin
        .post_form(
            &format!("/admin/organisations/{agency}/reinstate"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let (_, page) = app.get_json("/api/v1/catalogue", &other_token).await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty(), "listed again");
    assert!(items[0]["agency"]["quality_score"].as_f64().unwrap() > 0.15);
    assert_ledger_balanced(app);
}

async fn an_agency_that_flags_a_bad_lead_withdraws_it_and_later_returns_pass_at_once(
    app: &TestApp,
) {
    let (_, agency_token, _, buyer_token, ids) = bought(app, 2).await;
    // A second buyer bought the same lead too (max_sales 3).
    let Buyer {
        id: other_buyer,
        token: other_token,
    } = BuyerBuilder::new("Second Buyer")
        .credit(100_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of([&ids[0]]).post(app, &other_token).await;
    let resp = app.post_as(&buyer_token, "/api/v1/disputes")
        .json(&json!({"lead_id": ids[0], "reason": "fake_identity", "comment": "nobody by that name"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "open", "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    // A body that does not parse is refused, not taken for a plain accept.
    let resp = app
        .post_as(&agency_token, &format!("/api/v1/disputes/{id}/accept"))
        .json(&json!({"flag_lead": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let d = app.with_conn(|c| store::disputes::find(c, &id)).unwrap();
    assert_eq!(d.status, DisputeStatus::Open);
    let resp = app
        .post_as(&agency_token, &format!("/api/v1/disputes/{id}/accept"))
        .json(&json!({"comment": "our form was abused", "flag_lead": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["decided_by"].as_str()),
        (Some("approved"), Some("agency"))
    );
    let (status, flags): (String, String) = app.with_conn(|c| {
        leads::table
            .find(&ids[0])
            .select((leads::status, leads::flags))
            .first(c)
            .unwrap()
    });
    assert_eq!(status, "withdrawn");
    assert!(flags.split(',').any(|f| f == "agency_flagged"), "{flags}");
    // The other buyer's return of it needs no one to look: the agency said so.
    let d = open(app, &other_buyer, &ids[0], "out_of_criteria", store::now()).unwrap();
    assert_eq!(
        (d.status, d.decided_by),
        (DisputeStatus::Approved, Some(DisputeActor::Platform))
    );
    let history = app.with_conn(|c| store::disputes::events(c, &id)).unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["opened", "flagged", "approved"]);
    // The lead the agency only accepted stays on sale.
    let resp = app
        .post_as(&buyer_token, "/api/v1/disputes")
        .json(&json!({"lead_id": ids[1], "reason": "out_of_criteria"}))
        .send()
        .await
        .unwrap();
    let id: String = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .into();
    // This time on the agency's page, leaving the box unticked.
    let agency = app
        .with_conn(|c| store::organisations::find_by_slug(c, "acme-leads"))
        .unwrap();
    let web = app.browser();
    web.login(&app.user(&agency, Role::Agency)).await;
    let (status, page) = web.get_text("/agency/disputes").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("the lead is bad: withdraw it from sale"),
        "{page}"
    );
    let csrf = web.csrf("/agency/disputes").await;
    let resp = web
        .post_form(
            &format!("/agency/disputes/{id}/accept"),
            &[("csrf_token", &csrf), ("comment", "fair")],
        )
        .await;
    assert!(resp.status().is_redirection() || resp.status() == 200);
    let d = app.with_conn(|c| store::disputes::find(c, &id)).unwrap();
    assert_eq!(d.status, DisputeStatus::Approved);
    let status: String = app.with_conn(|c| {
        leads::table
            .find(&ids[1])
            .select(leads::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(status, "available");
    assert_ledger_balanced(app);
}

async fn dispute_pages_name_the_lead_and_only_the_buyer_sees_its_contact(app: &TestApp) {
    let (agency_id, _, buyer_id, _, ids) = bought(app, 1).await;
    // A reason the platform cannot check: the dispute waits for the agency.
    open(app, &buyer_id, &ids[0], "fake_identity", store::now()).unwrap();
    let captured: chrono::NaiveDateTime = app.with_conn(|c| {
        leads::table
            .find(&ids[0])
            .select(leads::captured_at)
            .first(c)
            .unwrap()
    });
    let day = captured.format("%-d %b %Y").to_string();
    let find = |id: &str| {
        app.with_conn(|c| store::organisations::find(c, id))
            .unwrap()
    };
    let contact = ["Ann0 Lee", "+447911110000", "ann0@example.com"];

    let buyer = app.browser();
    buyer.login(&app.user(&find(&buyer_id), Role::Buyer)).await;
    let (status, page) = buyer.get_text("/disputes").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("captured {day}, Travel and tours")),
        "{page}"
    );
    for c in contact {
        assert!(
            page.contains(c),
            "the buyer sees what it bought: {c}\n{page}"
        );
    }

    let agency = app.browser();
    agency
        .login(&app.user(&find(&agency_id), Role::Agency))
        .await;
    let (status, page) = agency.get_text("/agency/disputes").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("captured {day}, Travel and tours")),
        "{page}"
    );
    for c in contact.into_iter().chain(["Ann0", "contact erased"]) {
        assert!(!page.contains(c), "the agency's page shows {c}");
    }

    let (_, finance_email) = app.member(Role::Finance, "Platform");
    let desk = app.browser();
    desk.login(&finance_email).await;
    let (status, page) = desk.get_text("/finance/disputes?all=1").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("Lead: Travel and tours, captured {day}")),
        "{page}"
    );
    for c in contact.into_iter().chain(["Ann0"]) {
        assert!(!page.contains(c), "finance's queue shows {c}");
    }
    assert!(page.contains(&ids[0]), "the id stays, for support");
}
