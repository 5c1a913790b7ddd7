//! Billing: per-action charges (once per key, once per kind), the billing run and its
//! drafts, gapless invoice numbers under concurrent issuing, payments and credit notes,
//! statements and payouts, the mail outbox, and what a buyer may read.

use std::collections::HashSet;

use diesel::prelude::*;
use leadmarket::db::schema::{actions, invoices, ledger_entries, ledger_transactions, outbox};
use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::billing::InvoiceStatus;
use leadmarket::domain::ledger::StatementStatus;
use leadmarket::services::billing::{self, Ctx, NewPayment};
use leadmarket::store;
use serde_json::{Value, json};

use crate::builders::{
    Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder, an_issued_invoice,
    buyers_who_bought,
};
use crate::helpers::{
    TestApp, assert_ledger_balanced, completed_event_for, ctx, deliver, signed, this_month,
};
use crate::on_both_backends;

on_both_backends!(
    actions_are_charged_once_per_key_and_once_per_kind,
    concurrent_reports_of_one_action_charge_once,
    a_billing_run_drafts_invoices_that_match_the_ledger_and_issuing_numbers_them,
    concurrent_issuing_numbers_invoices_without_gaps,
    partial_payments_and_credit_notes_settle_an_invoice,
    statements_sum_an_agencys_sales_and_payouts_clear_them,
    the_outbox_sends_after_commit_once_and_never_for_a_rollback,
    finance_runs_billing_issues_and_records_payments_through_the_desk,
    buyers_report_actions_and_set_a_postback_url_from_their_pages,
    without_stripe_keys_there_is_no_card_payment,
);

on_both_backends!(with [("STRIPE_SECRET_KEY", "sk_test_fake"), ("STRIPE_WEBHOOK_SECRET", "whsec_test_0123456789abcdef")] =>
    stripe_webhooks_are_verified_and_processed_once,
    buyers_pay_by_card_through_checkout,
);

on_both_backends!(with [("MAIL_TRANSPORT", "smtp"), ("SMTP_URL", "smtp://127.0.0.1:1")] =>
    mail_that_cannot_be_sent_is_retried_later_not_lost,
);

/// An agency with `n` per-action leads (delivery fee 100, action 5000) and a buyer that
/// bought them all; returns (buyer token, lead ids).
async fn per_action_leads(app: &TestApp, n: usize) -> (String, String, Vec<String>) {
    let Agency { token, .. } = AgencyBuilder::new("Acme Leads").create(app).await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            LeadBuilder::new(i)
                .per_action(5000)
                .price_cents(100)
                .post(app, &token)
                .await,
        );
    }
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(1_000_000)
        .create(app)
        .await;
    PurchaseBuilder::of(&ids).post(app, &buyer).await;
    (buyer_id, buyer, ids)
}

async fn report(app: &TestApp, token: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = app.post_as(token, "/api/v1/actions").json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

fn action_transactions(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        ledger_transactions::table
            .filter(ledger_transactions::kind.eq("action"))
            .count()
            .get_result(c)
            .unwrap()
    })
}

