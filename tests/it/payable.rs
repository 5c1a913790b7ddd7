//! Invoices that can be paid and add up, and honest numbers on pages (issue 19, items 4
//! and 5): the seller and bank details on the invoice, credits and debts carried forward
//! instead of negative invoices and payouts, one statement per period, "Earned" that
//! agrees with the statements, and disputes that name the lead.

use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::billing::{InvoiceStatus, Period};
use leadmarket::domain::disputes::DisputeActor;
use leadmarket::domain::ledger::StatementStatus;
use leadmarket::services::billing;
use leadmarket::services::disputes::{self, Actor, Settings};
use leadmarket::store;

use crate::builders::{
    Agency, AgencyBuilder, Buyer, BuyerBuilder, LeadBuilder, PurchaseBuilder, an_issued_invoice,
};
use crate::helpers::{TestApp, assert_ledger_balanced, ctx, this_month};
use crate::on_both_backends;

on_both_backends!(with [
    ("SELLER_NAME", "Leadmarket Operations GmbH"),
    ("SELLER_ADDRESS", "Friedrichstrasse 1\\n10117 Berlin"),
    ("SELLER_VAT_ID", "DE999999999"),
    ("PAYMENT_IBAN", "DE02 1001 0010 0006 8201 01"),
    ("PAYMENT_BIC", "PBNKDEFF"),
    ("PAYMENT_ACCOUNT_HOLDER", "Leadmarket Operations GmbH"),
] =>
    an_invoice_names_its_seller_and_how_to_pay_it,
);

on_both_backends!(
    an_invoice_without_bank_details_says_so_plainly,
    credits_beyond_the_charges_carry_forward_instead_of_a_negative_invoice,
    returns_beyond_the_earnings_carry_forward_and_a_payout_is_never_negative,
    an_agency_has_one_statement_per_period_however_often_billing_runs,
    the_agency_dashboard_earned_agrees_with_its_statements,
    the_dispute_pages_name_the_lead_by_capture_date_segment_and_contact,
    the_buyer_invoices_page_explains_what_is_owed_and_what_is_open,
);

/// A signed-in browser for a buyer made by `BuyerBuilder`.
async fn buyer_browser(app: &TestApp, buyer_id: &str) -> crate::helpers::Browser {
    let org = app.with_conn(|c| store::organisations::find(c, buyer_id).unwrap());
    let email = app.user(&org, Role::Buyer);
    let b = app.browser();
    b.login(&email).await;
    b
}

/// An agency with `n` leads bought by one buyer; returns (agency, buyer, lead ids).
async fn sold(app: &TestApp, n: usize, from: usize) -> (Agency, Buyer, Vec<String>) {
    let agency = AgencyBuilder::new("Acme Leads").create(app).await;
    let buyer = BuyerBuilder::new("Keystone")
        .credit(100_000_000)
        .create(app)
        .await;
    let ids = more_leads(app, &agency, &buyer, n, from).await;
    (agency, buyer, ids)
}

async fn more_leads(
    app: &TestApp,
    agency: &Agency,
    buyer: &Buyer,
    n: usize,
    from: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in from..from + n {
        ids.push(LeadBuilder::new(i).post(app, &agency.token).await);
    }
    PurchaseBuilder::of(&ids).post(app, &buyer.token).await;
    ids
}

/// Approves a return of `lead` at once: the agency flagged it after sale.
fn approved_return(app: &TestApp, buyer_id: &str, lead: &str) {
    app.with_conn(|c| {
        store::leads::add_flag(c, lead, "agency_flagged").unwrap();
        let d = disputes::open(
            c,
            &Settings::from(&*app.state.config()),
            buyer_id,
            Some(lead),
            None,
            "bot",
            "nobody by that name",
            Actor {
                kind: DisputeActor::Buyer,
                user_id: None,
            },
            store::now(),
        )
        .unwrap();
        assert_eq!(d.status.as_str(), "approved");
    });
}

/// A month after this one: its run bills everything up to now.
fn next_month() -> Period {
    Period::containing(this_month().end + chrono::TimeDelta::days(1))
}

