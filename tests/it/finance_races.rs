//! Finance actions that must happen once: a form sent twice (a double click) records
//! once, concurrent billing runs draft each buyer once and never an empty draft, one
//! payment intent pays once whatever its events, and card money above what is open is
//! kept as an unapplied payment that finance applies or refunds.

use diesel::prelude::*;
use leadmarket::db::schema::{invoices, payments};
use leadmarket::domain::Role;
use leadmarket::domain::audit::{AuditAction, AuditActor, Who};
use leadmarket::domain::billing::InvoiceStatus;
use leadmarket::domain::ledger::UnappliedStatus;
use leadmarket::services::billing;
use leadmarket::store;

use crate::builders::{
    Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder, an_issued_invoice,
    buyers_who_bought,
};
use crate::helpers::{
    Browser, TestApp, assert_ledger_balanced, completed_event_for, csrf_from, ctx, deliver, signed,
    this_month,
};
use crate::on_both_backends;

on_both_backends!(
    a_payment_form_sent_twice_at_once_records_one_payment,
    a_credit_note_form_sent_twice_at_once_issues_one_credit_note,
    concurrent_billing_runs_for_one_period_draft_each_buyer_once_and_never_empty,
);

on_both_backends!(with [("STRIPE_SECRET_KEY", "sk_test_fake"), ("STRIPE_WEBHOOK_SECRET", "whsec_test_0123456789abcdef")] =>
    two_stripe_events_for_one_payment_intent_record_one_payment,
    a_card_payment_above_the_open_amount_is_kept_unapplied_and_finance_applies_it_to_another_invoice,
);

/// The value of the hidden `form_token` input that follows `action="{action}"`.
fn form_token_of(html: &str, action: &str) -> String {
    let at = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form for {action} in {html}"));
    let rest = &html[at..];
    let marker = "name=\"form_token\" value=\"";
    let start = rest.find(marker).expect("a form_token") + marker.len();
    rest[start..].split('"').next().unwrap().to_string()
}

async fn finance_desk(app: &TestApp) -> Browser {
    let (_, email) = app.member(Role::Finance, "Platform");
    let desk = app.browser();
    desk.login(&email).await;
    desk
}

fn payments_of(app: &TestApp, invoice_id: &str) -> Vec<store::payments::PaymentRow> {
    app.with_conn(|c| store::payments::list(c, Some(invoice_id), None))
        .unwrap()
}

async fn a_payment_form_sent_twice_at_once_records_one_payment(app: &TestApp) {
    let (_, invoice_id, _) = an_issued_invoice(app).await;
    let desk = finance_desk(app).await;
    let page_path = format!("/finance/invoices/{invoice_id}");
    let (_, page) = desk.get_text(&page_path).await;
    let csrf = csrf_from(&page).unwrap();
    let action = format!("/finance/invoices/{invoice_id}/payments");
    let token = form_token_of(&page, &action);
    let today = store::now().format("%Y-%m-%d").to_string();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("form_token", token.as_str()),
        ("amount", "5"),
        ("received_on", today.as_str()),
        ("reference", "TRF-DOUBLE"),
    ];
    let (a, b) = tokio::join!(
        desk.post_form(&action, &form),
        desk.post_form(&action, &form)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    let paid = payments_of(app, &invoice_id);
    assert_eq!(paid.len(), 1, "{paid:?}");
    let invoice = app
        .with_conn(|c| store::invoices::find(c, &invoice_id))
        .unwrap();
    assert_eq!(invoice.paid_cents, 500);
    // Sent again later (the back button): still once, and the desk says so.
    let again = desk.post_form(&action, &form).await;
    let location = again.headers()["location"].to_str().unwrap().to_string();
    let (_, page) = desk.get_text(&location).await;
    assert!(page.contains("recorded once"), "{page}");
    assert_eq!(payments_of(app, &invoice_id).len(), 1);
    // A fresh form records a second payment.
    let (_, page) = desk.get_text(&page_path).await;
    let fresh = form_token_of(&page, &action);
    assert_ne!(fresh, token);
    let mut form = form;
    form[1].1 = &fresh;
    assert_eq!(desk.post_form(&action, &form).await.status(), 303);
    assert_eq!(payments_of(app, &invoice_id).len(), 2);
    assert_ledger_balanced(app);
}