async fn actions_are_charged_once_per_key_and_once_per_kind(app: &TestApp) {
    let (buyer_id, buyer, ids) = per_action_leads(app, 2).await;
    let owed_before = app
        .with_conn(|c| store::credit::buyer_account(c, &buyer_id))
        .unwrap()
        .1;
    let call = json!({"lead_id": ids[0], "kind": "call", "occurred_at": "2026-11-01T10:00:00Z"});
    let (status, first) = report(app, &buyer, Some("k1"), call.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["price_cents"], 5000);
    let (status, again) = report(app, &buyer, Some("k1"), call.clone()).await;
    assert_eq!(
        (status, &again["id"]),
        (200, &first["id"]),
        "same key: same action"
    );
    let (status, same_kind) = report(app, &buyer, Some("k2"), call.clone()).await;
    assert_eq!(
        (status, &same_kind["id"]),
        (200, &first["id"]),
        "same kind: same action"
    );
    let (status, _) = report(
        app,
        &buyer,
        Some("k1"),
        json!({"lead_id": ids[1], "kind": "call"}),
    )
    .await;
    assert_eq!(status, 422, "a key names one action");
    let (status, _) = report(
        app,
        &buyer,
        Some("k3"),
        json!({"lead_id": ids[0], "kind": "consultation"}),
    )
    .await;
    assert_eq!(status, 201, "another kind is another action");
    assert_eq!(action_transactions(app), 2);
    let owed_after = app
        .with_conn(|c| store::credit::buyer_account(c, &buyer_id))
        .unwrap()
        .1;
    assert_eq!(owed_after - owed_before, 10_000);

    // Refusals: no key, a bad kind, a lead the caller does not own.
    let (status, body) = report(
        app,
        &buyer,
        None,
        json!({"lead_id": ids[1], "kind": "call"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = report(
        app,
        &buyer,
        Some("k4"),
        json!({"lead_id": ids[1], "kind": "hug"}),
    )
    .await;
    assert_eq!(status, 422);
    let Buyer { token: other, .. } = BuyerBuilder::new("Other Buyer")
        .credit(1_000_000)
        .create(app)
        .await;
    let (status, _) = report(
        app,
        &other,
        Some("k5"),
        json!({"lead_id": ids[1], "kind": "call"}),
    )
    .await;
    assert_eq!(status, 404);
    let Agency {
        token: agency_token,
        ..
    } = AgencyBuilder::new("Plain Leads").create(app).await;
    let plain = LeadBuilder::new(90).post(app, &agency_token).await;
    PurchaseBuilder::of([&plain]).post(app, &buyer).await;
    let owed_bought = app
        .with_conn(|c| store::credit::buyer_account(c, &buyer_id))
        .unwrap()
        .1;
    let (status, body) = report(
        app,
        &buyer,
        Some("k6"),
        json!({"lead_id": plain, "kind": "call"}),
    )
    .await;
    // A per-lead lead's action is recorded for the funnel and charged nothing.
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["price_cents"], &body["charged"]),
        (&json!(0), &json!(false))
    );
    assert_eq!(action_transactions(app), 2, "no ledger transaction for it");
    let owed_free = app
        .with_conn(|c| store::credit::buyer_account(c, &buyer_id))
        .unwrap()
        .1;
    assert_eq!(owed_free, owed_bought, "the action added nothing to pay");

    // The postback URL: the same action through a token in the query.
    let token = app
        .with_conn(|c| billing::rotate_postback_token(c, &buyer_id))
        .unwrap();
    let postback = |token: String, key: &'static str| {
        let url = app.url(&format!(
            "/api/v1/postback?token={token}&lead_id={}&kind=purchase&key={key}",
            ids[1]
        ));
        async move { app.api().get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(postback(token.clone(), "p1").await, 201);
    assert_eq!(postback(token.clone(), "p1").await, 200);
    assert_eq!(postback("lmp_wrong".into(), "p2").await, 401);
    assert_eq!(action_transactions(app), 3);
    assert_ledger_balanced(app);
}

async fn concurrent_reports_of_one_action_charge_once(app: &TestApp) {
    let (_, buyer, ids) = per_action_leads(app, 1).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        // Half share one key, half bring their own: all are the same call.
        let key = if i % 2 == 0 {
            "same".to_string()
        } else {
            format!("own-{i}")
        };
        let request = app
            .post_as(&buyer, "/api/v1/actions")
            .header("Idempotency-Key", key)
            .json(&json!({"lead_id": ids[0], "kind": "call"}));
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    assert_eq!(action_transactions(app), 1);
    let n: i64 = app.with_conn(|c| actions::table.count().get_result(c).unwrap());
    assert_eq!(n, 1);
    assert_ledger_balanced(app);
}

fn receivable_of(app: &TestApp, buyer: &str) -> i64 {
    app.with_conn(|c| store::ledger::balance(c, "buyer_receivable", Some(buyer)))
        .unwrap()
}

async fn a_billing_run_drafts_invoices_that_match_the_ledger_and_issuing_numbers_them(
    app: &TestApp,
) {
    let buyers = buyers_who_bought(app, 2, 3).await;
    let summary = app
        .with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    assert_eq!((summary.drafts, summary.statements), (2, 1));
    // Running again rebuilds the same drafts rather than adding more.
    let again = app
        .with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    assert_eq!(again.drafts, 2);
    let drafts = app
        .with_conn(|c| store::invoices::list(c, Some(&buyers[0]), false))
        .unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    assert_eq!(draft.status, InvoiceStatus::Draft);
    assert_eq!(draft.subtotal_cents, receivable_of(app, &buyers[0]));
    let lines = app
        .with_conn(|c| store::invoices::lines_of(c, &draft.id))
        .unwrap();
    assert_eq!(
        lines.iter().map(|l| l.amount_cents).sum::<i64>(),
        draft.subtotal_cents
    );
    assert_eq!(lines.iter().map(|l| l.quantity).sum::<i64>(), 3);

    // A buyer never sees drafts.
    let (_, token) = {
        let org = app
            .with_conn(|c| store::organisations::find(c, &buyers[0]))
            .unwrap();
        (org.id.clone(), app.token(&app.api_key(&org)).await)
    };
    let (_, list) = app.get_json("/api/v1/invoices", &token).await;
    assert_eq!(list["invoices"].as_array().unwrap().len(), 0);
    let (status, _) = app
        .get_json(&format!("/api/v1/invoices/{}", draft.id), &token)
        .await;
    assert_eq!(status, 404);

    let issued = app
        .with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    let year = chrono::Datelike::year(&store::now());
    assert_eq!(
        issued.number.as_deref(),
        Some(format!("LM-{year}-000001").as_str())
    );
    assert!(issued.due_at.unwrap() > issued.issued_at.unwrap());
    let twice = app.with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()));
    assert!(matches!(
        twice,
        Err(leadmarket::error::AppError::Conflict { .. })
    ));
    let (status, body) = app
        .get_json(&format!("/api/v1/invoices/{}", draft.id), &token)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "issued");
    assert_eq!(body["total_cents"], draft.subtotal_cents);
    // Another buyer cannot read it.
    let other = app
        .with_conn(|c| store::organisations::find(c, &buyers[1]))
        .unwrap();
    let other_token = app.token(&app.api_key(&other)).await;
    let (status, _) = app
        .get_json(&format!("/api/v1/invoices/{}", draft.id), &other_token)
        .await;
    assert_eq!(status, 404);
    // Billed entries are not billed again.
    let third = app
        .with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    assert_eq!(third.drafts, 1, "only the other buyer's draft is rebuilt");
    assert_ledger_balanced(app);
}

