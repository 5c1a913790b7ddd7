//! Consumers' rights end to end: a person asks about an email (a one-time link is mailed)
//! or a phone (an admin confirms it), sees the agency that holds it and the buyers that
//! bought it, and erases it; afterwards no table holds the contact, billing adds up as
//! before, buyers are told (mail and a signed `lead.erased` callback), the person is
//! suppressed, and the link opens nothing. Unknown contacts get the same answer;
//! retention erases old leads on a clock the test sets.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use leadmarket::db::AnyConnection;
use leadmarket::db::schema::{
    audit_events, leads, ledger_entries, outbox, purchases, rights_requests,
};
use leadmarket::domain::Role;
use leadmarket::domain::audit::Who;
use leadmarket::domain::standing_order::{DeliveryChannel, callback};
use leadmarket::mail::SentMail;
use leadmarket::services::{billing, rights};
use leadmarket::store::{self, deliveries::DeliveryRow};
use serde_json::{Value, json};

use crate::builders::{
    AgencyBuilder, BuyerBuilder, LeadBuilder, PurchaseBuilder, StandingOrderBuilder,
};
use crate::helpers::{Browser, TestApp, csrf_from, ctx, this_month};
use crate::on_both_backends;

// No dedup window: the test's people may be listed again after erasure, and only the
// suppression list refuses them.
on_both_backends!(with [("DEDUP_DAYS", "0"), ("CALLBACK_ALLOW_PRIVATE", "true")] =>
    a_person_sees_who_holds_and_bought_their_email_and_erases_it_from_every_table,
);

on_both_backends!(
    an_unknown_contact_gets_the_same_answer_as_a_known_one,
    a_phone_request_waits_for_an_admin_who_confirms_sees_and_erases_it,
    retention_erases_leads_captured_before_the_period_on_the_clock_it_is_given,
);

on_both_backends!(with [("LOGIN_MAX_FAILURES", "2")] =>
    asking_again_and_again_about_one_contact_is_throttled,
);

const EMAIL: &str = "mia.rights@example.com";
const PHONE: &str = "+447911155555";
const PHONE_DIGITS: &str = "447911155555";
const STREET: &str = "17 Lighthouse Lane";
const SECRET: &str = "rights-test-secret-0123456789";