async fn a_credit_note_form_sent_twice_at_once_issues_one_credit_note(app: &TestApp) {
    let (_, invoice_id, _) = an_issued_invoice(app).await;
    let desk = finance_desk(app).await;
    let (_, page) = desk
        .get_text(&format!("/finance/invoices/{invoice_id}"))
        .await;
    let csrf = csrf_from(&page).unwrap();
    let action = format!("/finance/invoices/{invoice_id}/credit-notes");
    let token = form_token_of(&page, &action);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("form_token", token.as_str()),
        ("amount", "2.50"),
        ("reason", "goodwill"),
    ];
    let (a, b) = tokio::join!(
        desk.post_form(&action, &form),
        desk.post_form(&action, &form)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    let notes: i64 = app.with_conn(|c| {
        invoices::table
            .filter(invoices::corrects_id.eq(&invoice_id))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(notes, 1);
    let invoice = app
        .with_conn(|c| store::invoices::find(c, &invoice_id))
        .unwrap();
    assert_eq!(invoice.credited_cents, 250);
    assert_ledger_balanced(app);
}

async fn concurrent_billing_runs_for_one_period_draft_each_buyer_once_and_never_empty(
    app: &TestApp,
) {
    let buyers = buyers_who_bought(app, 4, 2).await;
    let period = this_month();
    let runs = 3;
    let barrier = std::sync::Barrier::new(runs);
    let config = app.state.config().clone();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..runs)
            .map(|_| {
                let mut conn = app.conn();
                let (barrier, config) = (&barrier, config.clone());
                s.spawn(move || {
                    barrier.wait();
                    billing::run(&mut conn, &billing::Ctx::from(&*config), period)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut ran = 0;
    for r in &results {
        match r {
            Ok(_) => ran += 1,
            Err(leadmarket::error::AppError::Conflict {
                code: "billing_run_in_progress",
                ..
            }) => {}
            Err(e) => panic!("a run failed: {e:?}"),
        }
    }
    assert!(ran >= 1);
    let check = |app: &TestApp| {
        let drafts = app
            .with_conn(|c| store::invoices::list(c, None, false))
            .unwrap();
        for d in &drafts {
            assert!(d.subtotal_cents > 0, "an empty draft: {d:?}");
            let lines = app
                .with_conn(|c| store::invoices::lines_of(c, &d.id))
                .unwrap();
            assert!(!lines.is_empty(), "a draft without lines: {d:?}");
        }
        let mut of: Vec<&str> = drafts.iter().map(|d| d.buyer_id.as_str()).collect();
        of.sort_unstable();
        let mut want: Vec<&str> = buyers.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(of, want, "one draft per buyer");
    };
    check(app);
    // The period is free again once the runs are over: a rerun rebuilds the same drafts.
    app.with_conn(|c| billing::run(c, &ctx(app), period))
        .unwrap();
    check(app);
    assert_ledger_balanced(app);

    // The desk says so when a run for the month is under way.
    app.with_conn(|c| {
        diesel::insert_into(leadmarket::db::schema::billing_runs::table)
            .values((
                leadmarket::db::schema::billing_runs::period.eq("2026-01"),
                leadmarket::db::schema::billing_runs::started_at.eq(store::now()),
            ))
            .execute(c)
            .unwrap()
    });
    let desk = finance_desk(app).await;
    let csrf = desk.csrf("/finance/invoices").await;
    let resp = desk
        .post_form(
            "/finance/billing-run",
            &[("csrf_token", &csrf), ("period", "2026-01")],
        )
        .await;
    assert_eq!(resp.status(), 409);
    assert!(resp.text().await.unwrap().contains("in progress"));
}

async fn two_stripe_events_for_one_payment_intent_record_one_payment(app: &TestApp) {
    let (_, invoice_id, total) = an_issued_invoice(app).await;
    // A part of the invoice, so a second recording would fit under what is open.
    let part = total / 3;
    let first = completed_event_for("pi_once", "evt_a", &invoice_id, part);
    let second = completed_event_for("pi_once", "evt_b", &invoice_id, part);
    let (a, b) = tokio::join!(
        deliver(app, &first, signed(&first, 0)),
        deliver(app, &second, signed(&second, 0))
    );
    assert_eq!((a.0, b.0), (200, 200));
    let mut results = vec![
        a.1["result"].as_str().unwrap().to_string(),
        b.1["result"].as_str().unwrap().to_string(),
    ];
    results.sort();
    assert_eq!(results, ["paid", "replay"]);
    let paid = payments_of(app, &invoice_id);
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert_eq!(paid[0].reference, "pi_once");
    let invoice = app
        .with_conn(|c| store::invoices::find(c, &invoice_id))
        .unwrap();
    assert_eq!(invoice.paid_cents, part);
    // A third event for the same intent, later: still nothing more.
    let third = completed_event_for("pi_once", "evt_c", &invoice_id, part);
    let (_, reply) = deliver(app, &third, signed(&third, 0)).await;
    assert_eq!(reply["result"], "replay");
    assert_eq!(payments_of(app, &invoice_id).len(), 1);
    assert_ledger_balanced(app);
}

/// A buyer with two issued invoices; returns (buyer id, first invoice, second invoice).
async fn a_buyer_with_two_issued_invoices(
    app: &TestApp,
) -> (
    String,
    store::invoices::InvoiceRow,
    store::invoices::InvoiceRow,
) {
    let Agency {
        token: agency_token,
        ..
    } = AgencyBuilder::new("Acme Leads").create(app).await;
    let Buyer {
        id: buyer_id,
        token: buyer,
    } = BuyerBuilder::new("Keystone")
        .credit(10_000_000)
        .create(app)
        .await;
    let mut issued = Vec::new();
    for round in 0..2 {
        let lead = LeadBuilder::new(round).post(app, &agency_token).await;
        PurchaseBuilder::of([&lead]).post(app, &buyer).await;
        app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
            .unwrap();
        let draft = app
            .with_conn(|c| store::invoices::list(c, Some(&buyer_id), false))
            .unwrap()
            .into_iter()
            .find(|i| i.status == InvoiceStatus::Draft)
            .expect("a draft");
        issued.push(
            app.with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
                .unwrap(),
        );
    }
    let second = issued.pop().unwrap();
    (buyer_id, issued.pop().unwrap(), second)
}

async fn a_card_payment_above_the_open_amount_is_kept_unapplied_and_finance_applies_it_to_another_invoice(
    app: &TestApp,
) {
    let (_, first, second) = a_buyer_with_two_issued_invoices(app).await;
    let excess = 700;
    assert!(second.total_cents > excess);
    let body = completed_event_for("pi_over", "evt_over", &first.id, first.total_cents + excess);
    let (status, reply) = deliver(app, &body, signed(&body, 0)).await;
    assert_eq!((status, reply["result"].as_str()), (200, Some("paid")));
    let invoice = |id: &str| app.with_conn(|c| store::invoices::find(c, id)).unwrap();
    assert_eq!(invoice(&first.id).paid_cents, first.total_cents);
    assert_ledger_balanced(app);

    let desk = finance_desk(app).await;
    let (status, page) = desk.get_text("/finance/unapplied").await;
    assert_eq!(status, 200);
    assert!(page.contains("pi_over") && page.contains("7.00"), "{page}");
    let number = second.number.clone().unwrap();
    assert!(
        page.contains(&number),
        "the buyer's open invoice is offered: {page}"
    );
    let unapplied_id = app
        .with_conn(|c| store::unapplied::list(c, true))
        .unwrap()
        .remove(0)
        .id;
    let action = format!("/finance/unapplied/{unapplied_id}/apply");
    let token = form_token_of(&page, &action);
    let csrf = csrf_from(&page).unwrap();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("form_token", token.as_str()),
        ("invoice_id", second.id.as_str()),
    ];
    let (a, b) = tokio::join!(
        desk.post_form(&action, &form),
        desk.post_form(&action, &form)
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    assert_eq!(invoice(&second.id).paid_cents, excess, "applied once");
    assert_eq!(payments_of(app, &second.id).len(), 1);
    let (_, page) = desk.get_text("/finance/unapplied").await;
    assert!(page.contains("No unapplied payments"), "{page}");
    assert_ledger_balanced(app);

    // Another overpayment, refunded instead: recorded, and the ledger still balances.
    let body = completed_event_for("pi_more", "evt_more", &first.id, 300);
    let (_, reply) = deliver(app, &body, signed(&body, 0)).await;
    assert_eq!(reply["result"], "unapplied");
    let (_, page) = desk.get_text("/finance/unapplied").await;
    let refund_id = app
        .with_conn(|c| store::unapplied::list(c, true))
        .unwrap()
        .remove(0)
        .id;
    let action = format!("/finance/unapplied/{refund_id}/refund");
    let token = form_token_of(&page, &action);
    let resp = desk
        .post_form(
            &action,
            &[
                ("csrf_token", csrf.as_str()),
                ("form_token", token.as_str()),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let row = app
        .with_conn(|c| store::unapplied::find(c, &refund_id))
        .unwrap();
    assert_eq!(row.status, UnappliedStatus::Refunded);
    let cash_payments: i64 = app.with_conn(|c| {
        payments::table
            .filter(payments::method.eq("card"))
            .count()
            .get_result(c)
            .unwrap()
    });
    assert_eq!(
        cash_payments, 2,
        "the first invoice's and the applied excess"
    );
    assert_ledger_balanced(app);
    // Each step is in the audit log: Stripe's card payment as the system, the applied
    // excess and the refund as finance.
    let log = app.with_conn(|c| store::audit::recent(c, 100).unwrap());
    let actors = |a: AuditAction| -> Vec<AuditActor> {
        log.iter()
            .filter(|e| e.action == a)
            .map(|e| e.actor)
            .collect()
    };
    assert_eq!(actors(AuditAction::PaymentRefunded), [AuditActor::Finance]);
    let paid = actors(AuditAction::PaymentRecorded);
    assert!(
        paid.contains(&AuditActor::System) && paid.contains(&AuditActor::Finance),
        "{paid:?}"
    );
}