async fn concurrent_issuing_numbers_invoices_without_gaps(app: &TestApp) {
    let buyers = buyers_who_bought(app, 6, 1).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let drafts: Vec<String> = app.with_conn(|c| {
        invoices::table
            .filter(invoices::status.eq("draft"))
            .select(invoices::id)
            .load(c)
            .unwrap()
    });
    assert_eq!(drafts.len(), buyers.len());
    // Two finance users at once, each issuing half, plus a second try of every draft.
    let pool = app.state.pool.clone();
    let config = app.state.config().clone();
    let numbers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = drafts
            .iter()
            .chain(drafts.iter())
            .map(|id| {
                let (pool, config) = (pool.clone(), config.clone());
                s.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    billing::issue(&mut conn, &Ctx::from(&*config), id, &Who::system())
                        .ok()
                        .and_then(|i| i.number)
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(
        numbers.len(),
        drafts.len(),
        "each draft issued once: {numbers:?}"
    );
    let year = chrono::Datelike::year(&store::now());
    let expected: HashSet<String> = (1..=drafts.len())
        .map(|n| format!("LM-{year}-{n:06}"))
        .collect();
    assert_eq!(numbers.into_iter().collect::<HashSet<_>>(), expected);
}

async fn partial_payments_and_credit_notes_settle_an_invoice(app: &TestApp) {
    let buyers = buyers_who_bought(app, 1, 2).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&buyers[0]), false))
        .unwrap()
        .remove(0);
    let invoice = app
        .with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    let total = invoice.total_cents;
    let owed_before = receivable_of(app, &buyers[0]);
    let pay = |amount: i64, reference: &'static str| {
        let id = invoice.id.clone();
        app.with_conn(move |c| {
            billing::record_payment(
                c,
                &ctx(app),
                &NewPayment {
                    invoice_id: &id,
                    method: "bank_transfer",
                    amount_cents: amount,
                    received_on: store::now(),
                    reference,
                    by: &Who::system(),
                },
            )
        })
    };
    let part = total * 4 / 10;
    pay(part, "TRF-1").unwrap();
    let now = store::now();
    let after = app
        .with_conn(|c| store::invoices::find(c, &invoice.id))
        .unwrap();
    let status = |i: &store::invoices::InvoiceRow| leadmarket::web::invoice_facts(i).status(now);
    assert_eq!(status(&after), "partly_paid");
    assert_eq!(receivable_of(app, &buyers[0]), owed_before - part);
    // More than is open is refused, and changes nothing.
    assert!(pay(total, "TRF-2").is_err());
    assert!(pay(0, "TRF-3").is_err());
    let unchanged = app
        .with_conn(|c| store::invoices::find(c, &invoice.id))
        .unwrap();
    assert_eq!(unchanged.paid_cents, part);

    // A credit note for the rest settles it, with its own number.
    let rest = total - part;
    let note = app
        .with_conn(|c| {
            billing::credit_note(c, &ctx(app), &invoice.id, rest, "goodwill", &Who::system())
        })
        .unwrap();
    let year = chrono::Datelike::year(&store::now());
    assert_eq!(
        note.number.as_deref(),
        Some(format!("CN-{year}-000001").as_str())
    );
    let settled = app
        .with_conn(|c| store::invoices::find(c, &invoice.id))
        .unwrap();
    assert_eq!(status(&settled), "paid");
    assert_eq!(receivable_of(app, &buyers[0]), owed_before - total);
    assert!(
        app.with_conn(|c| billing::credit_note(
            c,
            &ctx(app),
            &invoice.id,
            1,
            "again",
            &Who::system()
        ))
        .is_err(),
        "nothing left to credit"
    );
    let account = app
        .with_conn(|c| store::credit::buyer_account(c, &buyers[0]))
        .unwrap();
    assert_eq!(
        account.1,
        receivable_of(app, &buyers[0]),
        "owed follows the ledger"
    );
    assert_ledger_balanced(app);
}