async fn ask(b: &Browser, contact: &str, country: &str) -> (u16, String) {
    let csrf = b.csrf("/my-data").await;
    let resp = b
        .post_form(
            "/my-data",
            &[
                ("csrf_token", csrf.as_str()),
                ("contact", contact),
                ("country", country),
            ],
        )
        .await;
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn mail_to(app: &TestApp, to: &str) -> SentMail {
    mail_about(app, to, "").await
}

/// The first mail to `to` whose subject starts with `subject`, once it is sent.
async fn mail_about(app: &TestApp, to: &str, subject: &str) -> SentMail {
    for _ in 0..100 {
        if let Some(m) = app
            .state
            .mailer
            .sent()
            .into_iter()
            .find(|m| m.to == to && m.subject.starts_with(subject))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail to {to} about {subject}");
}

fn link_path(mail: &SentMail) -> String {
    let start = mail.text.find("/my-data/link?token=").expect("a link");
    mail.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// What the receiver got: (signature header, body) per callback.
type Hits = Mutex<Vec<(String, Vec<u8>)>>;

/// Invoices (id, status, total), ledger entries (account, amount) and the ledger's total.
type Books = (Vec<(String, String, i64)>, Vec<(String, i64)>, i64);

/// A buyer's system receiving callbacks, recording (signature, body).
struct Receiver {
    port: u16,
    hits: Arc<Hits>,
    server: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: web::Bytes, hits: web::Data<Hits>) -> HttpResponse {
    let signature = req
        .headers()
        .get(callback::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    hits.lock().unwrap().push((signature, body.to_vec()));
    HttpResponse::Ok().finish()
}

impl Receiver {
    fn start() -> Receiver {
        let hits: Arc<Hits> = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::from(hits.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            port,
            hits,
            server: handle,
        }
    }

    /// The first body whose `event` is `event`, with its signature.
    async fn event(&self, event: &str) -> (String, Vec<u8>) {
        for _ in 0..200 {
            let found = self
                .hits
                .lock()
                .unwrap()
                .iter()
                .find(|(_, b)| {
                    serde_json::from_slice::<Value>(b).is_ok_and(|v| v["event"] == event)
                })
                .cloned();
            if let Some(hit) = found {
                return hit;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no {event} callback");
    }
}

/// Every place in the database that holds `needle`, as `table.column`: every table and
/// every column, text or not (blobs are searched as bytes).
fn places_holding(conn: &mut AnyConnection, needle: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        data_type: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let quoted = needle.replace('\'', "''");
    let mut found = Vec::new();
    match conn {
        AnyConnection::Sqlite(c) => {
            let tables: Vec<Name> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .load(c)
            .unwrap();
            assert!(tables.len() > 30, "every table is listed");
            for t in tables {
                let cols: Vec<Name> =
                    diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", t.name))
                        .load(c)
                        .unwrap();
                for col in cols {
                    let hit: Count = diesel::sql_query(format!(
                        "SELECT COUNT(*) AS n FROM \"{}\" WHERE instr(CAST(\"{}\" AS BLOB), CAST('{quoted}' AS BLOB)) > 0 OR instr(lower(CAST(\"{}\" AS TEXT)), lower('{quoted}')) > 0",
                        t.name, col.name, col.name
                    ))
                    .get_result(c)
                    .unwrap();
                    if hit.n > 0 {
                        found.push(format!("{}.{}", t.name, col.name));
                    }
                }
            }
        }
        AnyConnection::Postgresql(c) => {
            let cols: Vec<Column> = diesel::sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type \
                 FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')",
            )
            .load(c)
            .unwrap();
            assert!(cols.len() > 200, "every column is listed");
            for col in cols {
                let test = if col.data_type == "bytea" {
                    format!(
                        "position(convert_to('{quoted}', 'UTF8') in \"{}\") > 0",
                        col.column_name
                    )
                } else {
                    format!(
                        "strpos(lower(\"{}\"::text), lower('{quoted}')) > 0",
                        col.column_name
                    )
                };
                let hit: Count = diesel::sql_query(format!(
                    "SELECT COUNT(*) AS n FROM \"{}\" WHERE {test}",
                    col.table_name
                ))
                .get_result(c)
                .unwrap();
                if hit.n > 0 {
                    found.push(format!("{}.{}", col.table_name, col.column_name));
                }
            }
        }
    }
    found
}

/// What billing looks like: every invoice's number, status and total, and every ledger
/// entry's account and amount.
fn books(app: &TestApp) -> Books {
    app.with_conn(|c| {
        let mut invoices: Vec<(String, String, i64)> = store::invoices::list(c, None, false)
            .unwrap()
            .into_iter()
            .map(|i| (i.id, i.status.to_string(), i.total_cents))
            .collect();
        invoices.sort();
        let mut entries: Vec<(String, i64)> = ledger_entries::table
            .select((ledger_entries::account, ledger_entries::amount_cents))
            .load(c)
            .unwrap();
        entries.sort();
        let (total, unbalanced) = store::ledger::trial_balance(c).unwrap();
        assert!(unbalanced.is_empty(), "{unbalanced:?}");
        (invoices, entries, total)
    })
}

async fn wait_for_outbox(app: &TestApp, template: &str) {
    for _ in 0..200 {
        let n: i64 = app.with_conn(|c| {
            outbox::table
                .filter(outbox::template.eq(template))
                .count()
                .get_result(c)
                .unwrap()
        });
        if n > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {template} mail in the outbox");
}

async fn a_person_sees_who_holds_and_bought_their_email_and_erases_it_from_every_table(
    app: &TestApp,
) {
    let receiver = Receiver::start();
    let agency = AgencyBuilder::new("Harbour Leads").create(app).await;
    let other_agency = AgencyBuilder::new("Quiet Leads").create(app).await;
    let (first, first_login) = BuyerBuilder::new("First Buyer")
        .credit(10_000_000)
        .create_with_login(app)
        .await;
    let second = BuyerBuilder::new("Second Buyer")
        .credit(10_000_000)
        .create(app)
        .await;
    let lead = LeadBuilder::new(1)
        .email(EMAIL)
        .phone(PHONE)
        .set("street", STREET)
        .set("comment", format!("call {PHONE} after six"))
        .set("preferred_call_time", "evenings")
        .set("ip", "203.0.113.7")
        .post(app, &agency.token)
        .await;
    let other_lead = LeadBuilder::new(2)
        .set("street", "3 Other Street")
        .post(app, &other_agency.token)
        .await;
    // The same person rejected once (too young), typed in national form: a rejected row.
    let (status, _) = app
        .post_json(
            "/api/v1/leads",
            &other_agency.token,
            &LeadBuilder::new(3)
                .email(&EMAIL.to_uppercase())
                .phone("07911 155555")
                .country("GB")
                .age(12)
                .json(),
        )
        .await;
    assert_eq!(status, 422);
    PurchaseBuilder::of([&lead, &other_lead])
        .post(app, &first.token)
        .await;
    let second_purchase = PurchaseBuilder::of([&lead]).post(app, &second.token).await;
    let second_purchase = second_purchase["purchases"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The second buyer's standing order took it: it mails the lead and has a callback.
    let second_org = app.with_conn(|c| store::organisations::find(c, &second.id).unwrap());
    let order = StandingOrderBuilder::new(&second_org)
        .inactive()
        .deliver_email("crm@second.example")
        .callback_url(&format!("http://127.0.0.1:{}/hook", receiver.port))
        .secret(SECRET)
        .insert(app);
    app.with_conn(|c| {
        diesel::update(purchases::table.find(&second_purchase))
            .set(purchases::standing_order_id.eq(&order.id))
            .execute(c)
            .unwrap();
        store::deliveries::enqueue(
            c,
            &[DeliveryRow::pending(
                &order.id,
                &second_purchase,
                &lead,
                &second.id,
                DeliveryChannel::Email,
                store::now(),
            )],
        )
        .unwrap();
    });
    wait_for_outbox(app, "lead_delivered").await;
    assert!(
        !app.with_conn(|c| places_holding(c, EMAIL)).is_empty(),
        "the search finds the contact before erasure"
    );
    app.with_conn(|c| billing::run(c, &ctx(app), this_month()))
        .unwrap();
    let draft = app
        .with_conn(|c| store::invoices::list(c, Some(&first.id), false))
        .unwrap()
        .remove(0);
    app.with_conn(|c| billing::issue(c, &ctx(app), &draft.id, &Who::system()))
        .unwrap();
    let books_before = books(app);

    // The person asks and follows the mailed link.
    let person = app.browser();
    let (status, page) = ask(&person, " Mia.Rights@Example.com ", "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("If we hold data about this email address"),
        "{page}"
    );
    let mail = mail_to(app, EMAIL).await;
    assert_eq!(mail.subject, "Your data at leadmarket");
    let path = link_path(&mail);
    let (status, page) = person.get_text(&path).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("data-test=\"agency\"").count(), 1, "{page}");
    assert!(page.contains("Harbour Leads"), "{page}");
    assert!(
        page.contains("First Buyer") && page.contains("Second Buyer"),
        "{page}"
    );
    assert!(page.contains("web_form") && page.contains("“ok”"), "{page}");
    assert!(!page.contains("Quiet Leads"), "no one else's leads: {page}");
    assert!(!page.contains("ann2@example.com"), "{page}");

    // Erase.
    let token = path.split("token=").nth(1).unwrap().to_string();
    let csrf = csrf_from(&page).unwrap();
    let resp = person
        .post_form(
            "/my-data/erase",
            &[("csrf_token", csrf.as_str()), ("token", token.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let done = resp.text().await.unwrap();
    assert!(done.contains("data-count=\"1\""), "{done}");

    // No table holds the contact any more.
    for needle in [EMAIL, PHONE_DIGITS, STREET] {
        let places = app.with_conn(|c| places_holding(c, needle));
        assert!(places.is_empty(), "{needle} is still in {places:?}");
    }
    // Other people's data is untouched.
    let (email, street, status): (Option<String>, Option<String>, String) = app.with_conn(|c| {
        leads::table
            .find(&other_lead)
            .select((leads::email, leads::street, leads::status))
            .first(c)
            .unwrap()
    });
    assert_eq!(email.as_deref(), Some("ann2@example.com"));
    assert_eq!(street.as_deref(), Some("3 Other Street"));
    assert_eq!(status, "available");
    let erased_status: String = app.with_conn(|c| {
        leads::table
            .find(&lead)
            .select(leads::status)
            .first(c)
            .unwrap()
    });
    assert_eq!(erased_status, "erased");
    // Billing adds up exactly as before.
    assert_eq!(books(app), books_before);

    // Buyers are told: a mail to each, and the signed callback of the order that took it.
    let (signature, body) = receiver.event("lead.erased").await;
    assert!(
        callback::verify(SECRET, &signature, &body),
        "signed like lead.delivered"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({"event": "lead.erased", "purchase_id": second_purchase, "lead_id": lead})
    );
    let erased_mail = mail_about(app, &first_login, "Delete").await;
    assert!(
        erased_mail.subject.starts_with("Delete 1 bought lead"),
        "{}",
        erased_mail.subject
    );
    assert!(erased_mail.text.contains(&lead));

    // The buyer's list and file show the lead erased, without the contact.
    let (status, list) = app.get_json("/api/v1/purchases", &first.token).await;
    assert_eq!(status, 200);
    let item = |id: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["lead_id"] == id)
            .unwrap()
            .clone()
    };
    let gone = item(&lead);
    assert_eq!(gone["erased"], true);
    for field in ["first_name", "last_name", "email", "phone", "street"] {
        assert!(gone[field].is_null(), "{field}: {gone}");
    }
    assert_eq!(item(&other_lead)["erased"], false);
    assert_eq!(item(&other_lead)["email"], "ann2@example.com");
    let csv = app
        .get_as(&first.token, "/api/v1/purchases.csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",captured_at,erased"),
        "{csv}"
    );
    let row = csv.lines().find(|l| l.contains(&lead)).unwrap();
    assert!(row.ends_with(",true"), "{row}");
    assert!(!csv.contains(EMAIL));

    // The link is single-use.
    let (status, again) = person.get_text(&path).await;
    assert_eq!(status, 410);
    assert!(again.contains("This link no longer works"), "{again}");
    let resp = person
        .post_form(
            "/my-data/erase",
            &[("csrf_token", csrf.as_str()), ("token", token.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 410);

    // Uploaded again, by any agency, the person is refused as suppressed.
    for builder in [
        LeadBuilder::new(5).email(EMAIL),
        LeadBuilder::new(6).email("MIA.Rights@example.com"),
        LeadBuilder::new(7).phone(PHONE),
    ] {
        let (status, body) = app
            .post_json("/api/v1/leads", &other_agency.token, &builder.json())
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "suppressed", "{body}");
    }

    // The audit log has the request and the erasure, with the address and the count.
    let audit: Vec<(String, String, Option<String>, i32)> = app.with_conn(|c| {
        audit_events::table
            // Sign-ins and billing are logged too; this test is about personal data.
            .filter(audit_events::action.like("rights_%"))
            .order(audit_events::created_at.asc())
            .select((
                audit_events::action,
                audit_events::actor,
                audit_events::address,
                audit_events::leads,
            ))
            .load(c)
            .unwrap()
    });
    assert_eq!(
        audit,
        vec![
            (
                "rights_requested".into(),
                "consumer".into(),
                Some("127.0.0.1".into()),
                1
            ),
            (
                "rights_erased".into(),
                "consumer".into(),
                Some("127.0.0.1".into()),
                1
            ),
        ]
    );
    receiver.server.stop(false).await;
}

/// A page's text without its CSRF token (which differs per session).
fn without_csrf(html: &str) -> String {
    match csrf_from(html) {
        Some(token) => html.replace(&token, ""),
        None => html.to_string(),
    }
}

async fn an_unknown_contact_gets_the_same_answer_as_a_known_one(app: &TestApp) {
    let agency = AgencyBuilder::new("Harbour Leads").create(app).await;
    LeadBuilder::new(1)
        .email(EMAIL)
        .phone(PHONE)
        .post(app, &agency.token)
        .await;
    let known = ask(&app.browser(), EMAIL, "").await;
    let unknown = ask(&app.browser(), "nobody-here@example.com", "").await;
    assert_eq!(known.0, 200);
    assert_eq!(known.0, unknown.0);
    assert_eq!(without_csrf(&known.1), without_csrf(&unknown.1));
    let known_phone = ask(&app.browser(), "07911 155555", "GB").await;
    let unknown_phone = ask(&app.browser(), "+447911166666", "").await;
    assert_eq!(known_phone.0, 200);
    assert_eq!(known_phone.0, unknown_phone.0);
    assert_eq!(without_csrf(&known_phone.1), without_csrf(&unknown_phone.1));
    assert_ne!(
        without_csrf(&known.1),
        without_csrf(&known_phone.1),
        "the phone answer says no text is sent"
    );

    // The same work: a request each; the only difference is the mail to a known address.
    let requests: i64 = app.with_conn(|c| rights_requests::table.count().get_result(c).unwrap());
    assert_eq!(requests, 4);
    mail_to(app, EMAIL).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !app.state
            .mailer
            .sent()
            .iter()
            .any(|m| m.to == "nobody-here@example.com"),
        "an unknown address gets no mail"
    );
    // Unreadable input is named, and is the only answer that differs.
    let (status, page) = ask(&app.browser(), "not a contact", "").await;
    assert_eq!(status, 422);
    assert!(page.contains("not a phone number we can read"), "{page}");
}

async fn a_phone_request_waits_for_an_admin_who_confirms_sees_and_erases_it(app: &TestApp) {
    let agency = AgencyBuilder::new("Harbour Leads").create(app).await;
    let buyer = BuyerBuilder::new("First Buyer")
        .credit(10_000_000)
        .create(app)
        .await;
    let lead = LeadBuilder::new(1)
        .email(EMAIL)
        .phone(PHONE)
        .set("street", STREET)
        .post(app, &agency.token)
        .await;
    PurchaseBuilder::of([&lead]).post(app, &buyer.token).await;

    let (status, page) = ask(&app.browser(), "07911 155555", "gb").await;
    assert_eq!(status, 200);
    assert!(page.contains("call this number back"), "{page}");

    let (_, admin_email) = app.member(Role::Admin, "Platform");
    let admin = app.browser();
    admin.login(&admin_email).await;
    let (status, queue) = admin.get_text("/admin/my-data-requests").await;
    assert_eq!(status, 200);
    assert!(queue.contains(PHONE), "{queue}");
    let at = queue.find("data-test=\"request\" data-id=\"").unwrap();
    let id = queue[at + "data-test=\"request\" data-id=\"".len()..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let request_page = format!("/admin/my-data-requests/{id}");
    // Nothing is shown before an admin confirms.
    let (status, _) = admin.get_text(&request_page).await;
    assert_eq!(status, 409);
    // Other people cannot reach the queue.
    let (_, buyer_email) = app.member(Role::Buyer, "Nosy Buyer");
    let nosy = app.browser();
    nosy.login(&buyer_email).await;
    assert_eq!(nosy.get("/admin/my-data-requests").await.status(), 403);

    let csrf = csrf_from(&queue).unwrap();
    let resp = admin
        .post_form(
            &format!("{request_page}/confirm"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let (status, shown) = admin.get_text(&request_page).await;
    assert_eq!(status, 200, "{shown}");
    assert!(
        shown.contains("Harbour Leads") && shown.contains("First Buyer"),
        "{shown}"
    );
    let resp = admin
        .post_form(
            &format!("{request_page}/erase"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("data-count=\"1\""));

    for needle in [EMAIL, PHONE_DIGITS, STREET] {
        let places = app.with_conn(|c| places_holding(c, needle));
        assert!(places.is_empty(), "{needle} is still in {places:?}");
    }
    let (_, queue) = admin.get_text("/admin/my-data-requests").await;
    assert!(!queue.contains(&id), "the request left the queue");
    // Erasing twice is refused.
    let resp = admin
        .post_form(
            &format!("{request_page}/erase"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 404);
    let (status, body) = app
        .post_json(
            "/api/v1/leads",
            &agency.token,
            &LeadBuilder::new(2).phone(PHONE).json(),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "suppressed");

    let admin_id = app.with_conn(|c| {
        store::users::find_active_by_email(c, &admin_email)
            .unwrap()
            .unwrap()
            .id
    });
    let audit: Vec<(String, String, Option<String>, i32)> = app.with_conn(|c| {
        audit_events::table
            // Sign-ins and billing are logged too; this test is about personal data.
            .filter(audit_events::action.like("rights_%"))
            .order(audit_events::created_at.asc())
            .select((
                audit_events::action,
                audit_events::actor,
                audit_events::user_id,
                audit_events::leads,
            ))
            .load(c)
            .unwrap()
    });
    assert_eq!(
        audit,
        vec![
            ("rights_requested".into(), "consumer".into(), None, 1),
            (
                "rights_confirmed".into(),
                "admin".into(),
                Some(admin_id.clone()),
                1
            ),
            ("rights_erased".into(), "admin".into(), Some(admin_id), 1),
        ]
    );
    let (status, log) = admin.get_text("/admin/audit").await;
    assert_eq!(status, 200);
    // The admin's sign-in is an entry too.
    assert_eq!(log.matches("data-action=\"rights_").count(), 3, "{log}");
    assert!(!log.contains(PHONE_DIGITS));
}

async fn retention_erases_leads_captured_before_the_period_on_the_clock_it_is_given(app: &TestApp) {
    let agency = AgencyBuilder::new("Harbour Leads").create(app).await;
    let (buyer, buyer_login) = BuyerBuilder::new("First Buyer")
        .credit(10_000_000)
        .create_with_login(app)
        .await;
    let old = LeadBuilder::new(1)
        .email(EMAIL)
        .phone(PHONE)
        .set("street", STREET)
        .post(app, &agency.token)
        .await;
    let fresh = LeadBuilder::new(2).post(app, &agency.token).await;
    PurchaseBuilder::of([&old]).post(app, &buyer.token).await;
    // Captured just over the default 1095 days ago.
    let now = store::now();
    app.with_conn(|c| {
        diesel::update(leads::table.find(&old))
            .set(leads::captured_at.eq(now - chrono::TimeDelta::days(1096)))
            .execute(c)
            .unwrap()
    });
    assert_eq!(app.state.config().retention_days, 1095);
    let settings = rights::Settings::from(&*app.state.config());
    let n = app
        .with_conn(|c| rights::erase_past_retention(c, &settings, now))
        .unwrap();
    assert_eq!(n, 1);
    let status = |id: &str| -> (String, Option<String>) {
        app.with_conn(|c| {
            leads::table
                .find(id)
                .select((leads::status, leads::email))
                .first(c)
                .unwrap()
        })
    };
    assert_eq!(status(&old), ("erased".into(), None));
    assert_eq!(status(&fresh).0, "available");
    for needle in [EMAIL, PHONE_DIGITS, STREET] {
        let places = app.with_conn(|c| places_holding(c, needle));
        assert!(places.is_empty(), "{needle} is still in {places:?}");
    }
    let mail = mail_about(app, &buyer_login, "Delete").await;
    assert!(
        mail.text.contains("end of the retention period"),
        "{}",
        mail.text
    );
    // Run again: nothing more to do today; the fresh lead goes once the clock passes it.
    assert_eq!(
        app.with_conn(|c| rights::erase_past_retention(c, &settings, now))
            .unwrap(),
        0
    );
    let later = now + chrono::TimeDelta::days(1096);
    assert_eq!(
        app.with_conn(|c| rights::erase_past_retention(c, &settings, later))
            .unwrap(),
        1
    );
    assert_eq!(status(&fresh).0, "erased");
    let audit: Vec<(String, String, i32)> = app.with_conn(|c| {
        audit_events::table
            // Sign-ins and billing are logged too; this test is about personal data.
            .filter(audit_events::action.eq("retention_erased"))
            .order(audit_events::created_at.asc())
            .select((
                audit_events::action,
                audit_events::actor,
                audit_events::leads,
            ))
            .load(c)
            .unwrap()
    });
    assert_eq!(
        audit,
        vec![
            ("retention_erased".into(), "system".into(), 1),
            ("retention_erased".into(), "system".into(), 1),
        ]
    );
    // Retention is no objection: the person captured again with fresh consent is sold.
    LeadBuilder::new(3)
        .email(EMAIL)
        .phone(PHONE)
        .post(app, &agency.token)
        .await;
}

async fn asking_again_and_again_about_one_contact_is_throttled(app: &TestApp) {
    for _ in 0..2 {
        assert_eq!(ask(&app.browser(), EMAIL, "").await.0, 200);
    }
    assert_eq!(ask(&app.browser(), EMAIL, "").await.0, 429);
    // Another contact from the same address still may ask.
    assert_eq!(
        ask(&app.browser(), "someone.else@example.com", "").await.0,
        200
    );
}