async fn an_invoice_names_its_seller_and_how_to_pay_it(app: &TestApp) {
    let (buyer, id, _) = an_issued_invoice(app).await;
    let invoice = app.with_conn(|c| store::invoices::find(c, &id).unwrap());
    let number = invoice.number.clone().unwrap();
    let (status, page) = buyer_browser(app, &buyer)
        .await
        .get_text(&format!("/invoices/{id}"))
        .await;
    assert_eq!(status, 200);
    for expected in [
        "Leadmarket Operations GmbH",
        "Friedrichstrasse 1",
        "10117 Berlin",
        "DE999999999",
        "DE02 1001 0010 0006 8201 01",
        "PBNKDEFF",
        "invoice-print.css",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert!(
        page.contains(&format!("<dt>Reference</dt><dd>{number}</dd>")),
        "the invoice number is the reference: {page}"
    );
    // Dates people read, and the period as a month.
    assert!(page.contains(&this_month().label()), "{page}");
    let issued = invoice.issued_at.unwrap().format("%-d %B %Y").to_string();
    assert!(page.contains(&issued), "{issued} in {page}");
    assert!(!page.contains("not configured"), "{page}");
    // Lines say what was bought in words, not a file name.
    assert!(page.contains("Leads bought: Travel"), "{page}");
    assert!(!page.contains(".csv ("), "{page}");
    let (status, css) = app
        .browser()
        .get_text("/static/css/invoice-print.css")
        .await;
    assert_eq!(status, 200);
    assert!(css.contains("@page"));
    // The mail names the account too.
    let mail = app.with_conn(|c| {
        use diesel::prelude::*;
        leadmarket::db::schema::outbox::table
            .select(leadmarket::db::schema::outbox::text_body)
            .load::<String>(c)
            .unwrap()
            .join("\n")
    });
    assert!(mail.contains("DE02 1001 0010 0006 8201 01"), "{mail}");
}

async fn an_invoice_without_bank_details_says_so_plainly(app: &TestApp) {
    let (buyer, id, _) = an_issued_invoice(app).await;
    let (_, page) = buyer_browser(app, &buyer)
        .await
        .get_text(&format!("/invoices/{id}"))
        .await;
    assert!(
        page.contains("Bank details for paying this invoice are not configured"),
        "{page}"
    );
    assert!(!page.contains("IBAN"), "{page}");
}

async fn credits_beyond_the_charges_carry_forward_instead_of_a_negative_invoice(app: &TestApp) {
    let (agency, buyer, ids) = sold(app, 10, 0).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app.with_conn(|c| store::invoices::list(c, Some(&buyer.id), false).unwrap())[0]
        .id
        .clone();
    app.with_conn(|c| billing::issue(c, &ctx(app), &draft, &Who::system()))
        .unwrap();
    // Two leads of the issued invoice come back: credits, and nothing bought since.
    approved_return(app, &buyer.id, &ids[0]);
    approved_return(app, &buyer.id, &ids[1]);
    let summary = app
        .with_conn(|c| billing::run(c, &ctx(app), next_month()))
        .unwrap();
    assert_eq!((summary.drafts, summary.credits_carried), (0, 1));
    let invoices = app.with_conn(|c| store::invoices::list(c, Some(&buyer.id), false).unwrap());
    assert_eq!(invoices.len(), 1, "no negative draft");
    assert!(invoices.iter().all(|i| i.total_cents > 0));
    // The next purchases carry the credit: one invoice of 3 leads less the 2 returned.
    more_leads(app, &agency, &buyer, 3, 10).await;
    let summary = app
        .with_conn(|c| billing::run(c, &ctx(app), next_month()))
        .unwrap();
    assert_eq!((summary.drafts, summary.credits_carried), (1, 0));
    let drafts: Vec<_> = app
        .with_conn(|c| store::invoices::list(c, Some(&buyer.id), false).unwrap())
        .into_iter()
        .filter(|i| i.status == InvoiceStatus::Draft)
        .collect();
    assert_eq!(drafts.len(), 1);
    let account = app.with_conn(|c| leadmarket::services::market::account(c, &buyer.id).unwrap());
    assert_eq!(
        drafts[0].subtotal_cents, account.uninvoiced_cents,
        "3 leads less the 2 returned"
    );
    let returned: i64 = app
        .with_conn(|c| {
            store::disputes::list(c, store::disputes::Scope::Buyer(&buyer.id), &[]).unwrap()
        })
        .iter()
        .map(|d| d.amount_cents)
        .sum();
    let lines = app.with_conn(|c| store::invoices::lines_of(c, &drafts[0].id).unwrap());
    let credited: i64 = lines
        .iter()
        .filter(|l| l.description.starts_with("Leads returned"))
        .map(|l| l.amount_cents)
        .sum();
    assert_eq!(credited, -returned, "{lines:?}");
    assert!(drafts[0].subtotal_cents > 0);
    assert_ledger_balanced(app);
}

async fn returns_beyond_the_earnings_carry_forward_and_a_payout_is_never_negative(app: &TestApp) {
    let (agency, buyer, ids) = sold(app, 10, 0).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let first = app.with_conn(|c| store::statements::list(c, Some(&agency.org.id), true).unwrap());
    assert_eq!(first.len(), 1);
    app.with_conn(|c| {
        billing::mark_payout(c, &Who::system(), &first[0].id, store::now(), "PAYOUT-1")
    })
    .unwrap();
    // Two returns after the payout: the agency owes them back.
    approved_return(app, &buyer.id, &ids[0]);
    approved_return(app, &buyer.id, &ids[1]);
    let summary = app
        .with_conn(|c| billing::run(c, &ctx(app), next_month()))
        .unwrap();
    assert_eq!((summary.statements, summary.debts_carried), (0, 1));
    assert!(
        app.with_conn(|c| store::statements::list(c, None, false).unwrap())
            .iter()
            .all(|s| s.net_cents > 0),
        "no negative statement"
    );
    // The next sales pay the debt off first.
    more_leads(app, &agency, &buyer, 3, 10).await;
    let summary = app
        .with_conn(|c| billing::run(c, &ctx(app), next_month()))
        .unwrap();
    assert_eq!((summary.statements, summary.debts_carried), (1, 0));
    let open = app.with_conn(|c| store::statements::list(c, Some(&agency.org.id), true).unwrap());
    assert_eq!(open.len(), 1);
    let payable = app
        .with_conn(|c| store::ledger::balance(c, "agency_payable", Some(&agency.org.id)).unwrap());
    assert_eq!(open[0].net_cents, -payable, "3 sales less the 2 returns");
    assert!(
        open[0].net_cents > 0 && open[0].returns_cents > 0,
        "{open:?}"
    );
    // A statement with nothing payable (from before this rule) has no Paid button and
    // is refused.
    let mut old = open[0].clone();
    old.id = store::new_id();
    old.period_start = this_month().start - chrono::TimeDelta::days(40);
    old.net_cents = -500;
    app.with_conn(|c| store::statements::insert(c, &old).unwrap());
    assert!(
        app.with_conn(|c| billing::mark_payout(
            c,
            &Who::system(),
            &old.id,
            store::now(),
            "PAYOUT-X"
        ))
        .is_err()
    );
    let (_, finance) = app.member(Role::Finance, "Platform");
    let desk = app.browser();
    desk.login(&finance).await;
    let (_, page) = desk.get_text("/finance/payouts").await;
    assert!(
        !page.contains(&format!("/finance/statements/{}/paid", old.id)),
        "{page}"
    );
    assert!(page.contains(&format!("/finance/statements/{}/paid", open[0].id)));
    assert!(page.contains("nothing to pay: carried forward"), "{page}");
    app.with_conn(|c| store::statements::delete(c, &old.id).unwrap());
    assert_ledger_balanced(app);
}

async fn an_agency_has_one_statement_per_period_however_often_billing_runs(app: &TestApp) {
    let (agency, buyer, _) = sold(app, 2, 0).await;
    let period = this_month();
    app.with_conn(|c| billing::run(c, &ctx(app), period))
        .unwrap();
    more_leads(app, &agency, &buyer, 2, 10).await;
    app.with_conn(|c| billing::run(c, &ctx(app), period))
        .unwrap();
    let statements =
        app.with_conn(|c| store::statements::list(c, Some(&agency.org.id), false).unwrap());
    assert_eq!(statements.len(), 1, "rebuilt, not doubled: {statements:?}");
    let payable = app
        .with_conn(|c| store::ledger::balance(c, "agency_payable", Some(&agency.org.id)).unwrap());
    assert_eq!(statements[0].net_cents, -payable, "all four sales");
    // Paid out, then more sales and another run of the same month: still one statement
    // for the month; the new sales wait for the next one.
    app.with_conn(|c| {
        billing::mark_payout(c, &Who::system(), &statements[0].id, store::now(), "P-1")
    })
    .unwrap();
    more_leads(app, &agency, &buyer, 1, 20).await;
    app.with_conn(|c| billing::run(c, &ctx(app), period))
        .unwrap();
    let statements =
        app.with_conn(|c| store::statements::list(c, Some(&agency.org.id), false).unwrap());
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(statements[0].status, StatementStatus::Paid);
    app.with_conn(|c| billing::run(c, &ctx(app), next_month()))
        .unwrap();
    let labels: Vec<String> = app
        .with_conn(|c| store::statements::list(c, Some(&agency.org.id), false).unwrap())
        .iter()
        .map(|s| Period::containing(s.period_start).label())
        .collect();
    assert_eq!(labels, [next_month().label(), period.label()]);
    assert_ledger_balanced(app);
}

async fn the_agency_dashboard_earned_agrees_with_its_statements(app: &TestApp) {
    let (agency, _, _) = sold(app, 3, 0).await;
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let statement = app
        .with_conn(|c| store::statements::list(c, Some(&agency.org.id), true).unwrap())
        .remove(0);
    app.with_conn(|c| billing::mark_payout(c, &Who::system(), &statement.id, store::now(), "P-1"))
        .unwrap();
    let net = leadmarket::web::money(statement.net_cents, &app.state.config().currency);
    let b = app.browser();
    b.login(&agency.email).await;
    let (_, page) = b.get_text("/dashboard").await;
    assert!(page.contains("Earned all time"), "{page}");
    assert!(
        page.contains(&format!("<span class=\"stat-value\">{net}</span>")),
        "earned {net} as on the statement: {page}"
    );
    assert!(page.contains(&format!("net: {net} paid out")), "{page}");
    let (_, statements) = b.get_text("/statements").await;
    assert!(statements.contains(&net), "{statements}");
}

async fn the_dispute_pages_name_the_lead_by_capture_date_segment_and_contact(app: &TestApp) {
    let (agency, buyer, ids) = sold(app, 5, 0).await;
    approved_return(app, &buyer.id, &ids[0]);
    let lead = app
        .with_conn(|c| store::disputes::disputed_leads(c, &ids[..1]).unwrap())
        .remove(0);
    let captured = lead.captured_at.format("%-d %b %Y").to_string();
    let phone = lead.phone.clone().unwrap();
    let (_, page) = buyer_browser(app, &buyer.id)
        .await
        .get_text("/disputes")
        .await;
    assert!(
        page.contains(&format!("captured {captured}, Travel")),
        "{page}"
    );
    assert!(page.contains("Ann0 Lee") && page.contains(&phone), "{page}");
    let b = app.browser();
    b.login(&agency.email).await;
    let (_, page) = b.get_text("/agency/disputes").await;
    assert!(
        page.contains(&format!("captured {captured}, Travel")),
        "{page}"
    );
}

async fn the_buyer_invoices_page_explains_what_is_owed_and_what_is_open(app: &TestApp) {
    let (buyer, _, total) = an_issued_invoice(app).await;
    let c = app.state.config().currency.clone();
    let owed = app.with_conn(|conn| store::credit::buyer_account(conn, &buyer).unwrap().1);
    let (_, page) = buyer_browser(app, &buyer).await.get_text("/invoices").await;
    assert!(page.contains("<dt>You owe</dt>"), "{page}");
    assert!(page.contains("<dt>Open on your invoices</dt>"), "{page}");
    assert!(
        page.contains(&leadmarket::web::money(owed, &c))
            && page.contains(&leadmarket::web::money(total, &c)),
        "{page}"
    );
    assert!(page.contains("You owe = open on your invoices + not invoiced yet"));
}