async fn statements_sum_an_agencys_sales_and_payouts_clear_them(app: &TestApp) {
    buyers_who_bought(app, 2, 2).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let statements = app
        .with_conn(|c| store::statements::list(c, None, true))
        .unwrap();
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    let payable = app
        .with_conn(|c| store::ledger::balance(c, "agency_payable", Some(&s.agency_id)))
        .unwrap();
    assert_eq!(s.net_cents, -payable);
    assert_eq!(
        s.gross_cents - s.commission_cents - s.returns_cents,
        s.net_cents
    );
    assert_eq!(s.returns_cents, 0);
    assert!(s.commission_cents > 0);
    let paid = app
        .with_conn(|c| billing::mark_payout(c, &Who::system(), &s.id, store::now(), "PAYOUT-1"))
        .unwrap();
    assert_eq!(paid.status, StatementStatus::Paid);
    let payable = app
        .with_conn(|c| store::ledger::balance(c, "agency_payable", Some(&s.agency_id)))
        .unwrap();
    assert_eq!(payable, 0);
    assert!(
        app.with_conn(|c| billing::mark_payout(c, &Who::system(), &s.id, store::now(), "PAYOUT-2"))
            .is_err()
    );
    // A later run does not bill the payout or the old sales again.
    let again = app
        .with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    assert_eq!(again.statements, 0);
    assert_ledger_balanced(app);
}

async fn the_outbox_sends_after_commit_once_and_never_for_a_rollback(app: &TestApp) {
    let buyers = buyers_who_bought(app, 1, 1).await;
    let (buyer_org, _) = (buyers[0].clone(), ());
    let people = app
        .with_conn(|c| store::users::active_emails(c, &buyer_org))
        .unwrap();
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&buyer_org), false))
        .unwrap()
        .remove(0);
    // A payment that fails (nothing issued yet) rolls back: no mail for it.
    let failed = app.with_conn(|c| {
        billing::record_payment(
            c,
            &ctx(app),
            &NewPayment {
                invoice_id: &draft.id,
                method: "bank_transfer",
                amount_cents: 1,
                received_on: store::now(),
                reference: "TRF",
                by: &Who::system(),
            },
        )
    });
    assert!(failed.is_err());
    app.with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    let templates: Vec<String> = app.with_conn(|c| {
        outbox::table
            .filter(outbox::template.ne("statement_ready"))
            .select(outbox::template)
            .load(c)
            .unwrap()
    });
    assert_eq!(templates, vec!["invoice_issued".to_string(); people.len()]);
    // The worker sends each mail once.
    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = app.state.mailer.sent();
        let pending: i64 = app.with_conn(|c| {
            outbox::table
                .filter(outbox::status.ne("sent"))
                .count()
                .get_result(c)
                .unwrap()
        });
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let total: i64 = app.with_conn(|c| outbox::table.count().get_result(c).unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let sent_later = app.state.mailer.sent();
    assert_eq!(sent.len() as i64, total, "every mail sent");
    assert_eq!(sent_later.len(), sent.len(), "and only once");
    let invoice_mail = sent
        .iter()
        .find(|m| m.subject.starts_with("Invoice LM-"))
        .expect("the invoice mail");
    assert!(people.contains(&invoice_mail.to));
    assert!(invoice_mail.text.contains("/invoices/"));
    let entries: i64 = app.with_conn(|c| ledger_entries::table.count().get_result(c).unwrap());
    assert!(entries > 0);
}

/// The id in a `href="/prefix/<id>"` of a page.
fn first_link(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(&format!("href=\"{prefix}"))? + 6 + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

async fn finance_runs_billing_issues_and_records_payments_through_the_desk(app: &TestApp) {
    let buyers = buyers_who_bought(app, 1, 2).await;
    let buyer_org = app
        .with_conn(|c| store::organisations::find(c, &buyers[0]))
        .unwrap();
    let buyer_email = app.user(&buyer_org, Role::Buyer);
    let (_, finance_email) = app.member(Role::Finance, "Platform");
    let desk = app.browser();
    desk.login(&finance_email).await;
    let csrf = desk.csrf("/finance/invoices").await;
    let period = this_month().code();
    let resp = desk
        .post_form(
            "/finance/billing-run",
            &[("csrf_token", &csrf), ("period", &period)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = desk
        .post_form(
            "/finance/billing-run",
            &[("csrf_token", &csrf), ("period", "2026-13")],
        )
        .await;
    assert_eq!(resp.status(), 422, "a bad month is refused with a message");
    let (status, list) = desk.get_text("/finance/invoices?status=draft").await;
    assert_eq!(status, 200);
    let id = first_link(&list, "/finance/invoices/").expect("a draft in the list");
    let (_, draft) = desk.get_text(&format!("/finance/invoices/{id}")).await;
    assert!(draft.contains("Issue invoice"), "{draft}");
    // The buyer cannot read a draft, even by its address.
    let buyer = app.browser();
    buyer.login(&buyer_email).await;
    let (status, _) = buyer.get_text(&format!("/invoices/{id}")).await;
    assert_eq!(status, 404);

    let resp = desk
        .post_form(
            &format!("/finance/invoices/{id}/issue"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = desk
        .post_form(
            &format!("/finance/invoices/{id}/issue"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(resp.status(), 409, "issued once");
    let today = store::now().format("%Y-%m-%d").to_string();
    let resp = desk
        .post_form(
            &format!("/finance/invoices/{id}/payments"),
            &[
                ("csrf_token", &csrf),
                ("amount", "5"),
                ("received_on", &today),
                ("reference", "TRF-77"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let resp = desk
        .post_form(
            &format!("/finance/invoices/{id}/payments"),
            &[
                ("csrf_token", &csrf),
                ("amount", "lots"),
                ("received_on", &today),
                ("reference", "x"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let (_, page) = desk.get_text(&format!("/finance/invoices/{id}")).await;
    assert!(
        page.contains("partly_paid") && page.contains("TRF-77"),
        "{page}"
    );

    // The buyer reads its issued invoice: printable, with the open amount and no card.
    let (status, printable) = buyer.get_text(&format!("/invoices/{id}")).await;
    assert_eq!(status, 200);
    let year = chrono::Datelike::year(&store::now());
    assert!(printable.contains(&format!("LM-{year}-000001")));
    assert!(printable.contains("bank transfer only"));
    let (status, csv) = buyer.get_text(&format!("/invoices/{id}.csv")).await;
    assert_eq!(status, 200);
    // Page CSVs are for people: major units and the currency, never `_cents`.
    assert!(
        csv.starts_with("invoice,description,quantity,unit,amount,currency\n"),
        "{csv}"
    );
    assert!(!csv.contains("_cents"), "{csv}");
    let total: Vec<&str> = csv
        .lines()
        .find(|l| l.contains(",total,"))
        .unwrap()
        .split(',')
        .collect();
    let (whole, cents) = total[4].split_once('.').expect("a decimal amount");
    assert!(
        whole.parse::<i64>().unwrap() > 0 && cents.len() == 2,
        "{total:?}"
    );
    assert_eq!(total[5], "EUR");
    let (_, list) = buyer.get_text("/invoices").await;
    assert!(list.contains("partly_paid"));
    // Another buyer may not.
    let (other, other_email) = app.member(Role::Buyer, "Nosy Buyer");
    let _ = other;
    let nosy = app.browser();
    nosy.login(&other_email).await;
    let (status, _) = nosy.get_text(&format!("/invoices/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = nosy.get_text("/finance/invoices").await;
    assert_eq!(status, 403);

    // The rest of the desk answers, and the ledger balances.
    for page in [
        "/finance/aging",
        "/finance/payouts",
        &format!("/finance/buyers/{}", buyers[0]),
    ] {
        let (status, _) = desk.get_text(page).await;
        assert_eq!(status, 200, "{page}");
    }
    let (_, ledger) = desk.get_text("/finance/ledger").await;
    assert!(ledger.contains("The ledger balances"), "{ledger}");
    let (status, csv) = desk.get_text("/finance/exports/ledger.csv").await;
    assert_eq!(status, 200);
    assert!(csv.lines().count() > 5);
    assert!(
        csv.starts_with(
            "created_at,transaction_id,kind,description,account,organisation,amount,currency\n"
        ),
        "{csv}"
    );
    // The payment of 5 received: cash up 5.00 EUR, the receivable down as a plain number.
    assert!(
        csv.lines().any(|l| l.ends_with(",cash,platform,5.00,EUR")),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.ends_with(",-5.00,EUR")), "{csv}");
    let (_, csv) = desk.get_text("/finance/exports/invoices.csv").await;
    assert!(csv.contains(&format!("LM-{year}-000001")));
    assert!(
        csv.starts_with("number,kind,status,buyer,buyer_id,period,issued_at,due_at,subtotal,tax,total,paid,credited,open,currency,invoice_id\n"),
        "{csv}"
    );
    let invoice_line = csv.lines().find(|l| l.contains("LM-")).unwrap();
    assert!(
        invoice_line.contains(",5.00,0.00,"),
        "paid 5.00, credited nothing: {invoice_line}"
    );
    let (_, csv) = desk.get_text("/finance/exports/payments.csv").await;
    assert!(csv.contains("TRF-77"));
    assert!(
        csv.starts_with(
            "received_on,buyer,invoice,method,amount,currency,reference,transaction_id\n"
        ),
        "{csv}"
    );
    assert!(csv.contains(",5.00,EUR,TRF-77,"), "{csv}");

    // The agency's statement, and its payout.
    let (_, payouts) = desk.get_text("/finance/payouts").await;
    let statement = app
        .with_conn(|c| store::statements::list(c, None, true))
        .unwrap()
        .remove(0)
        .id;
    assert!(payouts.contains(&format!("/finance/statements/{statement}/paid")));
    let resp = desk
        .post_form(
            &format!("/finance/statements/{statement}/paid"),
            &[
                ("csrf_token", &csrf),
                ("paid_on", &today),
                ("reference", "PAY-1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_ledger_balanced(app);
}

async fn buyers_report_actions_and_set_a_postback_url_from_their_pages(app: &TestApp) {
    let (buyer_id, _, ids) = per_action_leads(app, 1).await;
    let org = app
        .with_conn(|c| store::organisations::find(c, &buyer_id))
        .unwrap();
    let email = app.user(&org, Role::Buyer);
    let b = app.browser();
    b.login(&email).await;
    let (_, page) = b.get_text("/purchases").await;
    assert!(
        page.contains("Report"),
        "per-action leads offer the report form"
    );
    let csrf = b.csrf("/purchases").await;
    for _ in 0..2 {
        let resp = b
            .post_form(
                "/purchases/actions",
                &[
                    ("csrf_token", &csrf),
                    ("lead_id", &ids[0]),
                    ("kind", "call"),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert_eq!(resp.status(), 303);
    }
    assert_eq!(action_transactions(app), 1, "a double click charges once");
    let resp = b
        .post_form("/settings/postback-token", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let start = html.find("token=").unwrap() + 6;
    let token: String = html[start..].chars().take_while(|c| *c != '&').collect();
    let url = app.url(&format!(
        "/api/v1/postback?token={token}&lead_id={}&kind=consultation&key=crm-1",
        ids[0]
    ));
    assert_eq!(app.api().get(url).send().await.unwrap().status(), 201);
    let resp = b
        .post_form(
            "/settings/billing-address",
            &[
                ("csrf_token", &csrf),
                (
                    "billing_address",
                    "Keystone GmbH\nHauptstr. 1\n10115 Berlin",
                ),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let stored = app
        .with_conn(|c| store::organisations::billing_address(c, &buyer_id))
        .unwrap();
    assert!(stored.contains("Hauptstr. 1"));
}

fn completed_event(event_id: &str, invoice_id: &str, amount: i64) -> Vec<u8> {
    completed_event_for("pi_test_1", event_id, invoice_id, amount)
}

async fn stripe_webhooks_are_verified_and_processed_once(app: &TestApp) {
    let (buyer, invoice_id, total) = an_issued_invoice(app).await;
    let body = completed_event("evt_1", &invoice_id, total);
    // Bad signatures, stale ones and none at all change nothing.
    let (status, _) = deliver(app, &body, None).await;
    assert_eq!(status, 400);
    let forged = Some(leadmarket::payments::sign(
        &body,
        b"not the secret",
        chrono::Utc::now().timestamp(),
    ));
    assert_eq!(deliver(app, &body, forged).await.0, 400);
    assert_eq!(
        deliver(app, &body, signed(&body, 301)).await.0,
        400,
        "older than 5 minutes"
    );
    let tampered = completed_event("evt_1", &invoice_id, total + 1);
    assert_eq!(deliver(app, &tampered, signed(&body, 0)).await.0, 400);
    let paid = || {
        app.with_conn(|c| store::invoices::find(c, &invoice_id))
            .unwrap()
            .paid_cents
    };
    assert_eq!(paid(), 0);

    let (status, reply) = deliver(app, &body, signed(&body, 10)).await;
    assert_eq!(
        (status, reply["result"].as_str()),
        (200, Some("paid")),
        "{reply}"
    );
    assert_eq!(paid(), total);
    let (status, reply) = deliver(app, &body, signed(&body, 0)).await;
    assert_eq!((status, reply["result"].as_str()), (200, Some("replay")));
    assert_eq!(paid(), total, "a replay changes nothing");
    let payments = app
        .with_conn(|c| store::payments::list(c, Some(&invoice_id), None))
        .unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0].method.as_str(), payments[0].reference.as_str()),
        ("card", "pi_test_1")
    );
    assert_eq!(receivable_of(app, &buyer), 0);

    // Unknown event types are answered 200 and ignored.
    let other = serde_json::to_vec(
        &json!({"id": "evt_2", "type": "customer.created", "data": {"object": {}}}),
    )
    .unwrap();
    let (status, reply) = deliver(app, &other, signed(&other, 0)).await;
    assert_eq!((status, reply["result"].as_str()), (200, Some("ignored")));
    // Another payment (intent) for a paid invoice is not applied: finance applies or
    // refunds it from the unapplied payments.
    let extra = completed_event_for("pi_test_3", "evt_3", &invoice_id, 100);
    let (status, reply) = deliver(app, &extra, signed(&extra, 0)).await;
    assert_eq!((status, reply["result"].as_str()), (200, Some("unapplied")));
    assert_eq!(paid(), total);
    assert_ledger_balanced(app);
}

async fn buyers_pay_by_card_through_checkout(app: &TestApp) {
    let (buyer_id, invoice_id, total) = an_issued_invoice(app).await;
    let org = app
        .with_conn(|c| store::organisations::find(c, &buyer_id))
        .unwrap();
    let email = app.user(&org, Role::Buyer);
    let b = app.browser();
    b.login(&email).await;
    let (_, page) = b.get_text(&format!("/invoices/{invoice_id}")).await;
    assert!(
        page.contains("by card") && !page.contains("bank transfer only"),
        "{page}"
    );
    let csrf = b.csrf(&format!("/invoices/{invoice_id}")).await;
    let resp = b
        .post_form(
            &format!("/invoices/{invoice_id}/pay"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("https://checkout.stripe.test/pay/cs_test_"));
    let requests = app
        .fake_payments
        .as_ref()
        .unwrap()
        .requests
        .lock()
        .unwrap()
        .clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].invoice_id.as_str(), requests[0].amount_cents),
        (invoice_id.as_str(), total)
    );
    assert!(
        requests[0]
            .success_url
            .ends_with(&format!("/invoices/{invoice_id}?paid=1"))
    );
}

async fn without_stripe_keys_there_is_no_card_payment(app: &TestApp) {
    let (_, invoice_id, total) = an_issued_invoice(app).await;
    let body = completed_event("evt_1", &invoice_id, total);
    assert_eq!(deliver(app, &body, signed(&body, 0)).await.0, 404);
}

async fn mail_that_cannot_be_sent_is_retried_later_not_lost(app: &TestApp) {
    let buyers = buyers_who_bought(app, 1, 1).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&buyers[0]), false))
        .unwrap()
        .remove(0);
    app.with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    // Nothing listens on port 1: every attempt fails, and is kept for a later retry.
    let mut row = None;
    for _ in 0..100 {
        let r: (String, i32, Option<String>, chrono::NaiveDateTime) = app.with_conn(|c| {
            outbox::table
                .filter(outbox::template.eq("invoice_issued"))
                .select((
                    outbox::status,
                    outbox::attempts,
                    outbox::last_error,
                    outbox::next_attempt_at,
                ))
                .first(c)
                .unwrap()
        });
        if r.1 > 0 {
            row = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, attempts, error, next) = row.expect("an attempt was made");
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.is_some());
    assert!(next > store::now(), "retried later, not hammered");
}
